#include "common/json_text.h"

namespace quarry {

void AppendSerialized(std::string& out, boost::json::serializer& sr) {
  char buf[512];
  while (!sr.done()) {
    boost::json::string_view part = sr.read(buf, sizeof(buf));
    out.append(part.data(), part.size());
  }
}

void AppendJsonString(std::string& out, std::string_view text) {
  boost::json::serializer sr;
  sr.reset(boost::json::string_view(text.data(), text.size()));
  AppendSerialized(out, sr);
}

std::string JsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(out, text);
  return out;
}

}  // namespace quarry
