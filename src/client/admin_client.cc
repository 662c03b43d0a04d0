#include "client/admin_client.h"

#include <boost/json.hpp>

#include "client/transport.h"
#include "client/url.h"

namespace quarry::client {

namespace json = boost::json;

namespace {

Status Malformed(std::string_view what) {
  return Status(ErrorCode::kInternal,
                "malformed admin API response from the server: " + std::string(what));
}

}  // namespace

AdminClient::AdminClient(std::string origin, std::string token,
                         std::unique_ptr<HttpConnection> http)
    : origin_(std::move(origin)), token_(std::move(token)), http_(std::move(http)) {}

AdminClient::~AdminClient() = default;

Result<std::unique_ptr<AdminClient>> AdminClient::Open(const std::string& url,
                                                       const std::string& token,
                                                       const HttpOptions& options) {
  QUARRY_ASSIGN_OR_RETURN(ClientUrl parsed, ParseClientUrl(url));
  if (parsed.kind != ClientUrl::Kind::kHttp) {
    return Status(ErrorCode::kInvalidArgument,
                  "the admin API needs a server URL (http://host:port), not " + url);
  }
  auto http = std::make_unique<HttpConnection>(parsed.host, parsed.port, parsed.Origin(), options);
  return std::unique_ptr<AdminClient>(new AdminClient(parsed.Origin(), token, std::move(http)));
}

Result<std::string> AdminClient::Call(std::string_view method, const std::string& path,
                                      std::string_view body) {
  QUARRY_ASSIGN_OR_RETURN(HttpResponse response,
                          http_->Send(method, "/admin/v1" + path, body, token_));
  if (response.status < 200 || response.status >= 300) {
    return StatusFromErrorBody(response.status, response.body, origin_);
  }
  return std::move(response.body);
}

Result<std::vector<NamespaceInfo>> AdminClient::ListNamespaces() {
  QUARRY_ASSIGN_OR_RETURN(std::string body, Call("GET", "/namespaces", ""));
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  const json::value* list =
      !ec && parsed.is_object() ? parsed.get_object().if_contains("namespaces") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return Malformed("expected {\"namespaces\": [...]}");
  }
  std::vector<NamespaceInfo> out;
  for (const auto& item : list->get_array()) {
    const json::object* obj = item.if_object();
    const json::value* name = obj ? obj->if_contains("name") : nullptr;
    if (name == nullptr || !name->is_string()) {
      return Malformed("namespace entry without a name");
    }
    NamespaceInfo info;
    info.name = std::string(name->get_string());
    if (const json::value* v = obj->if_contains("size_bytes"); v && v->is_number()) {
      info.size_bytes = v->to_number<uint64_t>();
    }
    if (const json::value* v = obj->if_contains("created_at"); v && v->is_number()) {
      info.created_at_ms = v->to_number<int64_t>();
    }
    if (const json::value* v = obj->if_contains("foreign_keys"); v && v->is_bool()) {
      info.foreign_keys = v->get_bool();
    }
    if (const json::value* v = obj->if_contains("last_used_at"); v && v->is_number()) {
      int64_t ms = v->to_number<int64_t>();
      if (ms != 0) {
        info.last_used_ms = ms;
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

Status AdminClient::CreateNamespace(const std::string& name, std::optional<bool> foreign_keys) {
  json::object request{{"name", name}};
  if (foreign_keys) {
    request.emplace("foreign_keys", *foreign_keys);
  }
  auto body = Call("POST", "/namespaces", json::serialize(request));
  return body.ok() ? Status::Ok() : body.status();
}

Status AdminClient::SetForeignKeys(const std::string& name, bool on) {
  auto body =
      Call("PATCH", "/namespaces/" + name, json::serialize(json::object{{"foreign_keys", on}}));
  return body.ok() ? Status::Ok() : body.status();
}

Status AdminClient::DeleteNamespace(const std::string& name) {
  auto body = Call("DELETE", "/namespaces/" + name, "");
  return body.ok() ? Status::Ok() : body.status();
}

Status AdminClient::ForkNamespace(const std::string& from, const std::string& to) {
  auto body =
      Call("POST", "/namespaces/" + from + "/fork", json::serialize(json::object{{"to", to}}));
  return body.ok() ? Status::Ok() : body.status();
}

Result<std::string> AdminClient::CreateToken(const TokenRequest& request) {
  json::object req;
  if (request.all_namespaces) {
    req.emplace("namespaces", "*");
  } else {
    json::array names;
    for (const auto& n : request.namespaces) {
      names.push_back(json::value(n));
    }
    req.emplace("namespaces", std::move(names));
  }
  if (request.user) {
    req.emplace("user", *request.user);
  } else {
    req.emplace("access", request.access);
  }
  if (request.expires_in) {
    req.emplace("expires_in", *request.expires_in);
  }
  if (!request.subject.empty()) {
    req.emplace("subject", request.subject);
  }
  QUARRY_ASSIGN_OR_RETURN(std::string body, Call("POST", "/tokens", json::serialize(req)));
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  const json::value* token =
      !ec && parsed.is_object() ? parsed.get_object().if_contains("token") : nullptr;
  if (token == nullptr || !token->is_string()) {
    return Malformed("expected {\"token\": \"...\"}");
  }
  return std::string(token->get_string());
}

}  // namespace quarry::client
