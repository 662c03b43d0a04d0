// Data-driven tests of the data API: every tests/data_api/**/*.test file.
//
// A .test file is a list of cases (read by tests/common/test_file.h); lines before the first
// case are comments. A case is:
//
//   # name: <what the case shows>
//   schema                    the schema (one file, no imports); a case without one uses the
//   <schema text>             previous case's, and a case with one drops the previous seed
//   sql                       SQL run on the fresh database after the schema's DDL, as the
//   <SQL>                     server itself (seed rows); inherited like the schema
//   as service | ro | user <claims JSON>
//                             who the following requests run as (default: service, i.e. an
//                             admin token); a user's claims are its auth()
//   request <model> <op> | request query | request transaction
//   <JSON body>               the request body (may be empty); repeatable. The text
//                             "$nextCursor" in a body becomes the previous answer's
//                             data.nextCursor, to page with findManyCursor
//   ----
//   <one line per request: the HTTP status and the response body>
//
// Each case runs on a new namespace in a new data folder: the schema's DDL, the seed SQL, the
// schema recorded as `quarry migrate push` records it, then the requests through the server's
// own DataApi (identity, schema registry, transactions, error shapes), on a clock fixed at
// 2024-01-01T00:00:00.000Z. Only HTTP parsing is left out (integration tests cover it).
//
// QUARRY_DATA_API_TEST_BLESS=1 rewrites each case's expected output with the actual one
// (review the diff before committing it).

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>

#include "common/clock.h"
#include "common/random.h"
#include "schema/binder.h"
#include "schema/ddl.h"
#include "schema/recorded_schema.h"
#include "server/data_api.h"
#include "server/schema_registry.h"
#include "storage/namespace_store.h"
#include "test_file.h"

