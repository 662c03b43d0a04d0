// quarry migrate create --schema | push | verify: the schema file against a live database.
//
// All three read the live database back into the schema model (introspection), diff it against
// the schema file, and then write the plan as a migration file (create), apply it directly in
// one transaction (push, for development), or report whether anything differs (verify).
// They work on a local SQLite file (--file) or on a namespace of a running server (--db): then
// the schema files are loaded and bound here, sent as one self-contained text to the admin API
// (/admin/v1/namespaces/<name>/schema/plan or /push), and the server introspects and diffs.
//
// The schema itself is recorded in the database (schema/recorded_schema.h): push records it with
// its changes, and create writes it into the migration as a snapshot that apply records. The
// recorded text is the schema files merged into one (schema::FormatProgram).

#include <sqlite3.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/admin_call.h"
#include "cli/command.h"
#include "cli/connection_options.h"
#include "schema/binder.h"
#include "schema/diff.h"
#include "schema/formatter.h"
#include "schema/introspect.h"
#include "schema/loader.h"
#include "schema/migration_folder.h"
#include "schema/recorded_schema.h"
#include "storage/connection.h"

namespace quarry::cli {
namespace {

struct SchemaMigrateOptions {
  std::string schema_file;
  std::string file;
  std::string db;
  std::string dir = "migrations";
  std::string label;
  bool allow_data_loss = false;
  ConnectionOptions connection;
};

int Fail(std::string_view command, std::string_view message) {
  std::cerr << "quarry migrate " << command << ": " << WithCredentialHint(std::string(message))
            << "\n";
  return 1;
}

using Handle = std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)>;

// Opens the local database: read-only for commands that only look, read-write for push.
Result<Handle> OpenDatabase(const std::string& path, bool writable) {
  // A database that does not exist yet is an empty one: the first migration creates it all.
  std::error_code ec;
  bool missing = !writable && !std::filesystem::exists(path, ec);
  sqlite3* raw = nullptr;
  int flags = writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  int rc = sqlite3_open_v2(missing ? ":memory:" : path.c_str(), &raw,
                           missing ? SQLITE_OPEN_READWRITE : flags, nullptr);
  Handle db(raw, &sqlite3_close_v2);
  if (rc != SQLITE_OK) {
    return Status(ErrorCode::kSqlite,
                  "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)),
                  rc);
  }
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

// A schema file and its imports, bound, and merged into the one text the database records.
struct LoadedSchema {
  schema::Schema bound;
  std::string text;
};

Result<LoadedSchema> LoadSchemaFiles(const std::string& path) {
  QUARRY_ASSIGN_OR_RETURN(schema::ast::Program program,
                          schema::LoadSchema(path, schema::DiskFileReader()));
  LoadedSchema out;
  QUARRY_ASSIGN_OR_RETURN(out.bound, schema::BindSchema(program));
  out.text = schema::FormatProgram(std::move(program));
  return out;
}

// The plan from the live database to the schema file.
Result<schema::MigrationPlan> Plan(const SchemaMigrateOptions& options, sqlite3* db) {
  QUARRY_ASSIGN_OR_RETURN(LoadedSchema loaded, LoadSchemaFiles(options.schema_file));
  const schema::Schema& target = loaded.bound;
  QUARRY_ASSIGN_OR_RETURN(schema::IntrospectedSchema live, schema::IntrospectSchema(db));
  for (const auto& warning : live.warnings) {
    std::cerr << "warning: " << warning << "\n";
  }
  schema::DiffOptions diff_options;
  diff_options.allow_data_loss = options.allow_data_loss;
  return schema::DiffSchemas(live.schema, target, diff_options, db);
}

// Checks the target flags: exactly one of --file and --db.
bool CheckTarget(std::string_view command, const SchemaMigrateOptions& options) {
  if (!options.db.empty() && !options.file.empty()) {
    Fail(command, "give either --file PATH or --db NAME, not both");
    return false;
  }
  if (options.file.empty() && options.db.empty()) {
    Fail(command, "name the database with --file PATH or --db NAME");
    return false;
  }
  return true;
}

Result<std::vector<std::string>> StringList(const boost::json::object& body, std::string_view key) {
  const boost::json::value* list = body.if_contains(key);
  if (list == nullptr || !list->is_array()) {
    return Status(ErrorCode::kInvalidArgument,
                  "the server's answer has no \"" + std::string(key) + "\" list");
  }
  std::vector<std::string> out;
  for (const auto& item : list->get_array()) {
    if (!item.is_string()) {
      return Status(ErrorCode::kInvalidArgument,
                    "the server's \"" + std::string(key) + "\" list holds a non-string");
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

// Asks the server for the plan from namespace options.db to the schema file (action "plan"),
// or to apply it (action "push": then only `changes` is filled in).
Result<schema::MigrationPlan> ServerPlan(const SchemaMigrateOptions& options,
                                         std::string_view action) {
  QUARRY_ASSIGN_OR_RETURN(LoadedSchema loaded, LoadSchemaFiles(options.schema_file));
  boost::json::object request{{"schema", loaded.text},
                              {"allow_data_loss", options.allow_data_loss}};
  QUARRY_ASSIGN_OR_RETURN(AdminReply reply,
                          AdminCall(options.connection, "POST",
                                    "/namespaces/" + options.db + "/schema/" + std::string(action),
                                    boost::json::serialize(request)));
  if (!reply.ok()) {
    return Status(ErrorCode::kInvalidArgument, reply.Message());
  }
  if (!reply.body.is_object()) {
    return Status(ErrorCode::kInvalidArgument, "the server's answer is not a JSON object");
  }
  const boost::json::object& body = reply.body.get_object();
  schema::MigrationPlan plan;
  QUARRY_ASSIGN_OR_RETURN(plan.changes, StringList(body, "changes"));
  if (action == "plan") {
    QUARRY_ASSIGN_OR_RETURN(plan.statements, StringList(body, "statements"));
    QUARRY_ASSIGN_OR_RETURN(plan.destructive, StringList(body, "destructive"));
  }
  return plan;
}

// The plan from the target database (--file or --db) to the schema file.
Result<schema::MigrationPlan> TargetPlan(const SchemaMigrateOptions& options) {
  if (!options.db.empty()) {
    return ServerPlan(options, "plan");
  }
  QUARRY_ASSIGN_OR_RETURN(Handle db, OpenDatabase(options.file, /*writable=*/false));
  return Plan(options, db.get());
}

// The schema the target database recorded (nullopt when none).
Result<std::optional<std::string>> TargetRecordedSchema(const SchemaMigrateOptions& options) {
  if (options.db.empty()) {
    QUARRY_ASSIGN_OR_RETURN(Handle db, OpenDatabase(options.file, /*writable=*/false));
    return schema::LoadRecordedSchema(db.get());
  }
  QUARRY_ASSIGN_OR_RETURN(AdminReply reply, AdminCall(options.connection, "GET",
                                                      "/namespaces/" + options.db + "/schema", ""));
  if (!reply.ok()) {
    return Status(ErrorCode::kInvalidArgument, reply.Message());
  }
  const boost::json::object* body = reply.body.if_object();
  const boost::json::value* recorded = body ? body->if_contains("recorded") : nullptr;
  const boost::json::value* text = body ? body->if_contains("schema") : nullptr;
  if (recorded == nullptr || !recorded->is_bool() || text == nullptr || !text->is_string()) {
    // A server from before recorded schemas: it records none.
    return std::optional<std::string>();
  }
  return recorded->get_bool() ? std::optional<std::string>(std::string(text->get_string()))
                              : std::optional<std::string>();
}

// What the messages call the database.
const std::string& TargetName(const SchemaMigrateOptions& options) {
  return options.db.empty() ? options.file : options.db;
}

void PrintChanges(const schema::MigrationPlan& plan) {
  for (const auto& change : plan.changes) {
    std::cout << "  " << change << "\n";
  }
}

std::string PlanSql(const schema::MigrationPlan& plan) {
  std::string sql;
  for (const auto& statement : plan.statements) {
    sql += statement + ";\n";
  }
  return sql;
}

int CreateFromSchema(const SchemaMigrateOptions& options) {
  if (!CheckTarget("create", options)) {
    return 2;
  }
  auto loaded = LoadSchemaFiles(options.schema_file);
  if (!loaded.ok()) {
    return Fail("create", loaded.status().message());
  }
  auto plan = TargetPlan(options);
  if (!plan.ok()) {
    return Fail("create", plan.status().message());
  }
  auto recorded = TargetRecordedSchema(options);
  if (!recorded.ok()) {
    return Fail("create", recorded.status().message());
  }
  bool schema_changed = *recorded != loaded->text;
  if (plan->empty() && !schema_changed) {
    std::cout << "The database already matches " << options.schema_file
              << "; no migration written.\n";
    return 0;
  }
  // The migration carries the schema it brings the database to, so that applying it records
  // that schema: policies and validators change no table, yet the data API serves them.
  auto path = schema::CreateMigrationFile(options.dir, options.label, PlanSql(*plan), "",
                                          std::chrono::system_clock::now(), loaded->text);
  if (!path.ok()) {
    return Fail("create", path.status().message());
  }
  if (plan->empty()) {
    std::cout << "Created " << path->string()
              << ": no table changes; it records the schema (policies, validators or other "
                 "parts without SQL changed).\n";
    return 0;
  }
  std::cout << "Created " << path->string() << ":\n";
  PrintChanges(*plan);
  return 0;
}

int Push(const SchemaMigrateOptions& options) {
  if (!CheckTarget("push", options)) {
    return 2;
  }
  if (!options.db.empty()) {
    auto pushed = ServerPlan(options, "push");
    if (!pushed.ok()) {
      return Fail("push", pushed.status().message());
    }
    if (pushed->changes.empty()) {
      std::cout << "Already up to date; the schema is recorded.\n";
      return 0;
    }
    std::cout << "Applied " << pushed->changes.size()
              << (pushed->changes.size() == 1 ? " change" : " changes") << ":\n";
    PrintChanges(*pushed);
    return 0;
  }
  auto db = OpenDatabase(options.file, /*writable=*/true);
  if (!db.ok()) {
    return Fail("push", db.status().message());
  }
  auto target = LoadSchemaFiles(options.schema_file);
  if (!target.ok()) {
    return Fail("push", target.status().message());
  }
  schema::DiffOptions diff_options;
  diff_options.allow_data_loss = options.allow_data_loss;
  std::vector<std::string> warnings;
  sqlite3* raw = db->get();
  auto plan = schema::PushSchema(raw, target->bound, diff_options, &warnings,
                                 [&] { return schema::RecordSchema(raw, target->text); });
  for (const auto& warning : warnings) {
    std::cerr << "warning: " << warning << "\n";
  }
  if (!plan.ok()) {
    return Fail("push", plan.status().message() + " (nothing was changed)");
  }
  if (plan->empty()) {
    std::cout << "Already up to date; the schema is recorded.\n";
    return 0;
  }
  std::cout << "Applied " << plan->changes.size()
            << (plan->changes.size() == 1 ? " change" : " changes") << ":\n";
  PrintChanges(*plan);
  return 0;
}

int Verify(const SchemaMigrateOptions& options) {
  if (!CheckTarget("verify", options)) {
    return 2;
  }
  SchemaMigrateOptions lenient = options;
  lenient.allow_data_loss = true;  // verify only reports; it must list destructive changes too
  auto plan = TargetPlan(lenient);
  if (!plan.ok()) {
    return Fail("verify", plan.status().message());
  }
  if (plan->empty()) {
    std::cout << "OK: " << TargetName(options) << " matches " << options.schema_file << "\n";
    return 0;
  }
  std::cout << TargetName(options) << " differs from " << options.schema_file << ":\n";
  PrintChanges(*plan);
  return 1;
}

void AddSchemaTargetOptions(CLI::App* cmd, SchemaMigrateOptions& options) {
  cmd->add_option("--schema", options.schema_file, "The schema file (its imports are followed)")
      ->required();
  cmd->add_option("--file", options.file, "Local SQLite database file");
  cmd->add_option("--db", options.db, "Namespace on a running server (see --url)");
  AddConnectionOptions(cmd, options.connection);
}

}  // namespace

void RegisterSchemaMigrateCommands(CLI::App* migrate, ExitCode& exit_code) {
  {
    auto* cmd = migrate->add_subcommand(
        "push",
        "Apply the difference between a schema file and the database directly "
        "(development; no migration file)");
    auto options = std::make_shared<SchemaMigrateOptions>();
    AddSchemaTargetOptions(cmd, *options);
    cmd->add_flag("--allow-data-loss", options->allow_data_loss,
                  "Also drop tables and columns that hold data");
    cmd->callback([=, &exit_code] { exit_code.value = Push(*options); });
  }
  {
    auto* cmd = migrate->add_subcommand(
        "verify", "Check that the database matches a schema file (exit 1 listing differences)");
    auto options = std::make_shared<SchemaMigrateOptions>();
    AddSchemaTargetOptions(cmd, *options);
    cmd->callback([=, &exit_code] { exit_code.value = Verify(*options); });
  }
}

int CreateMigrationFromSchema(const std::string& label, const std::string& dir,
                              const std::string& schema_file, const std::string& file,
                              const std::string& db, bool allow_data_loss,
                              const ConnectionOptions& connection) {
  SchemaMigrateOptions options;
  options.label = label;
  options.dir = dir;
  options.schema_file = schema_file;
  options.file = file;
  options.db = db;
  options.allow_data_loss = allow_data_loss;
  options.connection = connection;
  return CreateFromSchema(options);
}

}  // namespace quarry::cli
