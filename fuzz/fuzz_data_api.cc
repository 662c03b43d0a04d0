// Fuzz target, end to end below HTTP: the data API (query::RunOperation, RunQuerySpec,
// RunTransaction) running fuzzed request bodies against a fixed schema with policies, field
// rules, validators, defaults, soft delete and FTS, on a seeded SQLite file opened as the server
// opens a namespace's database.
//
// Input: three header bytes, then the body.
//   byte 0, identity: (b - '0') % 6   0 service rw, 1 service ro, 2 user 7 (member of account 1),
//                                     3 user 8 (role admin, level 6), 4 user without claims,
//                                     5 user with claims of odd types
//   byte 1, model:    (b - '0') % 4   0 accounts, 1 members, 2 posts, 3 an unknown model
//   byte 2, request:  (b - 'a') % 25  a..w the operations in data_api.h's order (a findMany,
//                                     m create, ...), x /v1/query, y /v1/transaction
// The body is parsed by protocol::ParseJsonBody, as the server parses it; an empty body is no
// arguments. Every request runs in a transaction that is rolled back, so each input starts from
// the same seeded rows and a crash reproduces from its input alone. Work is bounded: 1 s per
// input (the connection's deadline), 1 MiB of result rows per statement.
//
// Properties: no crash, hang or leak; an answer is valid JSON; an error is never kInternal
// (except from the operations not built yet: aggregate, groupBy, search); a user caller never
// gets an SQLite error of the kind a compiler bug gives (an SQL text SQLite cannot prepare).
// Field rules hold in every answer, cursors (decoded) included: nobody gets the seeded @secret
// value back, and no user the seeded @guarded value or the note its @allow('read') hides (on a
// draft post the user may read).

#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64.h"
#include "fuzz_check.h"
#include "protocol/json_body.h"
#include "query/connection_runner.h"
#include "query/data_api.h"
#include "schema/binder.h"
#include "schema/ddl.h"
#include "storage/connection.h"
#include "storage/execute.h"

namespace {
using namespace quarry;
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr char kSchema[] = R"(enum Role { admin member guest }

model accounts {
  id      Integer   @id
  name    Text      @trim @length(1, 40)
  plan    Role      @default(member)
  ownerId Integer?  @default(auth().id)
  members members[]
  posts   posts[]
  @@allow('read', check(members, userId == auth().id) || auth().role == 'admin')
  @@allow('create', auth().id != null)
  @@allow('update', ownerId == auth().id)
  @@allow('delete', ownerId == auth().id)
  @@deny('delete', plan == 'admin', "admin accounts stay")
  @@gate("1.3.4.6")
}

model members {
  id        Integer  @id @default(autoincrement())
  account   accounts @relation(fields: [accountId], references: [id], onDelete: Cascade)
  accountId Integer
  userId    Integer
  role      Role     @default(member)
  @@unique([accountId, userId])
  @@allow('all', userId == auth().id || check(account, ownerId == auth().id))
}

model posts {
  id        Integer   @id
  title     Text      @lower @length(max: 200)
  body      Text?     @omit
  status    Text      @default("draft")
  score     Real?     @gte(0) @lte(100)
  views     Integer   @default(0) @gte(0)
  tags      Text[]
  meta      Json?
  data      Blob?
  slug      Text?     @unique @default(nanoid())
  email     Text?     @email
  site      Text?     @url
  code      Text?     @regex("^[A-Z]{2}-[0-9]+$")
  secretKey Text?     @secret
  internal  Text?     @guarded
  note      Text?     @allow('read', status == 'published') @allow('write', auth().role == 'admin')
  createdAt DateTime  @default(now())
  updatedAt DateTime? @updatedAt
  editorId  Integer?  @updatedBy
  deletedAt DateTime?
  account   accounts? @relation(fields: [accountId], references: [id], onDelete: SetNull)
  accountId Integer?
  @@softDelete
  @@fts([title, body])
  @@index([status])
  @@allow('read', status == 'published' || check(account, check(members, userId == auth().id)))
  @@allow('create', accountId == null || check(account, check(members, userId == auth().id)))
  @@allow('update', check(account, check(members, userId == auth().id)), "not your post")
  @@allow('delete', auth().role == 'admin')
  @@deny('update', status == 'archived' && auth().role != 'admin')
}
)";

