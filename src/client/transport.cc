#include "client/transport.h"

#include <boost/json.hpp>

#include "common/sqlite_codes.h"

namespace quarry::client {

namespace json = boost::json;

namespace {

class HttpTransport : public Transport {
 public:
  HttpTransport(const ClientUrl& url, std::string token, HttpOptions options)
      : url_(url),
        token_(std::move(token)),
        connection_(url.host, url.port, url.Origin(), options) {}

  Result<std::string> Pipeline(std::string_view body) override {
    QUARRY_ASSIGN_OR_RETURN(
        HttpResponse response,
        connection_.Send("POST", url_.path_prefix + "/v2/pipeline", body, token_));
    if (response.status != 200) {
      return StatusFromErrorBody(response.status, response.body, url_.ToString());
    }
    return std::move(response.body);
  }

  std::string Describe() const override { return url_.ToString(); }

 private:
  ClientUrl url_;
  std::string token_;
  HttpConnection connection_;
};

ErrorCode ErrorCodeFromWire(std::string_view code, int http_status) {
  for (int i = static_cast<int>(ErrorCode::kOk) + 1; i <= static_cast<int>(ErrorCode::kInternal);
       ++i) {
    auto candidate = static_cast<ErrorCode>(i);
    if (candidate != ErrorCode::kSqlite && WireCodeOf(candidate) == code) {
      return candidate;
    }
  }
  switch (http_status) {
    case 400:
      return ErrorCode::kInvalidArgument;
    case 401:
      return ErrorCode::kUnauthorized;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kAlreadyExists;
    case 413:
      return ErrorCode::kPayloadTooLarge;
    case 503:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace

std::unique_ptr<Transport> MakeHttpTransport(const ClientUrl& url, std::string token,
                                             HttpOptions options) {
  return std::make_unique<HttpTransport>(url, std::move(token), options);
}

Status StatusFromErrorJson(std::string_view message, std::string_view code, int raw_code) {
  if (code.substr(0, 7) == "SQLITE_" && code != "SQLITE_INTERRUPT") {
    int sqlite_code = raw_code;
    if (sqlite_code == 0) {
      for (int i = 1; i < 256; ++i) {
        if (SqlitePrimaryCodeName(i) == code) {
          sqlite_code = i;
          break;
        }
      }
    }
    if (sqlite_code != 0) {
      return Status(ErrorCode::kSqlite, std::string(message), sqlite_code);
    }
  }
  return Status(ErrorCodeFromWire(code, 400), std::string(message));
}

Status StatusFromErrorBody(int http_status, std::string_view body, std::string_view where) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (!ec && parsed.is_object()) {
    const json::object& obj = parsed.get_object();
    const json::value* message = obj.if_contains("message");
    const json::value* code = obj.if_contains("code");
    if (message != nullptr && message->is_string()) {
      std::string_view code_text = code != nullptr && code->is_string()
                                       ? std::string_view(code->get_string())
                                       : std::string_view();
      int raw = 0;
      if (const json::value* r = obj.if_contains("raw_code"); r != nullptr && r->is_int64()) {
        raw = static_cast<int>(r->get_int64());
      }
      Status st = StatusFromErrorJson(message->get_string(), code_text, raw);
      if (code_text.empty() || st.code() == ErrorCode::kInternal) {
        return Status(ErrorCodeFromWire(code_text, http_status), st.message(), st.sqlite_code());
      }
      return st;
    }
  }
  std::string text(body.substr(0, 500));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return Status(ErrorCodeFromWire("", http_status), std::string(where) + " answered HTTP " +
                                                        std::to_string(http_status) +
                                                        (text.empty() ? "" : ": " + text));
}

}  // namespace quarry::client
