// `quarry data NS MODEL OP [JSON]`, `quarry data NS query JSON`, `quarry data NS transaction
// JSON`: the data API from the command line (docs/data-api.md). Prints the result's `data` as
// JSON; errors name the code, the argument path and the server's message, and exit 1.

#include <boost/json.hpp>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/command.h"
#include "cli/connection_options.h"
#include "client/data_client.h"
#include "client/url.h"

namespace quarry::cli {
namespace {

namespace json = boost::json;

struct DataOptions {
  ConnectionOptions connection;
  std::string ns;
  std::string model;  // or "query" / "transaction"
  std::string op;     // for a model: the operation; for query/transaction: the JSON
  std::string args;
  bool compact = false;
};

int Fail(const std::string& message) {
  std::cerr << "quarry data: " << WithCredentialHint(message) << "\n";
  return 1;
}

void Pretty(std::ostream& out, const json::value& v, int indent) {
  std::string pad(static_cast<size_t>(indent) * 2, ' ');
  std::string inner(static_cast<size_t>(indent + 1) * 2, ' ');
  if (v.is_object() && !v.get_object().empty()) {
    out << "{\n";
    bool first = true;
    for (const auto& [key, value] : v.get_object()) {
      out << (first ? "" : ",\n") << inner << json::serialize(json::value(key)) << ": ";
      Pretty(out, value, indent + 1);
      first = false;
    }
    out << "\n" << pad << "}";
  } else if (v.is_array() && !v.get_array().empty()) {
    out << "[\n";
    bool first = true;
    for (const json::value& item : v.get_array()) {
      out << (first ? "" : ",\n") << inner;
      Pretty(out, item, indent + 1);
      first = false;
    }
    out << "\n" << pad << "]";
  } else {
    out << json::serialize(v);
  }
}

Result<json::value> ReadArgs(const std::string& text) {
  std::string source = text;
  if (text == "-") {
    source.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  if (source.empty()) {
    return json::value(json::object());
  }
  json::error_code ec;
  json::value parsed = json::parse(source, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument, "the arguments are not JSON: " + ec.message());
  }
  return parsed;
}

int Run(const DataOptions& options) {
  auto token = ResolveAdminToken(options.connection);
  if (!token.ok()) {
    return Fail(token.status().message());
  }
  if (!options.connection.token.empty()) {
    *token = options.connection.token;
  }
  auto db = client::DataClient::Open(options.connection.url, options.ns, *token,
                                     HttpOptionsOf(options.connection));
  if (!db.ok()) {
    return Fail(db.status().message());
  }
  Result<json::value> result = Status(ErrorCode::kInternal, "unreachable");
  if (options.model == "query" || options.model == "transaction") {
    if (!options.args.empty()) {
      return Fail(options.model + " takes one JSON argument");
    }
    auto args = ReadArgs(options.op);
    if (!args.ok()) {
      return Fail(args.status().message());
    }
    if (options.model == "query") {
      result = (*db)->Query(*args);
    } else {
      const json::value* ops = args->is_object() ? args->get_object().if_contains("ops") : nullptr;
      result = (*db)->Transaction(ops != nullptr ? *ops : *args);
    }
  } else {
    if (options.op.empty()) {
      return Fail("name the operation: quarry data " + options.ns + " " + options.model +
                  " findMany '{...}'");
    }
    auto args = ReadArgs(options.args);
    if (!args.ok()) {
      return Fail(args.status().message());
    }
    result = (*db)->Call(options.model, options.op, *args);
  }
  if (!result.ok()) {
    // The message names the argument path itself when there is one.
    const Status& st = result.status();
    return Fail(st.WireCode() + ": " + st.message());
  }
  if (options.compact) {
    std::cout << json::serialize(*result) << "\n";
  } else {
    Pretty(std::cout, *result, 0);
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

void RegisterDataCommand(CLI::App& app, ExitCode& exit_code) {
  auto options = std::make_shared<DataOptions>();
  CLI::App* cmd = app.add_subcommand(
      "data",
      "Query and write a namespace through the JSON data API (policies apply to user tokens)");
  cmd->footer(
      "Examples:\n"
      "  quarry data shop posts findMany '{\"where\": {\"status\": \"published\"}, \"limit\": "
      "10}'\n"
      "  quarry data shop posts create '{\"data\": {\"title\": \"Hello\"}}'\n"
      "  quarry data shop query '{\"posts\": {\"limit\": 5}, \"n\": {\"model\": \"posts\", \"op\": "
      "\"count\"}}'\n"
      "  quarry data shop transaction '{\"ops\": [{\"model\": \"posts\", \"op\": \"delete\", "
      "\"args\": {\"where\": {\"id\": 1}}}]}'\n"
      "JSON may be '-' to read it from standard input. See docs/data-api.md.");
  cmd->add_option("namespace", options->ns, "Namespace")->required();
  cmd->add_option("model", options->model, "Model name, or `query` / `transaction`")->required();
  cmd->add_option("op", options->op,
                  "Operation (findMany, create, ...), or the JSON for query/transaction");
  cmd->add_option("args", options->args, "The operation's arguments as JSON (default {})");
  cmd->add_flag("--compact", options->compact, "Print the result on one line");
  AddConnectionOptions(cmd, options->connection);
  cmd->callback([options, &exit_code] { exit_code.value = Run(*options); });
}

}  // namespace quarry::cli
