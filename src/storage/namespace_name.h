#pragma once

// Namespace names: `[a-z0-9][a-z0-9_-]{0,62}`. A name is also a folder name inside the data
// folder, so the rule keeps paths safe (no dots, slashes or upper case).

#include <string_view>

#include "common/status.h"

namespace quarry::storage {

inline constexpr std::string_view kDefaultNamespace = "default";

// OK when `name` is a valid namespace name; otherwise kInvalidName naming the problem.
Status ValidateNamespaceName(std::string_view name);

}  // namespace quarry::storage
