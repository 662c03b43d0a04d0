#include "protocol/ws_codec.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <limits>

#include "protocol/error_json.h"
#include "protocol/json_body.h"
#include "protocol/protobuf_codec.h"
#include "protocol/response_json.h"

namespace quarry::protocol {
namespace json = boost::json;

namespace {

WsViolation Violation(WsCloseCode code, std::string reason) {
  return WsViolation{code, TruncateCloseReason(std::move(reason))};
}

std::optional<int64_t> AsInt(const json::value* v) {
  if (v == nullptr) {
    return std::nullopt;
  }
  if (v->is_int64()) {
    return v->get_int64();
  }
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

// A WsResponse as Hrana's JSON Response: {"type": "execute", "result": ...} for a stream
// request, {"type": "fetch_cursor", "entries", "done"}, or only the type.
json::object ResponseJson(const WsResponse& response) {
  using Type = WsRequest::Type;
  switch (response.type) {
    case Type::kStream:
      return StreamResponseJson(response.stream);
    case Type::kFetchCursor: {
      json::array entries;
      entries.reserve(response.entries.size());
      for (const CursorEntry& entry : response.entries) {
        entries.push_back(CursorEntryJson(entry));
      }
      return json::object{
          {"type", "fetch_cursor"}, {"entries", std::move(entries)}, {"done", response.done}};
    }
    case Type::kOpenStream:
      return json::object{{"type", "open_stream"}};
    case Type::kCloseStream:
      return json::object{{"type", "close_stream"}};
    case Type::kStoreSql:
      return json::object{{"type", "store_sql"}};
    case Type::kCloseSql:
      return json::object{{"type", "close_sql"}};
    case Type::kOpenCursor:
      return json::object{{"type", "open_cursor"}};
    case Type::kCloseCursor:
      return json::object{{"type", "close_cursor"}};
  }
  return json::object{};
}

Status Invalid(const std::string& what) { return Status(ErrorCode::kInvalidArgument, what); }

// A 32-bit id field ("stream_id"), required.
Result<int32_t> Id(const json::object& obj, std::string_view name, const std::string& where) {
  std::optional<int64_t> v = AsInt(obj.if_contains(name));
  if (!v || *v < std::numeric_limits<int32_t>::min() || *v > std::numeric_limits<int32_t>::max()) {
    return Invalid(where + ": missing 32-bit integer field \"" + std::string(name) + "\"");
  }
  return static_cast<int32_t>(*v);
}

Result<WsRequest> DecodeRequest(const json::value& jv) {
  const std::string where = "request";
  const json::object* obj = jv.if_object();
  if (obj == nullptr) {
    return Invalid(where + ": expected an object, got " + JsonTypeName(jv));
  }
  const json::value* type = obj->if_contains("type");
  if (type == nullptr || !type->is_string()) {
    return Invalid(where + ": missing string field \"type\"");
  }
  WsRequest req;
  req.name = std::string(type->get_string());
  const std::string& t = req.name;
  if (t == "open_stream" || t == "close_stream") {
    req.type = t == "open_stream" ? WsRequest::Type::kOpenStream : WsRequest::Type::kCloseStream;
    QUARRY_ASSIGN_OR_RETURN(req.stream_id, Id(*obj, "stream_id", where));
  } else if (t == "execute" || t == "batch" || t == "sequence" || t == "describe" ||
             t == "get_autocommit") {
    req.type = WsRequest::Type::kStream;
    QUARRY_ASSIGN_OR_RETURN(req.stream_id, Id(*obj, "stream_id", where));
    QUARRY_ASSIGN_OR_RETURN(req.stream, ParseRequest(jv, where));
  } else if (t == "store_sql") {
    req.type = WsRequest::Type::kStoreSql;
    QUARRY_ASSIGN_OR_RETURN(req.sql_id, Id(*obj, "sql_id", where));
    const json::value* sql = obj->if_contains("sql");
    if (sql == nullptr || !sql->is_string()) {
      return Invalid(where + ": store_sql needs a string field \"sql\"");
    }
    req.sql = std::string(sql->get_string());
  } else if (t == "close_sql") {
    req.type = WsRequest::Type::kCloseSql;
    QUARRY_ASSIGN_OR_RETURN(req.sql_id, Id(*obj, "sql_id", where));
  } else if (t == "open_cursor") {
    req.type = WsRequest::Type::kOpenCursor;
    QUARRY_ASSIGN_OR_RETURN(req.stream_id, Id(*obj, "stream_id", where));
    QUARRY_ASSIGN_OR_RETURN(req.cursor_id, Id(*obj, "cursor_id", where));
    const json::value* batch = obj->if_contains("batch");
    if (batch == nullptr) {
      return Invalid(where + ": missing field \"batch\"");
    }
    QUARRY_ASSIGN_OR_RETURN(req.batch, ParseBatch(*batch, where + ".batch"));
  } else if (t == "close_cursor") {
    req.type = WsRequest::Type::kCloseCursor;
    QUARRY_ASSIGN_OR_RETURN(req.cursor_id, Id(*obj, "cursor_id", where));
  } else if (t == "fetch_cursor") {
    req.type = WsRequest::Type::kFetchCursor;
    QUARRY_ASSIGN_OR_RETURN(req.cursor_id, Id(*obj, "cursor_id", where));
    std::optional<int64_t> max_count = AsInt(obj->if_contains("max_count"));
    if (!max_count || *max_count < 0 || *max_count > std::numeric_limits<uint32_t>::max()) {
      return Invalid(where + ": fetch_cursor needs an unsigned 32-bit field \"max_count\"");
    }
    req.max_count = static_cast<uint32_t>(*max_count);
  } else {
    return Status(ErrorCode::kUnknownRequest,
                  where + ": unknown request type \"" + t +
                      "\" (Hrana over WebSocket: open_stream, close_stream, execute, batch, "
                      "sequence, describe, store_sql, close_sql, open_cursor, fetch_cursor, "
                      "close_cursor, get_autocommit)");
  }
  return req;
}

class JsonWsCodec : public WsCodec {
 public:
  std::variant<ClientMsg, WsViolation> Decode(std::string_view frame, bool binary) const override {
    if (binary) {
      return Violation(WsCloseCode::kUnsupportedData,
                       "binary frame under a JSON subprotocol: send messages as text frames");
    }
    // The DOM only lives until it is read into a ClientMsg: its nodes come from a buffer on the
    // stack (and blocks after it for large messages).
    unsigned char buffer[4096];
    json::monotonic_resource arena(buffer, sizeof(buffer));
    Result<json::value> parsed = ParseJsonBody(frame, &arena);
    if (!parsed.ok()) {
      return Violation(WsCloseCode::kInvalidPayload,
                       "message is not valid JSON: " + parsed.status().message());
    }
    const json::object* obj = parsed->if_object();
    if (obj == nullptr) {
      return Violation(WsCloseCode::kPolicy,
                       std::string("message is not a JSON object but ") + JsonTypeName(*parsed));
    }
    const json::value* type = obj->if_contains("type");
    if (type == nullptr || !type->is_string()) {
      return Violation(WsCloseCode::kPolicy, "message has no string field \"type\"");
    }
    ClientMsg msg;
    if (type->get_string() == "hello") {
      msg.type = ClientMsg::Type::kHello;
      const json::value* jwt = obj->if_contains("jwt");
      if (jwt != nullptr && jwt->is_string()) {
        msg.jwt = std::string(jwt->get_string());
      } else if (jwt != nullptr && !jwt->is_null()) {
        return Violation(WsCloseCode::kPolicy, "hello: \"jwt\" must be a string or null");
      }
      return msg;
    }
    if (type->get_string() != "request") {
      return Violation(WsCloseCode::kPolicy, "unknown message type \"" +
                                                 std::string(type->get_string()).substr(0, 32) +
                                                 "\" (expected hello or request)");
    }
    msg.type = ClientMsg::Type::kRequest;
    std::optional<int64_t> id = AsInt(obj->if_contains("request_id"));
    if (!id || *id < std::numeric_limits<int32_t>::min() ||
        *id > std::numeric_limits<int32_t>::max()) {
      return Violation(WsCloseCode::kPolicy, "request has no 32-bit integer \"request_id\"");
    }
    msg.request_id = static_cast<int32_t>(*id);
    const json::value* request = obj->if_contains("request");
    if (request == nullptr) {
      return Violation(WsCloseCode::kPolicy, "request message has no field \"request\"");
    }
    msg.request = DecodeRequest(*request);
    return msg;
  }

  std::string Encode(const ServerMsg& msg, bool& binary) const override {
    binary = false;
    if (msg.type == ServerMsg::Type::kResponseOk && msg.response.type == WsRequest::Type::kStream) {
      // The answer to a stream request, the common case, written without a DOM (the same
      // text the DOM would serialize to).
      std::string text = R"({"type":"response_ok","request_id":)";
      text += std::to_string(msg.request_id);
      text += R"(,"response":)";
      AppendStreamResponse(text, msg.response.stream);
      text += '}';
      return text;
    }
    json::object out;
    switch (msg.type) {
      case ServerMsg::Type::kHelloOk:
        out.emplace("type", "hello_ok");
        break;
      case ServerMsg::Type::kHelloError:
        out.emplace("type", "hello_error");
        out.emplace("error", ErrorJson(msg.error));
        break;
      case ServerMsg::Type::kResponseOk:
        out.emplace("type", "response_ok");
        out.emplace("request_id", msg.request_id);
        out.emplace("response", ResponseJson(msg.response));
        break;
      case ServerMsg::Type::kResponseError:
        out.emplace("type", "response_error");
        out.emplace("request_id", msg.request_id);
        out.emplace("error", ErrorJson(msg.error));
        break;
    }
    return json::serialize(out);
  }
};

}  // namespace

std::string TruncateCloseReason(std::string reason) {
  constexpr size_t kMax = 123;
  if (reason.size() <= kMax) {
    return reason;
  }
  size_t cut = kMax;
  // Back up over continuation bytes so the cut falls before a sequence's first byte.
  while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  reason.resize(cut);
  return reason;
}

Result<WsSubprotocol> NegotiateWsSubprotocol(std::optional<std::string_view> header) {
  if (!header) {
    return WsSubprotocol{"", 1, WsEncoding::kJson};
  }
  struct Known {
    const char* name;
    int version;
    WsEncoding encoding;
  };
  // Most preferred first: protobuf is the more compact encoding of the same Hrana 3.
  static constexpr Known kKnown[] = {
      {"hrana3-protobuf", 3, WsEncoding::kProtobuf},
      {"hrana3", 3, WsEncoding::kJson},
      {"hrana2", 2, WsEncoding::kJson},
      {"hrana1", 1, WsEncoding::kJson},
  };
  auto offered = [&](std::string_view name) {
    std::string_view rest = *header;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) {
        item.remove_prefix(1);
      }
      while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) {
        item.remove_suffix(1);
      }
      if (item.size() == name.size() &&
          std::equal(item.begin(), item.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
          })) {
        return true;
      }
    }
    return false;
  };
  for (const Known& known : kKnown) {
    if (offered(known.name)) {
      return WsSubprotocol{known.name, known.version, known.encoding};
    }
  }
  return Status(ErrorCode::kInvalidArgument,
                "none of the WebSocket subprotocols offered (" +
                    std::string(header->substr(0, 200)) +
                    ") is spoken here; Quarry speaks hrana3-protobuf, hrana3, hrana2 and hrana1");
}

std::unique_ptr<WsCodec> MakeJsonWsCodec() { return std::make_unique<JsonWsCodec>(); }

std::unique_ptr<WsCodec> MakeWsCodec(WsEncoding encoding) {
  switch (encoding) {
    case WsEncoding::kJson:
      return MakeJsonWsCodec();
    case WsEncoding::kProtobuf:
      return MakeProtobufWsCodec();
  }
  return nullptr;
}

}  // namespace quarry::protocol
