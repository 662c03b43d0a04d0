#pragma once

// WsCodec: the encoding of Hrana over WebSocket, negotiated as the WebSocket subprotocol:
// JSON (hrana1, hrana2, hrana3; here) or protobuf (hrana3-protobuf; protobuf_codec.h).
//
// Decode turns one frame into a ClientMsg, or into a protocol violation: a frame of the wrong
// kind (binary under JSON, text under protobuf), a payload that is not a message (bad JSON or
// protobuf, unknown or missing "type", a request without an integer "request_id" or without a
// request). The caller closes the socket on those,
// with the close code and reason of the WsViolation. A well-framed request whose body is
// invalid is not a violation: ClientMsg::request holds the error, answered as response_error.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"
#include "protocol/ws_message.h"

namespace quarry::protocol {

// WebSocket close codes (RFC 6455, 7.4.1) that Hrana's errors use.
enum class WsCloseCode : uint16_t {
  kNormal = 1000,
  kGoingAway = 1001,
  kUnsupportedData = 1003,  // a binary frame under a JSON subprotocol, or the reverse
  kInvalidPayload = 1007,   // a frame that does not decode
  kPolicy = 1008,           // any other protocol violation
  kInternal = 1011,
};

// A reason to close the socket: the code and a short reason (at most 123 bytes on the wire;
// longer reasons are cut at a UTF-8 boundary by TruncateCloseReason).
struct WsViolation {
  WsCloseCode code = WsCloseCode::kPolicy;
  std::string reason;
};

// The reason cut to what a close frame carries (123 bytes), never inside a UTF-8 sequence.
std::string TruncateCloseReason(std::string reason);

enum class WsEncoding { kJson, kProtobuf };

struct WsSubprotocol {
  std::string name;  // "hrana3"; empty when the client offered none (then Hrana 1, JSON)
  int version = 1;   // 1, 2 or 3
  WsEncoding encoding = WsEncoding::kJson;
};

// Picks the subprotocol from a Sec-WebSocket-Protocol header (comma-separated, any case): the
// newest this server speaks, protobuf before JSON (hrana3-protobuf, hrana3, hrana2, hrana1).
// No header at all means hrana1 (as sqld). kInvalidArgument naming the supported ones when
// none of the offered is.
Result<WsSubprotocol> NegotiateWsSubprotocol(std::optional<std::string_view> header);

class WsCodec {
 public:
  virtual ~WsCodec() = default;
  virtual std::variant<ClientMsg, WsViolation> Decode(std::string_view frame,
                                                      bool binary) const = 0;
  // The frame for `msg`; `binary` is set to the frame kind to send.
  virtual std::string Encode(const ServerMsg& msg, bool& binary) const = 0;
};

// Hrana's JSON encoding: text frames, messages as in docs/HRANA_3_SPEC.md.
std::unique_ptr<WsCodec> MakeJsonWsCodec();
// The codec of a negotiated subprotocol.
std::unique_ptr<WsCodec> MakeWsCodec(WsEncoding encoding);

}  // namespace quarry::protocol
