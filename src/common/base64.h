#pragma once

// Base64 in the two alphabets Quarry speaks: standard (Hrana blobs) and URL-safe (JWTs,
// batons). Decoding accepts input with or without '=' padding.

#include <optional>
#include <string>
#include <string_view>

namespace quarry {

std::string Base64Encode(std::string_view bytes);     // standard alphabet, padded
std::string Base64UrlEncode(std::string_view bytes);  // URL-safe alphabet, unpadded
// Return nullopt when the input holds a character outside the alphabet or has a bad length.
std::optional<std::string> Base64Decode(std::string_view text);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace quarry
