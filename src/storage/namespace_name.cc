#include "storage/namespace_name.h"

#include <string>

namespace quarry::storage {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

Status ValidateNamespaceName(std::string_view name) {
  if (name.empty()) {
    return Status(ErrorCode::kInvalidName, "namespace name is empty");
  }
  if (name.size() > 63) {
    return Status(ErrorCode::kInvalidName, "namespace name is " + std::to_string(name.size()) +
                                               " characters long; the limit is 63");
  }
  if (!IsLowerAlnum(name[0])) {
    return Status(
        ErrorCode::kInvalidName,
        "namespace name must start with a lower-case letter or digit: '" + std::string(name) + "'");
  }
  for (size_t i = 1; i < name.size(); ++i) {
    char c = name[i];
    if (!IsLowerAlnum(c) && c != '_' && c != '-') {
      return Status(ErrorCode::kInvalidName,
                    "namespace name may only hold a-z, 0-9, '_' and '-'; '" + std::string(name) +
                        "' has an invalid character at position " + std::to_string(i + 1));
    }
  }
  return Status::Ok();
}

}  // namespace quarry::storage
