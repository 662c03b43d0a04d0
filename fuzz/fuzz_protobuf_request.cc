// Fuzz target: request bodies of /v3-protobuf/pipeline and /v3-protobuf/cursor, as the server
// reads them: ParseProtobufPipelineRequest and ParseProtobufCursorRequest on the same bytes.
//
// Properties beyond "no crash": a refusal always says why, and every accepted request satisfies
// the invariants request.h documents (request_invariants.h), as for the JSON parser.

#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "protocol/protobuf_codec.h"
#include "request_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quarry::protocol;
  using namespace quarry::protocol::fuzz;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  if (auto pipeline = ParseProtobufPipelineRequest(body); pipeline.ok()) {
    for (const Request& request : pipeline->requests) {
      CheckRequest(request);
    }
  } else {
    FUZZ_CHECK(!pipeline.status().message().empty());
  }
  if (auto cursor = ParseProtobufCursorRequest(body); cursor.ok()) {
    CheckBatch(cursor->batch);
  } else {
    FUZZ_CHECK(!cursor.status().message().empty());
  }
  return 0;
}
