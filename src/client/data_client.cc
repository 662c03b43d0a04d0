#include "client/data_client.h"

#include <boost/json.hpp>

#include "client/transport.h"
#include "client/url.h"

namespace quarry::client {

namespace json = boost::json;

Status StatusFromDataError(int http_status, std::string_view body, std::string_view where) {
  json::error_code ec;
  json::value parsed = json::parse(body, ec);
  const json::object* error = nullptr;
  if (!ec && parsed.is_object()) {
    if (const json::value* e = parsed.get_object().if_contains("error"); e && e->is_object()) {
      error = &e->get_object();
    }
  }
  if (error == nullptr) {
    return StatusFromErrorBody(http_status, body, where);
  }
  return StatusFromErrorObject(*error);
}

Status StatusFromErrorObject(const json::object& error) {
  auto text = [&](std::string_view key) -> std::string {
    const json::value* v = error.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  Status status = StatusFromErrorJson(text("message"), text("code"), 0);
  std::string path = text("path");
  return path.empty() ? status : std::move(status).WithPath(path);
}

DataClient::DataClient(std::string origin, std::string prefix, std::string token,
                       std::unique_ptr<HttpConnection> http)
    : origin_(std::move(origin)),
      prefix_(std::move(prefix)),
      token_(std::move(token)),
      http_(std::move(http)) {}

DataClient::~DataClient() = default;

Result<std::unique_ptr<DataClient>> DataClient::Open(const std::string& url, const std::string& ns,
                                                     const std::string& token,
                                                     const HttpOptions& options) {
  QUARRY_ASSIGN_OR_RETURN(ServerNamespace server, ParseServerNamespace(url, ns, "the data API"));
  const ClientUrl& parsed = server.url;
  auto http = std::make_unique<HttpConnection>(parsed.host, parsed.port, parsed.Origin(), options);
  return std::unique_ptr<DataClient>(
      new DataClient(parsed.Origin(), "/db/" + server.ns, token, std::move(http)));
}

Result<json::value> DataClient::Post(const std::string& path, const json::value& body) {
  QUARRY_ASSIGN_OR_RETURN(HttpResponse response,
                          http_->Send("POST", prefix_ + path, json::serialize(body), token_));
  if (response.status != 200) {
    return StatusFromDataError(response.status, response.body, origin_);
  }
  json::error_code ec;
  json::value parsed = json::parse(response.body, ec);
  if (ec || !parsed.is_object() || !parsed.get_object().contains("data")) {
    return Status(ErrorCode::kInternal, origin_ + " answered without a data member");
  }
  return std::move(parsed.get_object().at("data"));
}

Result<json::value> DataClient::Call(std::string_view model, std::string_view op,
                                     const json::value& args) {
  return Post("/v1/" + std::string(model) + "/" + std::string(op), args);
}

Result<json::value> DataClient::Query(const json::value& spec) { return Post("/v1/query", spec); }

Result<json::value> DataClient::Transaction(const json::value& ops) {
  json::object body;
  body["ops"] = ops;
  return Post("/v1/transaction", body);
}

}  // namespace quarry::client
