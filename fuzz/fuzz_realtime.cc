// Fuzz target: the quarry-realtime-v1 client message parser (realtime/hub.h) and the change
// log's record decoder, on raw input.
//
// Properties: a parsed subscribe has a non-empty id of at most 256 bytes and a model, its
// where and select are objects or null; an error names a kInvalidArgument; an error message
// built from the error is JSON. What the log decoder accepts encodes again to text that decodes
// to the same changes.

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "realtime/change_log.h"
#include "realtime/hub.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quarry;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto parsed = realtime::ParseClientMessage(input);
  if (parsed.ok()) {
    if (parsed->type == realtime::ClientMessage::Type::kSubscribe) {
      const auto& s = parsed->subscribe;
      FUZZ_CHECK(!s.id.empty() && s.id.size() <= 256);
      FUZZ_CHECK(!s.model.empty());
      FUZZ_CHECK(s.where.is_object() || s.where.is_null());
      FUZZ_CHECK(s.select.is_object() || s.select.is_null());
    }
    if (parsed->type == realtime::ClientMessage::Type::kUnsubscribe) {
      FUZZ_CHECK(!parsed->subscribe.id.empty());
    }
  } else {
    FUZZ_CHECK(parsed.status().code() == ErrorCode::kInvalidArgument);
    std::string message = realtime::ErrorMessage(std::nullopt, parsed.status());
    boost::system::error_code ec;
    boost::json::parse(message, ec);
    FUZZ_CHECK(!ec);
  }

  if (auto changes = realtime::DecodeChanges(input); changes.ok()) {
    std::string again = realtime::EncodeChanges(*changes);
    auto round = realtime::DecodeChanges(again);
    FUZZ_CHECK(round.ok());
    FUZZ_CHECK(realtime::EncodeChanges(*round) == again);
  }
  return 0;
}
