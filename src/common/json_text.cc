#include "common/json_text.h"

#include <algorithm>
#include <array>
#include <boost/json/detail/format.hpp>

namespace quarry {

void AppendSerialized(std::string& out, boost::json::serializer& sr) {
  char buf[512];
  while (!sr.done()) {
    boost::json::string_view part = sr.read(buf, sizeof(buf));
    out.append(part.data(), part.size());
  }
}

void AppendJsonString(std::string& out, std::string_view text) {
  // The serializer escapes only '"', '\\' and control characters (UTF-8 goes out as it is):
  // text without them, most of it, is copied between the quotes directly.
  static constexpr auto kEscaped = [] {
    std::array<bool, 256> table{};
    for (int c = 0; c < 0x20; ++c) {
      table[c] = true;
    }
    table['"'] = table['\\'] = true;
    return table;
  }();
  bool plain = std::none_of(text.begin(), text.end(),
                            [](char c) { return kEscaped[static_cast<unsigned char>(c)]; });
  if (plain) {
    out += '"';
    out.append(text);
    out += '"';
    return;
  }
  boost::json::serializer sr;
  sr.reset(boost::json::string_view(text.data(), text.size()));
  AppendSerialized(out, sr);
}

void AppendJsonNumber(std::string& out, double value) {
  char buf[boost::json::detail::max_number_chars + 1];
  out.append(buf, boost::json::detail::format_double(buf, value));
}

std::string JsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(out, text);
  return out;
}

}  // namespace quarry
