#include "cli/admin_call.h"

#include <chrono>

#include "client/http_connection.h"
#include "client/transport.h"
#include "client/url.h"

namespace quarry::cli {

namespace json = boost::json;

std::string AdminReply::Message() const {
  if (body.is_object()) {
    if (const json::value* m = body.get_object().if_contains("message"); m && m->is_string()) {
      return std::string(m->get_string());
    }
  }
  return "the server answered HTTP " + std::to_string(status);
}

Result<AdminReply> AdminCall(const ConnectionOptions& options, std::string_view method,
                             const std::string& path, const std::string& body) {
  QUARRY_ASSIGN_OR_RETURN(client::ClientUrl url, client::ParseClientUrl(options.url));
  if (url.kind != client::ClientUrl::Kind::kHttp) {
    return Status(
        ErrorCode::kInvalidArgument,
        "--url " + options.url + " is a local file; use --file PATH for a local database");
  }
  QUARRY_ASSIGN_OR_RETURN(std::string token, ResolveAdminToken(options));
  client::HttpOptions http_options = HttpOptionsOf(options);
  http_options.request_timeout = std::chrono::minutes(10);  // migrations may rebuild big tables
  client::HttpConnection http(url.host, url.port, url.Origin(), http_options);
  QUARRY_ASSIGN_OR_RETURN(client::HttpResponse response,
                          http.Send(method, "/admin/v1" + path, body, token));
  AdminReply reply;
  reply.status = response.status;
  boost::system::error_code ec;
  reply.body = json::parse(response.body, ec);
  if (ec) {
    if (!reply.ok()) {
      return client::StatusFromErrorBody(response.status, response.body, url.Origin());
    }
    return Status(ErrorCode::kInvalidArgument, "the server's answer is not JSON");
  }
  return reply;
}

}  // namespace quarry::cli