namespace quarry::server {
namespace {

namespace json = boost::json;

struct Request {
  std::string identity;  // "service", "ro" or "user {...}"
  std::string target;    // "<model> <op>", "query" or "transaction"
  std::string body;
};

struct DataCase {
  std::string id;
  std::string location;
  std::string title;
  std::string schema;
  std::string sql;
  std::vector<Request> requests;
  std::string expected;
  std::string problem;
  std::string path;
  int expected_begin = 0;
  int expected_end = 0;
};

void PrintTo(const DataCase& c, std::ostream* os) { *os << c.location << " " << c.title; }

test_file::Blessings& Blessed() {
  static test_file::Blessings blessings("QUARRY_DATA_API_TEST_BLESS");
  return blessings;
}

std::string Sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return out;
}

bool IsSection(std::string_view line) {
  return line == "schema" || line == "sql" || line.rfind("as ", 0) == 0 ||
         line.rfind("request ", 0) == 0;
}

std::vector<DataCase> ParseCaseFile(const std::filesystem::path& path,
                                    const std::string& relative) {
  std::vector<DataCase> cases;
  std::string schema;
  std::string sql;
  for (test_file::TestCase& parsed : test_file::ReadTestFile(
           path,
           [](std::string_view line, const test_file::TestCase&) { return IsSection(line); })) {
    DataCase& c = cases.emplace_back();
    c.title = parsed.title;
    c.location = relative + ":" + std::to_string(parsed.line);
    c.path = path.string();
    c.id = Sanitize(relative.substr(0, relative.size() - 5)) + "_" + std::to_string(cases.size()) +
           "_" + Sanitize(c.title);
    std::string identity = "service";
    for (auto& [section, text] : parsed.sections) {
      if (section == "schema") {
        schema = text;
        sql.clear();
      } else if (section == "sql") {
        sql = text;
      } else if (section.rfind("as ", 0) == 0) {
        identity = section.substr(3);
      } else {
        test_file::TrimTrailingBlankLines(text);
        c.requests.push_back({identity, section.substr(8), text});
      }
    }
    c.schema = schema;
    c.sql = sql;
    c.expected = std::move(parsed.expected);
    test_file::TrimTrailingBlankLines(c.expected);
    c.expected_begin = parsed.expected_begin;
    c.expected_end = parsed.expected_end;
    c.problem = parsed.problem;
    if (c.schema.empty()) {
      c.problem = "no schema section in this case or an earlier one";
    } else if (c.requests.empty()) {
      c.problem = "the case has no request";
    } else if (!parsed.has_expected && c.problem.empty()) {
      c.problem = "the case has no '----' line";
    }
  }
  return cases;
}

std::vector<DataCase> LoadCases() {
  std::vector<DataCase> cases;
  std::filesystem::path root(QUARRY_DATA_API_TEST_DIR);
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".test") {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::string relative = std::filesystem::relative(file, root).string();
    for (auto& c : ParseCaseFile(file, relative)) {
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

Result<auth::Claims> ClaimsFor(const std::string& identity) {
  auth::Claims claims;
  claims.all_namespaces = true;
  if (identity == "service") {
    claims.access = auth::Access::kAdmin;
    return claims;
  }
  if (identity == "ro") {
    claims.access = auth::Access::kReadOnly;
    return claims;
  }
  if (identity.rfind("user ", 0) == 0) {
    json::error_code ec;
    json::value user = json::parse(identity.substr(5), ec);
    if (ec || !user.is_object()) {
      return Status(ErrorCode::kInvalidArgument, "`as user` takes a JSON object of claims");
    }
    claims.user = user.get_object();
    return claims;
  }
  return Status(ErrorCode::kInvalidArgument, "`as` takes service, ro or user {claims}");
}

class DataApiCaseTest : public testing::TestWithParam<DataCase> {};

TEST_P(DataApiCaseTest, Matches) {
  const DataCase& c = GetParam();
  ASSERT_TRUE(c.problem.empty()) << c.location << ": " << c.problem;
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("quarry-data-api-" + RandomToken().substr(0, 12));
  storage::StoreOptions options;
  options.data_dir = dir;
  auto store = storage::NamespaceStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().message();
  ASSERT_TRUE((*store)->Create("test").ok());
  {
    auto bound = schema::LoadAndBindSchema(
        "main.schema", [&](const std::string&) { return Result<std::string>(c.schema); });
    ASSERT_TRUE(bound.ok()) << c.location
                            << ": the schema does not bind: " << bound.status().message();
    auto db = (*store)->Get("test");
    ASSERT_TRUE(db.ok());
    auto lease = (*db)->Acquire(storage::AccessMode::kSystem);
    ASSERT_TRUE(lease.ok());
    for (const std::string& statement : schema::GenerateDdl(*bound)) {
      Status st = (*lease)->Exec(statement);
      ASSERT_TRUE(st.ok()) << statement << ": " << st.message();
    }
    if (!c.sql.empty()) {
      Status st = (*lease)->Exec(c.sql);
      ASSERT_TRUE(st.ok()) << c.location << ": seed SQL: " << st.message();
    }
    Status recorded = schema::RecordSchema((*lease)->handle(), c.schema);
    ASSERT_TRUE(recorded.ok()) << recorded.message();
  }
  SchemaRegistry schemas(**store, [](sqlite3* db) { return schema::LoadRecordedSchema(db); });
  ManualClock clock;
  DataApi api(**store, schemas, "test cursor key", clock, 32 << 20);
  std::string actual;
  std::string next_cursor = "null";
  for (const Request& r : c.requests) {
    auto claims = ClaimsFor(r.identity);
    ASSERT_TRUE(claims.ok()) << c.location << ": " << claims.status().message();
    http::Request request;
    request.method = "POST";
    request.body = r.body;
    for (size_t at = request.body.find("\"$nextCursor\""); at != std::string::npos;
         at = request.body.find("\"$nextCursor\"")) {
      request.body.replace(at, 13, next_cursor);
    }
    http::Response response;
    if (r.target == "query") {
      response = api.Handle(DataApi::Kind::kQuery, request, "test", *claims);
    } else if (r.target == "transaction") {
      response = api.Handle(DataApi::Kind::kTransaction, request, "test", *claims);
    } else {
      size_t space = r.target.find(' ');
      ASSERT_NE(space, std::string::npos) << c.location << ": request <model> <op>";
      response = api.Handle(DataApi::Kind::kOperation, request, "test", *claims,
                            r.target.substr(0, space), r.target.substr(space + 1));
    }
    std::string body = response.body;
    if (response.status == 200) {
      // Show the data member exactly as the server wrote it.
      json::value parsed = json::parse(body);
      const json::value& data = parsed.at("data");
      if (data.is_object() && data.get_object().contains("nextCursor")) {
        next_cursor = json::serialize(data.at("nextCursor"));
      }
      const std::string prefix = "{\"data\":";
      EXPECT_TRUE(body.starts_with(prefix) && body.ends_with("}")) << body;
      body = body.substr(prefix.size(), body.size() - prefix.size() - 1);
    }
    actual += std::to_string(response.status) + " " + body + "\n";
  }
  test_file::TrimTrailingBlankLines(actual);
  Blessed().Record(c.path, c.expected_begin, c.expected_end, actual);
  EXPECT_EQ(actual, c.expected) << c.location << ": " << c.title;
  store->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Cases, DataApiCaseTest, testing::ValuesIn(LoadCases()),
                         [](const testing::TestParamInfo<DataCase>& info) {
                           return info.param.id;
                         });

TEST(DataApiCaseFiles, AreFound) { EXPECT_GT(LoadCases().size(), 10u); }

}  // namespace
}  // namespace quarry::server
