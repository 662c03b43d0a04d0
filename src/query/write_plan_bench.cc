// What the plan cache saves a repeated write: `create` and `update` of one posts row under row
// policies, run through query::RunOperation on a SQLite file inside one transaction, with the
// cache (argument 1) and compiling every statement (argument 0). Not a test: run by hand,
//   build/src/query/write_plan_bench --benchmark_min_time=2
// (BENCHMARKS.md records a run).

#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <filesystem>

#include "common/random.h"
#include "query/connection_runner.h"
#include "query/data_api.h"
#include "query/plan_cache.h"
#include "schema/binder.h"
#include "schema/ddl.h"
#include "storage/connection.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

constexpr const char* kSchema = R"(
model posts {
  id        Integer @id
  title     Text    @trim @length(1, 200)
  body      Text?
  status    Text    @default("draft")
  views     Integer @default(0)
  accountId Integer
  updatedAt DateTime? @updatedAt

  @@allow('read', status == 'published' || accountId == auth().accountId)
  @@allow('create', accountId == auth().accountId)
  @@allow('update', accountId == auth().accountId)
}
)";

// A posts table in a fresh file, written inside one open transaction.
class Fixture {
 public:
  Fixture() {
    auto bound = schema::LoadAndBindSchema(
        "main.schema", [](const std::string&) { return Result<std::string>(kSchema); });
    schema_ = std::move(*bound);
    path_ = std::filesystem::temp_directory_path() /
            ("quarry-write-bench-" + RandomToken().substr(0, 12));
    auto conn = storage::Connection::Open(path_, {}, true);
    conn_ = std::move(*conn);
    for (const std::string& ddl : schema::GenerateDdl(schema_)) {
      conn_->Exec(ddl).PermitUncheckedError();
    }
    conn_->Exec("INSERT INTO posts (id, title, accountId) VALUES (1, 'first', 5)")
        .PermitUncheckedError();
    conn_->Exec("BEGIN IMMEDIATE").PermitUncheckedError();
  }
  ~Fixture() {
    conn_->RollbackIfOpen().PermitUncheckedError();
    conn_.reset();
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    std::filesystem::remove(path_.string() + "-wal", ec);
    std::filesystem::remove(path_.string() + "-shm", ec);
  }

  // Runs `op` on posts as a user of account 5; false on an error.
  bool Run(PlanCache* cache, const char* op, const json::value& args) {
    CompileContext ctx{schema_, user_, "2024-01-01T00:00:00.000Z", nullptr};
    ctx.plans = cache;
    ctx.schema_generation = 1;
    ConnectionRunner runner(*conn_, 1 << 20);
    return RunOperation(ctx, "posts", op, args, runner).ok();
  }

 private:
  schema::Schema schema_;
  const Identity user_ = Identity::User(json::parse(R"({"accountId": 5})").as_object());
  std::filesystem::path path_;
  std::unique_ptr<storage::Connection> conn_;
};

void BM_Create(benchmark::State& state) {
  Fixture fixture;
  PlanCache cache;
  PlanCache* plans = state.range(0) != 0 ? &cache : nullptr;
  int64_t id = 100;
  for (auto _ : state) {
    json::value args = {{"data", {{"id", ++id}, {"title", " a title "}, {"accountId", 5}}},
                        {"select", {{"id", true}, {"title", true}}}};
    if (!fixture.Run(plans, "create", args)) {
      state.SkipWithError("create failed");
      break;
    }
  }
  state.counters["hits"] = static_cast<double>(cache.hits());
}

void BM_Update(benchmark::State& state) {
  Fixture fixture;
  PlanCache cache;
  PlanCache* plans = state.range(0) != 0 ? &cache : nullptr;
  int64_t n = 0;
  for (auto _ : state) {
    json::value args = {
        {"where", {{"id", 1}}},
        {"data", {{"title", "title " + std::to_string(++n)}, {"views", {{"increment", 1}}}}}};
    if (!fixture.Run(plans, "update", args)) {
      state.SkipWithError("update failed");
      break;
    }
  }
  state.counters["hits"] = static_cast<double>(cache.hits());
}

BENCHMARK(BM_Create)->ArgName("cached")->Arg(0)->Arg(1);
BENCHMARK(BM_Update)->ArgName("cached")->Arg(0)->Arg(1);

}  // namespace
}  // namespace quarry::query

BENCHMARK_MAIN();
