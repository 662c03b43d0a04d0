#include "query/identity.h"

#include <algorithm>

namespace quarry::query {

int Identity::GateLevel() const {
  if (system()) {
    return 8;
  }
  auto it = claims.find("level");
  if (it != claims.end() && it->value().is_int64()) {
    return static_cast<int>(std::clamp<int64_t>(it->value().get_int64(), 0, 7));
  }
  if (it != claims.end() && it->value().is_uint64()) {
    return 7;
  }
  return 4;
}

}  // namespace quarry::query
