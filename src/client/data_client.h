#pragma once

// DataClient: Quarry's JSON data API (docs/data-api.md) over HTTP, for one namespace.
//
//   auto db = DataClient::Open("http://127.0.0.1:8080", "shop", token);
//   auto posts = (*db)->Call("posts", "findMany", json::parse(R"({"where": {"id": 1}})"));
//
// Every call answers the response's `data` member, or a Status with the server's code (its
// wire code, as Status::WireCode gives it back), message and argument path (Status::path()).
// Used by one thread at a time.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "client/http_connection.h"
#include "common/status.h"

namespace quarry::client {

class DataClient {
 public:
  // `url` is a server URL (http://host:port); `ns` the namespace, or empty when the URL names
  // one (http://host:port/db/shop).
  static Result<std::unique_ptr<DataClient>> Open(const std::string& url, const std::string& ns,
                                                  const std::string& token,
                                                  const HttpOptions& options = {});
  ~DataClient();

  // POST /db/<ns>/v1/<model>/<op> with `args` as the body.
  Result<boost::json::value> Call(std::string_view model, std::string_view op,
                                  const boost::json::value& args);
  // POST /db/<ns>/v1/query: many reads in one snapshot.
  Result<boost::json::value> Query(const boost::json::value& spec);
  // POST /db/<ns>/v1/transaction with {"ops": ops}: all or nothing.
  Result<boost::json::value> Transaction(const boost::json::value& ops);

 private:
  DataClient(std::string origin, std::string prefix, std::string token,
             std::unique_ptr<HttpConnection> http);
  Result<boost::json::value> Post(const std::string& path, const boost::json::value& body);

  std::string origin_;
  std::string prefix_;  // "/db/<ns>"
  std::string token_;
  std::unique_ptr<HttpConnection> http_;
};

// The Status for a data-API error response {"error": {"code", "message", "path"}}, or the
// status line and body when the body is not one.
Status StatusFromDataError(int http_status, std::string_view body, std::string_view where);
// The Status for the error object itself ({"code", "message", "path"}), as the data API and
// realtime's error messages carry it.
Status StatusFromErrorObject(const boost::json::object& error);

}  // namespace quarry::client
