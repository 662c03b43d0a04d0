#include "server/router.h"

namespace quarry::server {

const std::string& PathParams::Get(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [key, value] : params_) {
    if (key == name) {
      return value;
    }
  }
  return kEmpty;
}

}  // namespace quarry::server