constexpr char kSeed[] = R"(
INSERT INTO accounts (id, name, plan, ownerId) VALUES (1, 'one', 'member', 7), (2, 'two', 'admin', 8),
  (3, 'three', 'guest', NULL);
INSERT INTO members (id, accountId, userId, role) VALUES (1, 1, 7, 'member'), (2, 2, 8, 'admin'),
  (3, 1, 8, 'guest');
INSERT INTO posts (id, title, body, status, score, views, tags, meta, data, slug, email,
                   secretKey, internal, note, createdAt, deletedAt, accountId) VALUES
  (1, 'hello', 'first body', 'published', 4.5, 10, '["a","b"]', '{"k":1,"n":{"x":[1,2]}}', X'00FF',
   's1', 'a@b.co', 'S3cr3tVa1ue', 'Gu4rdedVa1ue', 'n1', '2024-01-01T00:00:00.000Z', NULL, 1),
  (2, 'draft one', NULL, 'draft', NULL, 0, '[]', NULL, NULL, 's2', NULL, NULL, NULL, 'Hidd3nN0te',
   '2024-01-02T00:00:00.000Z', NULL, 1),
  (3, 'gone', 'removed', 'published', 99, 3, '["c"]', 'null', NULL, 's3', NULL, NULL, NULL, NULL,
   '2024-01-03T00:00:00.000Z', '2024-02-01T00:00:00.000Z', 2),
  (4, 'archived', NULL, 'archived', 0, 1, '["a"]', '[1,"two",null]', X'', NULL, NULL, NULL, NULL,
   'n4', '2024-01-04T00:00:00.000Z', NULL, NULL);
)";

const char* const kModels[] = {"accounts", "members", "posts", "nope"};
const char* const kOps[] = {
    "findMany",         "findFirst",      "findUnique", "findFirstOrThrow", "findUniqueOrThrow",
    "findManyAndCount", "findManyCursor", "count",      "exists",           "aggregate",
    "groupBy",          "search",         "create",     "createMany",       "update",
    "updateMany",       "upsert",         "upsertMany", "delete",           "deleteMany",
    "remove",           "removeMany",     "restore"};
constexpr size_t kOpCount = sizeof(kOps) / sizeof(kOps[0]);
static_assert(kOpCount == 23, "the operations of data_api.h");

query::Identity IdentityFor(uint8_t byte) {
  switch (static_cast<uint8_t>(byte - '0') % 6) {
    case 0:
      return query::Identity::Service(true);
    case 1:
      return query::Identity::Service(false);
    case 2:
      return query::Identity::User({{"id", 7}, {"role", "member"}});
    case 3:
      return query::Identity::User({{"id", 8}, {"role", "admin"}, {"level", 6}});
    case 4:
      return query::Identity::User({});
    default:
      return query::Identity::User(
          {{"id", "7"}, {"role", json::array{1, 2}}, {"level", 18446744073709551615ull}});
  }
}

struct Fixture {
  schema::Schema schema;
  std::unique_ptr<storage::Connection> conn;
};

Fixture& Shared() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    auto bound = schema::LoadAndBindSchema(
        "main.schema", [](const std::string&) { return Result<std::string>(kSchema); });
    if (!bound.ok()) {
      std::fprintf(stderr, "%s\n", bound.status().message().c_str());
    }
    FUZZ_CHECK(bound.ok());
    f->schema = std::move(*bound);
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    static fs::path dir = base / ("quarry-fuzz-data-api-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto conn = storage::Connection::Open(dir / "data.db", storage::ConnectionOptions{}, true);
    FUZZ_CHECK(conn.ok());
    f->conn = std::move(*conn);
    std::string ddl;
    for (const std::string& statement : schema::GenerateDdl(f->schema)) {
      ddl += statement + ";\n";
    }
    Status created = f->conn->Exec(ddl);
    if (!created.ok()) {
      std::fprintf(stderr, "%s\n", created.message().c_str());
    }
    FUZZ_CHECK(created.ok());
    FUZZ_CHECK(f->conn->Exec(kSeed).ok());
    // The folder goes when the process ends normally; after a crash it is left for a look.
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(dir, ec);
    });
    return f;
  }();
  return *fixture;
}

