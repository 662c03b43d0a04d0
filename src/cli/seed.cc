// `quarry seed FILE`: insert a seed file's rows into a namespace on the server (--db) or a local
// SQLite file (--file), idempotently and atomically (see schema/seeder.h for the format).

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/connection_options.h"
#include "client/client.h"
#include "client/url.h"
#include "schema/seeder.h"
#include "storage/connection.h"

namespace quarry::cli {

namespace {

struct SeedOptions {
  ConnectionOptions connection;
  std::string path;
  std::string db;
  std::string file;
};

int Fail(std::string_view message) {
  std::cerr << "quarry seed: " << WithCredentialHint(std::string(message)) << "\n";
  return 1;
}

bool IsSql(const std::string& path) {
  return path.size() >= 4 && path.substr(path.size() - 4) == ".sql";
}

Result<schema::SeedReport> SeedServer(const SeedOptions& options, const std::string& text) {
  QUARRY_ASSIGN_OR_RETURN(client::ClientUrl base, client::ParseClientUrl(options.connection.url));
  if (base.kind != client::ClientUrl::Kind::kHttp) {
    return Status(ErrorCode::kInvalidArgument,
                  "--url is a local file; use --file PATH for a local database");
  }
  QUARRY_ASSIGN_OR_RETURN(std::string token, ResolveAdminToken(options.connection));
  QUARRY_ASSIGN_OR_RETURN(std::unique_ptr<client::Client> db,
                          client::Client::Open(base.Origin() + "/db/" + options.db, token,
                                               {.http = HttpOptionsOf(options.connection)}));
  schema::SeedReport report;
  if (IsSql(options.path)) {
    QUARRY_ASSIGN_OR_RETURN(client::Transaction txn, db->BeginTransaction());
    Status run = txn.ExecuteMultiple(text);
    if (!run.ok()) {
      return Status(run.code(), options.path + ": " + run.message() + "; nothing was seeded",
                    run.sqlite_code());
    }
    QUARRY_RETURN_IF_ERROR(txn.Commit());
    return report;
  }
  QUARRY_ASSIGN_OR_RETURN(std::vector<schema::SeedStatement> plan,
                          schema::PlanJsonSeed(text, options.path));
  if (plan.empty()) {
    return report;
  }
  std::vector<client::Statement> batch;
  for (const auto& row : plan) {
    client::Statement statement(row.sql);
    for (const auto& value : row.values) {
      if (std::holds_alternative<int64_t>(value)) {
        statement.args.push_back(client::Integer(std::get<int64_t>(value)));
      } else if (std::holds_alternative<double>(value)) {
        statement.args.push_back(client::Float(std::get<double>(value)));
      } else if (std::holds_alternative<std::string>(value)) {
        statement.args.push_back(client::Text(std::get<std::string>(value)));
      } else {
        statement.args.push_back(client::Null());
      }
    }
    batch.push_back(std::move(statement));
  }
  auto results = db->Batch(batch);
  if (!results.ok()) {
    return Status(results.status().code(),
                  options.path + ": " + results.status().message() + "; nothing was seeded",
                  results.status().sqlite_code());
  }
  for (const auto& result : *results) {
    (result.rows_affected > 0 ? report.inserted : report.ignored) += 1;
  }
  return report;
}

int Run(const SeedOptions& options) {
  if (options.db.empty() == options.file.empty()) {
    return Fail(
        "name the database: --db NAME (a namespace on the server at --url) or --file "
        "PATH (a local SQLite file)");
  }
  std::ifstream in(options.path, std::ios::binary);
  if (!in) {
    return Fail("cannot read " + options.path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  Result<schema::SeedReport> report = schema::SeedReport{};
  if (!options.file.empty()) {
    auto conn = storage::Connection::Open(options.file, storage::ConnectionOptions{}, true);
    if (!conn.ok()) {
      return Fail(conn.status().message());
    }
    report = schema::Seed(**conn, text.str(), options.path);
  } else {
    report = SeedServer(options, text.str());
  }
  if (!report.ok()) {
    return Fail(report.status().message());
  }
  if (IsSql(options.path)) {
    std::cout << "Ran " << options.path << ".\n";
  } else {
    std::cout << "Seeded " << options.path << ": " << report->inserted << " rows inserted, "
              << report->ignored << " already present.\n";
  }
  return 0;
}

}  // namespace

void RegisterSeedCommand(CLI::App& app, ExitCode& exit_code) {
  auto* cmd = app.add_subcommand(
      "seed", "Insert a seed file's rows, skipping rows already present (safe to rerun)");
  cmd->footer(
      "A JSON seed is {\"table\": [{\"column\": value, ...}, ...], ...}, tables in file order; "
      "each row is inserted unless its primary or unique key exists. A .sql seed runs as it is. "
      "Either way the whole file applies in one transaction or not at all.");
  auto options = std::make_shared<SeedOptions>();
  cmd->add_option("FILE", options->path, "Seed file: .json or .sql")->required();
  cmd->add_option("--db", options->db, "Namespace on the running server (see --url)");
  cmd->add_option("--file", options->file, "Local SQLite file (no server)");
  AddConnectionOptions(cmd, options->connection);
  cmd->callback([=, &exit_code] { exit_code.value = Run(*options); });
}

}  // namespace quarry::cli
