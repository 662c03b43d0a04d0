// `quarry schema check FILE` and `quarry schema format FILE [--check]`: validate a schema file
// (with its imports) and print it in canonical layout; both work on local files only.
// `quarry schema introspect --file PATH | --db NAME`: a schema file for an existing database,
// local or a namespace on a running server (through the admin API).

#include <sqlite3.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "cli/admin_call.h"
#include "cli/command.h"
#include "cli/connection_options.h"
#include "cli/output_file.h"
#include "schema/binder.h"
#include "schema/formatter.h"
#include "schema/introspect.h"
#include "schema/loader.h"

namespace quarry::cli {

namespace {

struct SchemaOptions {
  std::string path;
  std::string file;              // introspect --file
  std::string db;                // introspect --db
  ConnectionOptions connection;  // introspect --db
  std::string output;            // introspect -o
  bool check = false;            // format --check
};

int RunCheck(const SchemaOptions& options) {
  Result<schema::Schema> bound = schema::LoadAndBindSchema(options.path, schema::DiskFileReader());
  if (!bound.ok()) {
    std::cerr << bound.status().message() << "\n";
    return 1;
  }
  std::cout << "OK: " << options.path << " (" << bound->models.size() << " model"
            << (bound->models.size() == 1 ? "" : "s") << ", " << bound->enums.size() << " enum"
            << (bound->enums.size() == 1 ? "" : "s") << ")\n";
  return 0;
}

int RunFormat(const SchemaOptions& options) {
  Result<std::string> text = schema::DiskFileReader()(options.path);
  if (!text.ok()) {
    std::cerr << "quarry schema format: cannot read " << options.path << ": "
              << text.status().message() << "\n";
    return 1;
  }
  Result<std::string> formatted = schema::FormatSchemaText(*text, options.path);
  if (!formatted.ok()) {
    std::cerr << formatted.status().message() << "\n";
    return 1;
  }
  if (*formatted == *text) {
    if (!options.check) std::cout << options.path << " is already formatted\n";
    return 0;
  }
  if (options.check) {
    std::cerr << options.path << " is not formatted; run: quarry schema format " << options.path
              << "\n";
    return 1;
  }
  Status written = WriteFileAtomically(options.path, *formatted);
  if (!written.ok()) {
    std::cerr << "quarry schema format: " << written.message() << "\n";
    return 1;
  }
  std::cout << "formatted " << options.path << "\n";
  return 0;
}

// The live schema of --db NAME on the server: its text and the introspection warnings.
Result<std::pair<std::string, std::vector<std::string>>> ServerSchema(
    const SchemaOptions& options) {
  // source=live: the tables as they are, not the schema the namespace recorded.
  QUARRY_ASSIGN_OR_RETURN(AdminReply reply,
                          AdminCall(options.connection, "GET",
                                    "/namespaces/" + options.db + "/schema?source=live", ""));
  if (!reply.ok()) {
    return Status(ErrorCode::kInvalidArgument, reply.Message());
  }
  const boost::json::value* text =
      reply.body.is_object() ? reply.body.get_object().if_contains("schema") : nullptr;
  if (text == nullptr || !text->is_string()) {
    return Status(ErrorCode::kInvalidArgument, "the server's answer has no \"schema\" text");
  }
  std::vector<std::string> warnings;
  if (const boost::json::value* list = reply.body.get_object().if_contains("warnings");
      list != nullptr && list->is_array()) {
    for (const auto& w : list->get_array()) {
      if (w.is_string()) warnings.emplace_back(w.get_string());
    }
  }
  return std::make_pair(std::string(text->get_string()), std::move(warnings));
}

// The live schema of --file PATH: its text and the introspection warnings.
Result<std::pair<std::string, std::vector<std::string>>> LocalSchema(const SchemaOptions& options) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(options.file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> db(raw, &sqlite3_close_v2);
  if (rc != SQLITE_OK) {
    return Status(ErrorCode::kSqlite, "cannot open " + options.file);
  }
  QUARRY_ASSIGN_OR_RETURN(schema::IntrospectedSchema live, schema::IntrospectSchema(raw));
  return std::make_pair(schema::SchemaText(live.schema), std::move(live.warnings));
}

// `quarry schema introspect --file PATH | --db NAME [-o FILE]`.
int RunIntrospect(const SchemaOptions& options) {
  if (options.file.empty() == options.db.empty()) {
    std::cerr << "quarry schema introspect: give either --file PATH or --db NAME\n";
    return 2;
  }
  auto live = options.db.empty() ? LocalSchema(options) : ServerSchema(options);
  if (!live.ok()) {
    std::cerr << "quarry schema introspect: " << live.status().message() << "\n";
    return 1;
  }
  Result<std::string> text = schema::FormatSchemaText(live->first, "schema");
  if (!text.ok()) {
    std::cerr << "quarry schema introspect: " << text.status().message() << "\n";
    return 1;
  }
  for (const auto& w : live->second) std::cerr << "warning: " << w << "\n";
  if (options.output.empty()) {
    std::cout << *text;
    return 0;
  }
  Status written = WriteFileAtomically(options.output, *text);
  if (!written.ok()) {
    std::cerr << "quarry schema introspect: " << written.message() << "\n";
    return 1;
  }
  std::cout << "wrote " << options.output << "\n";
  return 0;
}

}  // namespace

void RegisterSchemaCommand(CLI::App& app, ExitCode& exit_code) {
  auto* schema = app.add_subcommand("schema", "Validate and format schema files");
  schema->require_subcommand(1);

  auto check_options = std::make_shared<SchemaOptions>();
  auto* check = schema->add_subcommand(
      "check",
      "Parse and validate a schema file and the files it imports; print OK, or every error as "
      "file:line:column: message (exit status 1)");
  check->add_option("FILE", check_options->path, "The schema file")->required();
  check->callback([check_options, &exit_code] { exit_code.value = RunCheck(*check_options); });

  auto format_options = std::make_shared<SchemaOptions>();
  auto* format = schema->add_subcommand(
      "format",
      "Rewrite a schema file in canonical layout (imported files are left alone; format each "
      "one)");
  format->add_option("FILE", format_options->path, "The schema file")->required();
  format->add_flag("--check", format_options->check,
                   "Change nothing; exit with status 1 if the file is not formatted");
  format->callback([format_options, &exit_code] { exit_code.value = RunFormat(*format_options); });

  auto introspect_options = std::make_shared<SchemaOptions>();
  auto* introspect = schema->add_subcommand(
      "introspect",
      "Write a schema file describing an existing database (--file, or --db on the server)");
  introspect->add_option("--file", introspect_options->file, "Local SQLite file");
  introspect->add_option("--db", introspect_options->db,
                         "Namespace on a running server (see --url)");
  AddConnectionOptions(introspect, introspect_options->connection);
  introspect->add_option("-o,--output", introspect_options->output,
                         "Write here instead of standard output");
  introspect->callback(
      [introspect_options, &exit_code] { exit_code.value = RunIntrospect(*introspect_options); });
}

}  // namespace quarry::cli