// SQLite's answer to SQL it could not prepare: what a compiled statement must never get.
bool IsCompileError(const Status& status) {
  if (status.code() != ErrorCode::kSqlite || (status.sqlite_code() & 0xff) != SQLITE_ERROR) {
    return false;
  }
  const std::string& m = status.message();
  for (const char* legit : {"too large", "too many", "stack overflow", "too big", "malformed JSON",
                            "JSON path error", "bad JSON path", "interrupted"}) {
    if (m.find(legit) != std::string::npos) {
      return false;
    }
  }
  return true;
}

// Seeded values that field rules keep out of answers (see kSeed).
constexpr std::string_view kSecret = "S3cr3tVa1ue";     // posts 1 secretKey: @secret
constexpr std::string_view kGuarded = "Gu4rdedVa1ue";   // posts 1 internal: @guarded
constexpr std::string_view kHiddenNote = "Hidd3nN0te";  // posts 2 note: read only when published

// `answer` and the payloads of the cursors in it (base64url before a '.', as read.cc makes
// them), where a value could also leak.
std::string WithCursorPayloads(const std::string& answer) {
  std::string all = answer;
  for (size_t at = answer.find("\"nextCursor\":\""); at != std::string::npos;
       at = answer.find("\"nextCursor\":\"", at + 1)) {
    size_t start = at + 14;
    size_t dot = answer.find('.', start);
    if (dot != std::string::npos) {
      if (auto payload = Base64UrlDecode(std::string_view(answer).substr(start, dot - start))) {
        all += "\n" + *payload;
      }
    }
  }
  return all;
}

bool Holds(const std::string& text, std::string_view value) {
  return text.find(value) != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) {
    return 0;
  }
  Fixture& fixture = Shared();
  storage::Connection& conn = *fixture.conn;
  std::string_view body(reinterpret_cast<const char*>(data) + 3, size - 3);
  json::value args;
  if (!body.empty()) {
    auto parsed = protocol::ParseJsonBody(body);
    if (!parsed.ok()) {
      return 0;
    }
    args = std::move(*parsed);
  }
  query::Identity identity = IdentityFor(data[0]);
  const char* model = kModels[static_cast<uint8_t>(data[1] - '0') % 4];
  size_t request = static_cast<uint8_t>(data[2] - 'a') % (kOpCount + 2);

  query::CompileContext ctx{fixture.schema, identity, "2024-06-01T12:00:00.000Z",
                            [](std::string_view payload) {
                              return std::string("mac:") + std::string(payload.substr(0, 8));
                            }};
  query::ConnectionRunner runner(conn, 1 << 20);
  conn.SetDeadline(std::chrono::steady_clock::now() + std::chrono::seconds(1));
  FUZZ_CHECK(conn.Exec("BEGIN IMMEDIATE").ok());
  Result<std::string> result = Status(ErrorCode::kInternal, "not run");
  if (request < kOpCount) {
    result = query::RunOperation(ctx, model, kOps[request], args, runner);
  } else if (request == kOpCount) {
    result = query::RunQuerySpec(ctx, args, runner);
  } else {
    result = query::RunTransaction(ctx, args, runner);
  }
  FUZZ_CHECK(conn.RollbackIfOpen().ok());
  conn.SetDeadline(std::chrono::steady_clock::time_point::max());

  if (result.ok()) {
    boost::system::error_code ec;
    json::parse(*result, ec);
    if (ec) {
      std::fprintf(stderr, "not JSON: %s\n", result->c_str());
    }
    FUZZ_CHECK(!ec);
    std::string seen = WithCursorPayloads(*result);
    bool leak = Holds(seen, kSecret) ||
                (!identity.system() && (Holds(seen, kGuarded) || Holds(seen, kHiddenNote)));
    if (leak) {
      std::fprintf(stderr, "a field rule does not hold in: %s\n", seen.c_str());
    }
    FUZZ_CHECK(!leak);
    return 0;
  }
  const Status& status = result.status();
  // aggregate, groupBy and search answer kInternal until they are built.
  bool internal = status.code() == ErrorCode::kInternal &&
                  status.message().find("is being built") == std::string::npos;
  if (internal) {
    std::fprintf(stderr, "internal error: %s\n", status.message().c_str());
  }
  FUZZ_CHECK(!internal);
  if (!identity.system() && IsCompileError(status)) {
    std::fprintf(stderr, "SQL the compiler made does not prepare: %s\n", status.message().c_str());
    FUZZ_CHECK(false);
  }
  return 0;
}
