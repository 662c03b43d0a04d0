// `quarry migrate create|apply|status|dry-run|down`: a migrations folder against a namespace on
// a running server (--db, through the admin API, which receives the files' contents), a schema
// group on it (--group), or a local SQLite file (--file, in-process, no server).

#include <sqlite3.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>

#include "cli/admin_call.h"
#include "cli/command.h"
#include "cli/connection_options.h"
#include "cli/table_format.h"
#include "schema/binder.h"
#include "schema/migration_folder.h"
#include "schema/migration_json.h"
#include "schema/migrator.h"
#include "storage/connection.h"

namespace quarry::cli {

namespace {

namespace json = boost::json;
using schema::MigrationSet;

struct MigrateOptions {
  ConnectionOptions connection;
  std::string dir = "migrations";
  std::string db;     // --db: a namespace on the server
  std::string file;   // --file: a local SQLite file
  std::string group;  // --group: a schema group on the server
  bool force = false;
  bool as_json = false;
  int count = 1;                 // down
  std::string label;             // create
  std::string schema_file;       // create --schema: diff the database against this file
  bool allow_data_loss = false;  // create --schema
};

int Fail(std::string_view command, std::string_view message) {
  std::cerr << "quarry migrate " << command << ": " << WithCredentialHint(std::string(message))
            << "\n";
  return 1;
}

std::string UtcTime(int64_t ms) {
  if (ms == 0) {
    return "-";
  }
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// Checks that exactly one target was named (--group only where `allow_group`).
bool CheckTarget(std::string_view command, const MigrateOptions& options, bool allow_group) {
  int given = !options.db.empty() + !options.file.empty() + !options.group.empty();
  if (!allow_group && !options.group.empty()) {
    Fail(command, "--group works with apply and status only");
    return false;
  }
  if (given != 1) {
    Fail(command, std::string(given == 0 ? "name the database: " : "name only one target: ") +
                      "--db NAME (a namespace on the server at --url)" +
                      (allow_group ? ", --group NAME (a schema group on the server)" : "") +
                      " or --file PATH (a local SQLite file)");
    return false;
  }
  return true;
}

// The target, for headings: "database file app.db", "namespace 'shop'", "group 'tenants'".
std::string TargetName(const MigrateOptions& options) {
  if (!options.file.empty()) {
    return "database file " + options.file;
  }
  if (!options.db.empty()) {
    return "namespace '" + options.db + "'";
  }
  return "group '" + options.group + "'";
}

// The recorded migrations of a local file, read through a read-only handle: status and dry-run
// never write, not even the journal mode. A missing file has none.
Result<std::vector<schema::AppliedMigration>> ReadLocal(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return std::vector<schema::AppliedMigration>();
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> db(raw, &sqlite3_close_v2);
  if (rc != SQLITE_OK) {
    return Status(ErrorCode::kSqlite,
                  "cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, 5000);
  return schema::ReadAppliedMigrations(raw);
}

Result<std::unique_ptr<storage::Connection>> OpenLocal(const std::string& path) {
  return storage::Connection::Open(path, storage::ConnectionOptions{}, /*create=*/true);
}

Result<std::vector<schema::AppliedMigration>> RecordedOn(const MigrateOptions& options) {
  if (!options.file.empty()) {
    return ReadLocal(options.file);
  }
  QUARRY_ASSIGN_OR_RETURN(
      AdminReply reply,
      AdminCall(options.connection, "GET", "/namespaces/" + options.db + "/migrations", ""));
  if (!reply.ok()) {
    return Status(ErrorCode::kInvalidArgument, reply.Message());
  }
  const json::value* recorded =
      reply.body.is_object() ? reply.body.get_object().if_contains("recorded") : nullptr;
  if (recorded == nullptr) {
    return Status(ErrorCode::kInvalidArgument, "the server's answer has no \"recorded\" list");
  }
  return schema::RecordedFromJson(*recorded);
}

// migrate status's exit code, so CI can gate on it (docs/cli.md): 0 when every migration is
// applied; 3 when some are pending; 4 when an applied one was modified or is missing (which
// apply refuses), whether or not others are pending. 1 and 2 stay failure and usage errors.
constexpr int kStatusPending = 3;
constexpr int kStatusChanged = 4;

int StatusExitCode(const std::vector<schema::MigrationStatus>& statuses) {
  int code = 0;
  for (const auto& s : statuses) {
    if (s.state == schema::MigrationState::kModified ||
        s.state == schema::MigrationState::kMissing) {
      return kStatusChanged;
    }
    if (s.state == schema::MigrationState::kPending) {
      code = kStatusPending;
    }
  }
  return code;
}

std::string Summary(const std::vector<schema::MigrationStatus>& statuses) {
  int counts[4] = {0, 0, 0, 0};
  for (const auto& s : statuses) {
    ++counts[static_cast<int>(s.state)];
  }
  std::string out;
  const schema::MigrationState order[] = {
      schema::MigrationState::kApplied, schema::MigrationState::kPending,
      schema::MigrationState::kModified, schema::MigrationState::kMissing};
  for (auto state : order) {
    int n = counts[static_cast<int>(state)];
    if (n > 0 || state == schema::MigrationState::kApplied ||
        state == schema::MigrationState::kPending) {
      out += (out.empty() ? "" : ", ") + std::to_string(n) + " " +
             std::string(schema::StateName(state));
    }
  }
  return out;
}

void PrintStatuses(const std::vector<schema::MigrationStatus>& statuses) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : statuses) {
    rows.push_back({std::string(schema::StateName(s.state)), s.id, UtcTime(s.applied_at_ms)});
  }
  if (!rows.empty()) {
    std::cout << FormatTable({{"state"}, {"migration"}, {"applied (UTC)"}}, rows);
  }
  std::cout << Summary(statuses) << ".\n";
  for (const auto& s : statuses) {
    if (s.state == schema::MigrationState::kModified) {
      std::cout << "  " << s.id << " was modified after it was applied (checksum "
                << s.applied_checksum.substr(0, 12) << " recorded, " << s.checksum.substr(0, 12)
                << " now): add a new migration instead of editing it.\n";
    } else if (s.state == schema::MigrationState::kMissing) {
      std::cout << "  " << s.id << " is applied but missing from the folder.\n";
    }
  }
}

// The folder, with every schema snapshot checked to bind (as the server checks those it is
// sent): applying a migration records its snapshot as the schema the data API serves.
Result<MigrationSet> ReadFolder(const MigrateOptions& options) {
  QUARRY_ASSIGN_OR_RETURN(MigrationSet set, schema::ReadMigrationFolder(options.dir));
  for (const schema::Migration& migration : set.migrations) {
    if (migration.schema) {
      Result<schema::Schema> bound = schema::BindSelfContainedSchema(
          *migration.schema, migration.source + " (schema snapshot)");
      if (!bound.ok()) {
        return Status(ErrorCode::kInvalidArgument,
                      migration.source + " carries a schema snapshot that does not bind:\n" +
                          bound.status().message());
      }
    }
  }
  return set;
}

std::string FolderLine(const MigrateOptions& options, const MigrationSet& set) {
  return "Migrations in " + options.dir + " (" + std::string(schema::FormatName(set.format)) +
         " format), " + TargetName(options);
}

int GroupStatus(const MigrateOptions& options, const MigrationSet& set) {
  auto reply = AdminCall(options.connection, "GET", "/groups/" + options.group + "/migrations", "");
  if (!reply.ok()) {
    return Fail("status", reply.status().message());
  }
  if (!reply->ok()) {
    return Fail("status", reply->Message());
  }
  const json::value* members =
      reply->body.is_object() ? reply->body.get_object().if_contains("namespaces") : nullptr;
  if (members == nullptr || !members->is_array()) {
    return Fail("status", "the server's answer has no \"namespaces\" list");
  }
  std::cout << FolderLine(options, set) << ":\n";
  std::vector<std::vector<std::string>> rows;
  int code = 0;
  bool unreadable = false;
  for (const auto& item : members->get_array()) {
    const json::object& ns = item.as_object();
    std::string name(ns.at("name").as_string());
    if (const json::value* error = ns.if_contains("error"); error && error->is_object()) {
      rows.push_back({name, "error: " + std::string(error->as_object().at("message").as_string())});
      unreadable = true;
      continue;
    }
    auto recorded = schema::RecordedFromJson(ns.at("recorded"));
    if (!recorded.ok()) {
      return Fail("status", recorded.status().message());
    }
    auto statuses = schema::CompareMigrations(set, *recorded);
    code = std::max(code, StatusExitCode(statuses));
    rows.push_back({name, Summary(statuses)});
  }
  std::cout << FormatTable({{"namespace"}, {"migrations"}}, rows);
  return unreadable ? 1 : code;
}

int ShowStatus(const MigrateOptions& options) {
  if (!CheckTarget("status", options, true)) {
    return 2;
  }
  auto set = ReadFolder(options);
  if (!set.ok()) {
    return Fail("status", set.status().message());
  }
  if (!options.group.empty()) {
    return GroupStatus(options, *set);
  }
  auto recorded = RecordedOn(options);
  if (!recorded.ok()) {
    return Fail("status", recorded.status().message());
  }
  auto statuses = schema::CompareMigrations(*set, *recorded);
  if (options.as_json) {
    std::cout << json::serialize(json::object{{"format", schema::FormatName(set->format)},
                                              {"migrations", schema::StatusesJson(statuses)}})
              << "\n";
    return StatusExitCode(statuses);
  }
  std::cout << FolderLine(options, *set) << ":\n";
  PrintStatuses(statuses);
  return StatusExitCode(statuses);
}

int DryRun(const MigrateOptions& options) {
  if (!CheckTarget("dry-run", options, false)) {
    return 2;
  }
  auto set = ReadFolder(options);
  if (!set.ok()) {
    return Fail("dry-run", set.status().message());
  }
  auto recorded = RecordedOn(options);
  if (!recorded.ok()) {
    return Fail("dry-run", recorded.status().message());
  }
  auto plan = schema::PlanMigrations(*set, *recorded, {.force = options.force});
  if (!plan.ok()) {
    return Fail("dry-run", plan.status().message());
  }
  std::cout << "-- " << FolderLine(options, *set) << "\n";
  for (const auto& migration : *plan) {
    std::cout << "\n-- " << migration.id << " (" << migration.source << ")\n";
    for (const auto& statement : migration.statements) {
      std::cout << statement << (statement.back() == ';' ? "" : ";") << "\n";
    }
  }
  std::cout << "\n-- " << plan->size() << (plan->size() == 1 ? " migration" : " migrations")
            << " would be applied; nothing was written.\n";
  return 0;
}

// "(file: migrations/x.sql)" for a failure reported by the server, which knows only ids.
std::string FailureFile(const json::value& body, const MigrationSet& set) {
  const json::value* failure =
      body.is_object() ? body.get_object().if_contains("failure") : nullptr;
  if (failure == nullptr || !failure->is_object()) {
    return "";
  }
  const json::value* id = failure->get_object().if_contains("migration");
  const schema::Migration* migration =
      id && id->is_string() ? set.Find(std::string(id->get_string())) : nullptr;
  return migration ? "\n  file: " + migration->source : "";
}

int GroupApply(const MigrateOptions& options, const MigrationSet& set) {
  std::string body = json::serialize(schema::MigrationRequestJson(set, options.force));
  auto reply =
      AdminCall(options.connection, "POST", "/groups/" + options.group + "/migrations", body);
  if (!reply.ok()) {
    return Fail("apply", reply.status().message());
  }
  const json::value* members =
      reply->body.is_object() ? reply->body.get_object().if_contains("namespaces") : nullptr;
  std::vector<std::vector<std::string>> rows;
  if (members != nullptr && members->is_array()) {
    for (const auto& item : members->get_array()) {
      const json::object& ns = item.as_object();
      auto recorded = schema::RecordedFromJson(ns.at("recorded"));
      std::string applied_now = std::to_string(ns.at("applied_now").as_array().size());
      rows.push_back({std::string(ns.at("name").as_string()), applied_now,
                      recorded.ok() ? Summary(schema::CompareMigrations(set, *recorded))
                                    : recorded.status().message()});
    }
  }
  if (!reply->ok()) {
    std::cerr << "quarry migrate apply: " << reply->Message() << FailureFile(reply->body, set)
              << "\n";
    std::cerr << FormatTable({{"namespace"}, {"applied now", true}, {"migrations"}}, rows);
    return 1;
  }
  std::cout << "Group '" << options.group << "':\n"
            << FormatTable({{"namespace"}, {"applied now", true}, {"migrations"}}, rows);
  return 0;
}

int Apply(const MigrateOptions& options) {
  if (!CheckTarget("apply", options, true)) {
    return 2;
  }
  auto set = ReadFolder(options);
  if (!set.ok()) {
    return Fail("apply", set.status().message());
  }
  if (!options.group.empty()) {
    return GroupApply(options, *set);
  }
  if (!options.file.empty()) {
    auto conn = OpenLocal(options.file);
    if (!conn.ok()) {
      return Fail("apply", conn.status().message());
    }
    schema::MigrationRun run = schema::Migrator(**conn).Apply(*set, {.force = options.force});
    for (const auto& id : run.done) {
      std::cout << "Applied " << id << "\n";
    }
    if (!run.status.ok()) {
      return Fail("apply", run.status.message());
    }
    std::cout << run.done.size() << (run.done.size() == 1 ? " migration" : " migrations")
              << " applied; " << TargetName(options) << " is up to date.\n";
    return 0;
  }
  std::string body = json::serialize(schema::MigrationRequestJson(*set, options.force));
  auto reply =
      AdminCall(options.connection, "POST", "/namespaces/" + options.db + "/migrations", body);
  if (!reply.ok()) {
    return Fail("apply", reply.status().message());
  }
  const json::value* applied =
      reply->body.is_object() ? reply->body.get_object().if_contains("applied") : nullptr;
  size_t count = 0;
  if (applied != nullptr && applied->is_array()) {
    for (const auto& id : applied->get_array()) {
      std::cout << "Applied " << id.as_string().c_str() << "\n";
      ++count;
    }
  }
  if (!reply->ok()) {
    return Fail("apply", reply->Message() + FailureFile(reply->body, *set));
  }
  std::cout << count << (count == 1 ? " migration" : " migrations") << " applied; "
            << TargetName(options) << " is up to date.\n";
  return 0;
}

int Down(const MigrateOptions& options) {
  if (!CheckTarget("down", options, false)) {
    return 2;
  }
  auto set = ReadFolder(options);
  if (!set.ok()) {
    return Fail("down", set.status().message());
  }
  std::vector<std::string> undone;
  quarry::Status status;
  if (!options.file.empty()) {
    auto conn = OpenLocal(options.file);
    if (!conn.ok()) {
      return Fail("down", conn.status().message());
    }
    schema::MigrationRun run =
        schema::Migrator(**conn).Down(*set, options.count, {.force = options.force});
    undone = run.done;
    status = run.status;
  } else {
    json::object request = schema::MigrationRequestJson(*set, options.force);
    request.emplace("count", options.count);
    auto reply =
        AdminCall(options.connection, "POST", "/namespaces/" + options.db + "/migrations/down",
                  json::serialize(request));
    if (!reply.ok()) {
      return Fail("down", reply.status().message());
    }
    const json::value* list =
        reply->body.is_object() ? reply->body.get_object().if_contains("undone") : nullptr;
    if (list != nullptr && list->is_array()) {
      for (const auto& id : list->get_array()) {
        undone.emplace_back(id.as_string());
      }
    }
    if (!reply->ok()) {
      status = quarry::Status(ErrorCode::kInvalidArgument,
                              reply->Message() + FailureFile(reply->body, *set));
    }
  }
  for (const auto& id : undone) {
    std::cout << "Undid " << id << "\n";
  }
  if (!status.ok()) {
    return Fail("down", status.message());
  }
  std::cout << undone.size() << (undone.size() == 1 ? " migration" : " migrations") << " undone.\n";
  return 0;
}

int Create(const MigrateOptions& options) {
  if (!options.schema_file.empty()) {
    return CreateMigrationFromSchema(options.label, options.dir, options.schema_file, options.file,
                                     options.db, options.allow_data_loss, options.connection);
  }
  auto path = schema::CreateMigrationFile(options.dir, options.label, "", "",
                                          std::chrono::system_clock::now());
  if (!path.ok()) {
    return Fail("create", path.status().message());
  }
  std::cout << "Created " << path->string() << "\n";
  return 0;
}

// Adds --dir and the target options shared by the subcommands.
void AddTargetOptions(CLI::App* cmd, MigrateOptions& options, bool allow_group) {
  cmd->add_option("--dir", options.dir, "Migrations folder")->capture_default_str();
  cmd->add_option("--db", options.db, "Namespace on the running server (see --url)");
  cmd->add_option("--file", options.file, "Local SQLite file, migrated in-process (no server)");
  if (allow_group) {
    cmd->add_option("--group", options.group, "Schema group on the running server");
  }
  AddConnectionOptions(cmd, options.connection);
}

}  // namespace

void RegisterMigrateCommand(CLI::App& app, ExitCode& exit_code) {
  auto* migrate = app.add_subcommand(
      "migrate", "Apply migration folders (Quarry, drizzle-kit or plain numbered .sql files)");
  migrate->require_subcommand(1);
  {
    auto* cmd = migrate->add_subcommand(
        "create",
        "Write migrations/<timestamp>_<label>.sql: empty to fill in, or with --schema the SQL that "
        "brings the database (--file, or --db on the server) to the schema file");
    auto options = std::make_shared<MigrateOptions>();
    cmd->add_option("LABEL", options->label, "What it does: letters, digits, _ and - (add_users)")
        ->required();
    cmd->add_option("--dir", options->dir, "Migrations folder")->capture_default_str();
    cmd->add_option("--schema", options->schema_file,
                    "Schema file to diff against the database (needs --file or --db)");
    cmd->add_option("--file", options->file, "Local SQLite database to diff (with --schema)");
    cmd->add_option("--db", options->db, "Server namespace to diff (with --schema; see --url)");
    cmd->add_flag("--allow-data-loss", options->allow_data_loss,
                  "Also plan dropping tables and columns that hold data (with --schema)");
    AddConnectionOptions(cmd, options->connection);
    cmd->callback([=, &exit_code] { exit_code.value = Create(*options); });
  }
  {
    auto* cmd = migrate->add_subcommand(
        "apply", "Apply pending migrations in order, each in its own transaction");
    auto options = std::make_shared<MigrateOptions>();
    AddTargetOptions(cmd, *options, true);
    cmd->add_flag("--force", options->force,
                  "Apply even though an applied migration was modified or removed");
    cmd->callback([=, &exit_code] { exit_code.value = Apply(*options); });
  }
  {
    auto* cmd = migrate->add_subcommand(
        "status", "Show each migration: applied, pending, modified (after apply) or missing");
    auto options = std::make_shared<MigrateOptions>();
    AddTargetOptions(cmd, *options, true);
    cmd->add_flag("--json", options->as_json, "Print JSON instead of a table");
    cmd->callback([=, &exit_code] { exit_code.value = ShowStatus(*options); });
  }
  {
    auto* cmd = migrate->add_subcommand("dry-run", "Print the SQL apply would run; write nothing");
    auto options = std::make_shared<MigrateOptions>();
    AddTargetOptions(cmd, *options, false);
    cmd->add_flag("--force", options->force, "Plan even though an applied migration changed");
    cmd->callback([=, &exit_code] { exit_code.value = DryRun(*options); });
  }
  {
    auto* cmd = migrate->add_subcommand(
        "down", "Undo the last N applied migrations with their \"-- down\" sections");
    auto options = std::make_shared<MigrateOptions>();
    cmd->add_option("N", options->count, "How many to undo")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    AddTargetOptions(cmd, *options, false);
    cmd->add_flag("--force", options->force, "Undo even though the migration file changed");
    cmd->callback([=, &exit_code] { exit_code.value = Down(*options); });
  }
  RegisterSchemaMigrateCommands(migrate, exit_code);
}

}  // namespace quarry::cli
