// Fuzz target: request bodies from the network, as /v2|v3/pipeline, /v3/cursor and the legacy
// `POST /` read them: ParseJsonBody, then ParsePipelineRequest, ParseCursorRequest and
// ParseLegacyRequest on the same document.
//
// Properties beyond "no crash": ParseJsonBody(serialize(v)) == v for every document it
// accepts (doubles included: the parser promises exact floats), and every parsed request
// satisfies the invariants request.h documents. Documents holding an infinite number (1e999
// parses to infinity) are left out of the round trip: Boost.JSON serializes infinity as
// "Infinity", which is not JSON.

#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "protocol/json_body.h"
#include "protocol/request.h"
#include "request_invariants.h"

namespace {
using namespace quarry::protocol;
using namespace quarry::protocol::fuzz;
namespace json = boost::json;

bool HasNonFinite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return !std::isfinite(v.get_double());
    case json::kind::array:
      for (const json::value& item : v.get_array()) {
        if (HasNonFinite(item)) {
          return true;
        }
      }
      return false;
    case json::kind::object:
      for (const auto& member : v.get_object()) {
        if (HasNonFinite(member.value())) {
          return true;
        }
      }
      return false;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseJsonBody(body);
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty());
    return 0;
  }
  const json::value& doc = *parsed;

  if (!HasNonFinite(doc)) {
    auto reparsed = ParseJsonBody(json::serialize(doc));
    FUZZ_CHECK(reparsed.ok());
    FUZZ_CHECK(*reparsed == doc);
  }

  if (auto pipeline = ParsePipelineRequest(doc); pipeline.ok()) {
    for (const Request& request : pipeline->requests) {
      CheckRequest(request);
    }
  }
  if (auto cursor = ParseCursorRequest(doc); cursor.ok()) {
    CheckBatch(cursor->batch);
  }
  if (auto legacy = ParseLegacyRequest(doc); legacy.ok()) {
    for (const StmtSpec& stmt : legacy->statements) {
      FUZZ_CHECK(stmt.sql.has_value());
    }
  }
  return 0;
}
