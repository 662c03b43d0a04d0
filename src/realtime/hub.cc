#include "realtime/hub.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <unordered_set>

#include "common/json_text.h"
#include "query/compile_context.h"
#include "query/data_api.h"
#include "query/policy_sql.h"
#include "query/read.h"
#include "query/sql_builder.h"
#include "query/where.h"
#include "storage/database.h"
#include "storage/value.h"

namespace quarry::realtime {
namespace {

namespace json = boost::json;

int64_t UnixMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.SystemNow().time_since_epoch())
      .count();
}

// What an equality on a field compares equal to, as one string: numbers (and text that reads as
// one, which SQLite's column affinity may turn into a number) by value, other text by its bytes.
// Two values SQLite may find equal always get the same key; the key only narrows which groups
// are evaluated, the group's statement decides.
std::string NumberKey(double d) {
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18) {
    return "n" + std::to_string(static_cast<int64_t>(d));
  }
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "n%.17g", d);
  return buffer;
}

std::string TextKey(std::string_view text) {
  std::string trimmed(text);
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
    trimmed.pop_back();
  }
  size_t start = 0;
  while (start < trimmed.size() && std::isspace(static_cast<unsigned char>(trimmed[start]))) {
    ++start;
  }
  if (start < trimmed.size()) {
    const char* begin = trimmed.c_str() + start;
    char* end = nullptr;
    double d = std::strtod(begin, &end);
    if (end != begin && *end == '\0') {
      return NumberKey(d);
    }
  }
  return "s" + std::string(text);
}

std::optional<std::string> JsonKey(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return "n" + std::to_string(v.get_int64());
    case json::kind::uint64:
      return NumberKey(static_cast<double>(v.get_uint64()));
    case json::kind::double_:
      return NumberKey(v.get_double());
    case json::kind::bool_:
      return v.get_bool() ? "n1" : "n0";
    case json::kind::string:
      return TextKey(v.get_string());
    default:
      return std::nullopt;
  }
}

std::optional<std::string> ValueKey(const storage::Value& v) {
  switch (v.type) {
    case storage::Value::Type::kInteger:
      return "n" + std::to_string(v.integer);
    case storage::Value::Type::kFloat:
      return NumberKey(v.real);
    case storage::Value::Type::kText:
      return TextKey(v.bytes);
    default:
      return std::nullopt;
  }
}

// A field `where` pins to one value in every row it matches: {field: v} or {field: {equals: v}}
// at the top level or inside a top-level AND.
struct Pin {
  std::string column;  // a copy: the schema the group was compiled from may go
  std::string key;
};

bool Indexable(const schema::Field& field) {
  if (!field.stored() || field.type.list) {
    return false;
  }
  if (field.type.kind == schema::FieldType::Kind::kEnum) {
    return true;
  }
  return field.type.kind == schema::FieldType::Kind::kScalar &&
         (field.type.scalar == schema::ScalarType::kInteger ||
          field.type.scalar == schema::ScalarType::kText ||
          field.type.scalar == schema::ScalarType::kBoolean);
}

std::optional<Pin> FindPin(const schema::Model& model, const json::value& where) {
  if (!where.is_object()) {
    return std::nullopt;
  }
  for (const auto& [key, value] : where.get_object()) {
    if (key == "AND") {
      if (value.is_object()) {
        if (auto pin = FindPin(model, value)) {
          return pin;
        }
      } else if (value.is_array()) {
        for (const auto& item : value.get_array()) {
          if (auto pin = FindPin(model, item)) {
            return pin;
          }
        }
      }
      continue;
    }
    const schema::Field* field = model.FindField(std::string(key));
    if (field == nullptr || !Indexable(*field)) {
      continue;
    }
    const json::value* pinned = &value;
    if (value.is_object()) {
      const json::object& ops = value.get_object();
      if (ops.size() != 1 || !ops.contains("equals")) {
        continue;
      }
      pinned = &ops.at("equals");
    }
    if (auto k = JsonKey(*pinned)) {
      return Pin{field->column, *k};
    }
  }
  return std::nullopt;
}

// A reset's "code": CHANGES_GONE when the log cannot give what comes after its seq (reload,
// then subscribe without since); otherwise resubscribing with since set to its seq can work.
constexpr std::string_view kResetGone = "CHANGES_GONE";
constexpr std::string_view kResetTooSlow = "TOO_SLOW";
constexpr std::string_view kResetUnavailable = "UNAVAILABLE";
constexpr std::string_view kResetSchema = "SCHEMA_CHANGED";

struct Conn;
struct Group;

struct NsLog;

struct Sub {
  std::string id;
  std::shared_ptr<NsLog> log;  // whose subscriber count it holds
  Conn* conn = nullptr;
  Group* group = nullptr;
  // Every transaction up to this one is handled for it; for a live one, also every transaction
  // up to its namespace's `dispatched` (see Position: not advanced per subscription, which cost
  // every transaction a pass over all of them).
  uint64_t delivered = 0;
  bool live = false;  // false: catching up from the log
  // The position its client last heard of (subscribed, a transaction's last change, a
  // progress mark), and when.
  uint64_t reported = 0;
  Clock::time_point reported_at{};
};

struct Conn {
  uint64_t number = 0;
  std::string ns;
  query::Identity identity;
  std::shared_ptr<Outbox> outbox;
  std::map<std::string, std::unique_ptr<Sub>> subs;
  bool closed = false;
};

// Subscriptions that share namespace, model, where, select and identity: one statement.
struct Group {
  std::string key;
  std::string ns;
  std::string model_name;  // as the model is named in the schema
  std::string table;
  json::value where;
  json::value select;
  query::Identity identity;
  // The compiled statement, for schema `generation`.
  uint64_t generation = 0;
  std::string sql;
  std::vector<storage::Value> params;
  std::vector<query::ParamSource> sources;
  std::vector<std::string> row_columns;  // the columns the row source supplies, by slot
  std::optional<Pin> pin;
  std::vector<Sub*> members;  // live subscriptions
  size_t users = 0;           // live and catching up
};

struct NsState {
  std::string name;
  uint64_t dispatched = 0;   // transactions up to this one are handled for live subscriptions
  size_t live = 0;           // live subscriptions
  size_t subscriptions = 0;  // live and catching up
  uint64_t generation = 0;   // of the schema the groups were last compiled against
  std::map<std::string, std::unique_ptr<Group>> groups;  // by key
  // Per table: groups pinned by a column's value, and the others.
  struct TableGroups {
    std::map<std::string, std::unordered_map<std::string, std::vector<Group*>>> pinned;
    std::vector<Group*> unpinned;
  };
  std::unordered_map<std::string, TableGroups> by_table;
};

// The identity of a namespace's folder: a deleted and recreated namespace has another.
struct FolderId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool exists = false;
  bool operator==(const FolderId&) const = default;
};
FolderId FolderOf(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return {};
  }
  return FolderId{st.st_dev, st.st_ino, true};
}

struct NsLog {
  FolderId folder;
  std::unique_ptr<ChangeLog> log;
  std::atomic<size_t> subscribers{0};  // subscriptions, live or catching up
  // Set when a committed transaction could not be appended: the newest number before it. A
  // resume from there or earlier would miss it, so it is a reset (until the server restarts).
  std::atomic<uint64_t> lost_after{0};
  std::atomic<bool> lost{false};
};

}  // namespace

struct Hub::Impl {
  Impl(storage::NamespaceStore& store, SchemaProvider schemas, HubOptions options,
       const Clock& clock)
      : store(store), schemas(std::move(schemas)), options(std::move(options)), clock(clock) {}

  storage::NamespaceStore& store;
  SchemaProvider schemas;
  const HubOptions options;
  const Clock& clock;

  // Shared between committing threads, callers and the dispatcher.
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void()>> commands;  // GUARDED_BY(mutex)
  size_t queued_transactions = 0;              // GUARDED_BY(mutex)
  std::set<std::string> behind;                // GUARDED_BY(mutex): namespaces with drops
  bool stopping = false;                       // GUARDED_BY(mutex)
  std::atomic<uint64_t> next_connection{1};

  std::mutex logs_mutex;
  std::unordered_map<std::string, std::shared_ptr<NsLog>> logs;  // GUARDED_BY(logs_mutex)

  // Dispatcher-only state.
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> connections;
  std::unordered_map<std::string, std::unique_ptr<NsState>> namespaces;
  std::set<Sub*> catching_up;

  std::thread dispatcher;

  static constexpr size_t kMaxQueuedTransactions = 100'000;

  void Post(std::function<void()> command) {
    {
      std::lock_guard lock(mutex);
      if (stopping) {
        return;
      }
      commands.push_back(std::move(command));
    }
    wake.notify_one();
  }

  Result<std::shared_ptr<NsLog>> LogFor(const std::string& ns) {
    std::lock_guard lock(logs_mutex);
    auto found = logs.find(ns);
    if (found != logs.end()) {
      return found->second;
    }
    const std::filesystem::path folder = options.data_dir / "ns" / ns;
    FolderId id = FolderOf(folder);
    if (!id.exists) {
      return Status(ErrorCode::kNamespaceNotFound, "namespace '" + ns + "' does not exist");
    }
    QUARRY_ASSIGN_OR_RETURN(auto log, ChangeLog::Open(folder / "changes", options.log));
    auto entry = std::make_shared<NsLog>();
    entry->folder = id;
    entry->log = std::move(log);
    logs.emplace(ns, entry);
    return entry;
  }

  void OnCommit(const storage::CommittedChanges& committed) {
    std::string ns(committed.ns);
    auto log = LogFor(ns);
    if (!log.ok()) {
      spdlog::error("realtime: namespace '{}': {}", ns, log.status().message());
      return;
    }
    int64_t now = UnixMs(clock);
    auto seq = (*log)->log->Append(now, committed.changes);
    if (!seq.ok()) {
      spdlog::error(
          "realtime: namespace '{}': a committed transaction is not in its change log: {}", ns,
          seq.status().message());
      (*log)->lost_after.store((*log)->log->last_seq());
      (*log)->lost.store(true);
      Post([this, ns] {
        ResetNamespace(ns, kResetUnavailable, "the change log could not be written; resubscribe");
      });
      return;
    }
    if ((*log)->subscribers.load() == 0) {
      return;  // nobody listens: the log has it for whoever subscribes with `since`
    }
    // The values are read back from the images on the dispatcher's thread, not the writer's.
    auto captured = std::make_shared<storage::CapturedChanges>(committed.changes);
    {
      std::lock_guard lock(mutex);
      if (stopping) {
        return;
      }
      if (queued_transactions >= kMaxQueuedTransactions) {
        // The dispatcher is behind: it reads this one from the log, at the latest when the
        // catch-up posted with the first one dropped runs.
        if (behind.count(ns) == 0) {
          behind.insert(ns);
          commands.push_back([this, ns] {
            {
              std::lock_guard lock(mutex);
              behind.erase(ns);
            }
            auto log = LogFor(ns);
            if (log.ok()) {
              Dispatch(ns, LoggedTransaction{(*log)->log->last_seq(), 0, {}}, /*from_log=*/true);
            }
          });
        }
        return;
      }
      ++queued_transactions;
      commands.push_back([this, ns, seq = *seq, now, captured] {
        {
          std::lock_guard lock(mutex);
          --queued_transactions;
        }
        Dispatch(ns, LoggedTransaction{seq, now, captured->Decode()});
      });
    }
    wake.notify_one();
  }

  void Run() {
    std::unique_lock lock(mutex);
    bool catching_up_waits = false;  // every catch-up waits for its socket to drain
    while (true) {
      if (commands.empty() && catching_up.empty()) {
        if (connections.empty()) {
          wake.wait(lock, [&] { return stopping || !commands.empty(); });
        } else {
          // Progress marks are due even when nothing happens.
          wake.wait_for(lock, ProgressScanInterval(),
                        [&] { return stopping || !commands.empty(); });
        }
      } else if (commands.empty() && catching_up_waits) {
        // Sockets drain on their own threads: look again shortly.
        wake.wait_for(lock, std::chrono::milliseconds(5),
                      [&] { return stopping || !commands.empty(); });
      }
      if (stopping) {
        return;
      }
      std::deque<std::function<void()>> batch;
      batch.swap(commands);
      lock.unlock();
      for (auto& command : batch) {
        try {
          command();
        } catch (const std::exception& e) {
          spdlog::error("realtime: {}", e.what());
        }
      }
      catching_up_waits = !catching_up.empty() && !CatchUpStep();
      ReportProgress();
      lock.lock();
    }
  }

  // --- connections and subscriptions (dispatcher thread) ---

  Clock::time_point next_progress_scan{};

  std::chrono::milliseconds ProgressScanInterval() const {
    return std::clamp(options.progress_interval, std::chrono::milliseconds(10),
                      std::chrono::milliseconds(1000));
  }

  // How far a subscription is handled: a live one follows its namespace's dispatcher.
  static uint64_t Position(const NsState& ns, const Sub& sub) {
    return sub.live ? std::max(sub.delivered, ns.dispatched) : sub.delivered;
  }

  void Reported(Sub& sub, uint64_t seq) {
    sub.reported = seq;
    sub.reported_at = clock.Now();
  }

  // Each connection's heartbeat, and {"type":"progress","sub":..,"seq":N} to each subscription
  // that moved past what its client
  // last heard of without an event for progress_interval: every transaction up to N is handled
  // for it, so it may resume from N (a quiet filter's position keeps up with the log's
  // retention).
  void ReportProgress() {
    Clock::time_point now = clock.Now();
    if (now < next_progress_scan) {
      return;
    }
    next_progress_scan = now + ProgressScanInterval();
    for (auto& [number, conn] : connections) {
      if (!conn->closed) {
        conn->outbox->Heartbeat();
      }
      if (conn->subs.empty()) {
        continue;
      }
      const NsState& ns = Ns(conn->ns);
      for (auto& [id, sub] : conn->subs) {
        uint64_t position = Position(ns, *sub);
        if (position > sub->reported && now - sub->reported_at >= options.progress_interval) {
          Reported(*sub, position);
          Send(*conn, "progress", position,
               "{\"type\":\"progress\",\"sub\":" + JsonString(id) +
                   ",\"seq\":" + std::to_string(position) + "}");
        }
      }
    }
  }

  NsState& Ns(const std::string& name) {
    auto& state = namespaces[name];
    if (!state) {
      state = std::make_unique<NsState>();
      state->name = name;
      auto log = LogFor(name);
      state->dispatched = log.ok() ? (*log)->log->last_seq() : 0;
    }
    return *state;
  }

  void Send(Conn& conn, std::string_view type, uint64_t seq, std::string message) {
    if (!conn.closed) {
      conn.outbox->Send(type, seq, std::move(message));
    }
  }

  void Fail(Conn& conn, const std::optional<std::string>& id, const Status& status) {
    Send(conn, "error", 0, ErrorMessage(id, status));
  }

  static std::string GroupKey(const std::string& ns, const std::string& model,
                              const SubscribeRequest& request, const query::Identity& identity) {
    std::string key = ns;
    key += '\n';
    key += model;
    key += '\n';
    key += json::serialize(request.where);
    key += '\n';
    key += json::serialize(request.select);
    key += '\n';
    key += identity.system() ? (identity.can_write ? "S" : "s")
                             : "U" + json::serialize(identity.claims);
    return key;
  }

  // Compiles (or recompiles, for a new schema) a group's statement:
  //   SELECT <row JSON> FROM (SELECT ? AS col, ...) AS t0 WHERE <read scope> AND <where>
  Status Compile(Group& group, const ServedModels& served) {
    if (!served.recorded && !group.identity.system()) {
      return Status(ErrorCode::kForbidden,
                    "namespace '" + group.ns +
                        "' has no recorded schema, so it has no policies a user token could "
                        "subscribe under; record one with `quarry migrate push`");
    }
    QUARRY_ASSIGN_OR_RETURN(const schema::Model* model,
                            query::FindModel(*served.schema, group.model_name, "model"));
    query::CompileContext ctx{*served.schema,
                              group.identity,
                              query::IsoNow(clock.SystemNow()),
                              [](std::string_view) { return std::string(); },
                              /*next_alias=*/0,
                              /*plans=*/nullptr,
                              /*schema_generation=*/0,
                              /*read_gates=*/{}};
    QUARRY_RETURN_IF_ERROR(query::CheckReadGate(ctx, *model));
    if (!group.select.is_null() && !group.select.is_object()) {
      return Status(ErrorCode::kInvalidArgument, "expected an object of fields").WithPath("select");
    }
    query::SqlBuilder sql;
    const std::string alias = ctx.NewAlias();
    sql << "SELECT ";
    QUARRY_RETURN_IF_ERROR(query::AppendRowJson(
        ctx, sql, *model, alias, group.select.is_object() ? &group.select.get_object() : nullptr,
        nullptr, /*list_read=*/true, "select"));
    sql << " FROM (SELECT ";
    std::vector<std::string> columns;
    for (const schema::Field& field : model->fields) {
      if (!field.stored()) {
        continue;
      }
      if (!columns.empty()) {
        sql << ", ";
      }
      sql.Slot(columns.size());
      sql << " AS ";
      sql.Ident(field.column);
      columns.push_back(field.column);
    }
    sql << ") AS " << alias << " WHERE ";
    query::AppendReadScope(ctx, sql, *model, alias);
    sql << " AND ";
    QUARRY_RETURN_IF_ERROR(query::AppendWhere(
        ctx, sql, *model, alias, group.where.is_null() ? nullptr : &group.where, "where"));
    group.model_name = model->name;
    group.table = model->table;
    group.generation = served.generation;
    group.row_columns = std::move(columns);
    group.pin = FindPin(*model, group.where);
    group.sources = sql.TakeSources();
    group.params = sql.TakeParams();
    group.sql = sql.TakeSql();
    return Status::Ok();
  }

  void Index(NsState& ns, Group& group) {
    auto& table = ns.by_table[group.table];
    if (group.pin) {
      table.pinned[group.pin->column][group.pin->key].push_back(&group);
    } else {
      table.unpinned.push_back(&group);
    }
  }

  void Unindex(NsState& ns, Group& group) {
    auto found = ns.by_table.find(group.table);
    if (found == ns.by_table.end()) {
      return;
    }
    auto erase = [&](std::vector<Group*>& list) {
      list.erase(std::remove(list.begin(), list.end(), &group), list.end());
    };
    if (group.pin) {
      auto& by_value = found->second.pinned[group.pin->column];
      erase(by_value[group.pin->key]);
      if (by_value[group.pin->key].empty()) {
        by_value.erase(group.pin->key);
      }
    } else {
      erase(found->second.unpinned);
    }
  }

  // A read connection of `ns` and the schema it serves.
  struct Reader {
    storage::ConnectionLease lease;
    ServedModels served;
  };
  Result<Reader> OpenReader(const std::string& ns) {
    QUARRY_ASSIGN_OR_RETURN(auto db, store.Get(ns));
    QUARRY_ASSIGN_OR_RETURN(auto lease, db->Acquire(storage::AccessMode::kReadOnly));
    QUARRY_ASSIGN_OR_RETURN(auto served, schemas(ns, *lease));
    return Reader{std::move(lease), std::move(served)};
  }

  void DoSubscribe(uint64_t number, SubscribeRequest request) {
    auto found = connections.find(number);
    if (found == connections.end()) {
      return;
    }
    Conn& conn = *found->second;
    const std::optional<std::string> id = request.id;
    if (conn.subs.count(request.id) != 0) {
      return Fail(conn, id,
                  Status(ErrorCode::kAlreadyExists, "subscription '" + request.id +
                                                        "' exists on this connection; "
                                                        "unsubscribe it first or use another id")
                      .WithPath("id"));
    }
    if (conn.subs.size() >= options.max_subscriptions_per_connection) {
      return Fail(conn, id,
                  Status(ErrorCode::kTooManyStreams,
                         "this connection has " + std::to_string(conn.subs.size()) +
                             " subscriptions, its limit; unsubscribe some first"));
    }
    NsState& ns = Ns(conn.ns);
    size_t in_ns = ns.subscriptions;
    if (in_ns >= options.max_subscriptions_per_namespace) {
      return Fail(conn, id,
                  Status(ErrorCode::kTooManyStreams, "namespace '" + conn.ns + "' has " +
                                                         std::to_string(in_ns) +
                                                         " subscriptions, its limit"));
    }
    auto log = LogFor(conn.ns);
    if (!log.ok()) {
      return Fail(conn, id, log.status());
    }
    auto reader = OpenReader(conn.ns);
    if (!reader.ok()) {
      return Fail(conn, id, reader.status());
    }
    std::string key = GroupKey(conn.ns, request.model, request, conn.identity);
    Group* group = nullptr;
    if (auto existing = ns.groups.find(key); existing != ns.groups.end()) {
      group = existing->second.get();
    } else {
      auto made = std::make_unique<Group>();
      made->key = key;
      made->ns = conn.ns;
      made->model_name = request.model;
      made->where = request.where;
      made->select = request.select;
      made->identity = conn.identity;
      Status compiled = Compile(*made, reader->served);
      if (!compiled.ok()) {
        return Fail(conn, id, compiled);
      }
      group = made.get();
      ns.groups.emplace(key, std::move(made));
      Index(ns, *group);
    }
    reader->lease = {};
    // Counted before the position is read: a commit that sees no subscriber was logged
    // before this read (OnCommit appends, then looks), so the position covers it.
    (*log)->subscribers.fetch_add(1);
    uint64_t last = (*log)->log->last_seq();
    auto sub = std::make_unique<Sub>();
    sub->id = request.id;
    sub->log = *log;
    sub->conn = &conn;
    sub->group = group;
    ++group->users;
    ++ns.subscriptions;
    Sub* raw = sub.get();
    conn.subs.emplace(request.id, std::move(sub));
    if (request.since) {
      raw->delivered = *request.since;  // what a reset below reports
      uint64_t first = (*log)->log->first_seq();
      if (*request.since > last) {
        Send(conn, "subscribed", *request.since, Subscribed(request.id, *request.since));
        return Reset(*raw, kResetGone,
                     "since " + std::to_string(*request.since) +
                         " is ahead of this namespace's newest change (" + std::to_string(last) +
                         "): the namespace was recreated or restored; reload and "
                         "resubscribe without since");
      }
      if ((*log)->lost.load() && *request.since <= (*log)->lost_after.load()) {
        Send(conn, "subscribed", *request.since, Subscribed(request.id, *request.since));
        return Reset(*raw, kResetGone,
                     "a transaction committed after " + std::to_string((*log)->lost_after.load()) +
                         " could not be written to the change log; reload and resubscribe "
                         "without since");
      }
      if (*request.since + 1 < first) {
        Send(conn, "subscribed", *request.since, Subscribed(request.id, *request.since));
        return Reset(*raw, kResetGone,
                     "changes after " + std::to_string(*request.since) +
                         " are past the change log's retention (the oldest kept is " +
                         std::to_string(first) + "); reload and resubscribe without since");
      }
      raw->delivered = *request.since;
      Reported(*raw, *request.since);
      Send(conn, "subscribed", *request.since, Subscribed(request.id, *request.since));
      catching_up.insert(raw);
      return;
    }
    raw->delivered = last;
    Reported(*raw, last);
    Send(conn, "subscribed", last, Subscribed(request.id, last));
    GoLive(ns, *raw);
  }

  static std::string Subscribed(const std::string& id, uint64_t seq) {
    return "{\"type\":\"subscribed\",\"id\":" + JsonString(id) + ",\"seq\":" + std::to_string(seq) +
           "}";
  }

  void GoLive(NsState& ns, Sub& sub) {
    if (ns.live == 0 && ns.dispatched < sub.delivered) {
      // No one else is live: what the dispatcher skipped while nobody listened is not owed.
      ns.dispatched = sub.delivered;
    }
    sub.live = true;
    sub.group->members.push_back(&sub);
    ++ns.live;
  }

  // Removes a subscription from its group (dropping an unused group) and its connection.
  void Remove(Sub& sub) {
    Conn& conn = *sub.conn;
    NsState& ns = Ns(conn.ns);
    Group* group = sub.group;
    catching_up.erase(&sub);
    if (sub.live) {
      group->members.erase(std::remove(group->members.begin(), group->members.end(), &sub),
                           group->members.end());
      --ns.live;
    }
    --ns.subscriptions;
    if (--group->users == 0) {
      Unindex(ns, *group);
      ns.groups.erase(group->key);
    }
    sub.log->subscribers.fetch_sub(1);
    conn.subs.erase(sub.id);  // destroys sub
  }

  // `code` is one of the kReset* names: whether resubscribing with the reset's seq can work.
  void Reset(Sub& sub, std::string_view code, const std::string& reason) {
    uint64_t position = Position(Ns(sub.conn->ns), sub);
    Send(*sub.conn, "reset", position,
         "{\"type\":\"reset\",\"sub\":" + JsonString(sub.id) + ",\"code\":\"" + std::string(code) +
             "\",\"reason\":" + JsonString(reason) + ",\"seq\":" + std::to_string(position) + "}");
    Remove(sub);
  }

  void ResetConnection(Conn& conn, std::string_view code, const std::string& reason) {
    while (!conn.subs.empty()) {
      Reset(*conn.subs.begin()->second, code, reason);
    }
  }

  // Resets every live subscription of `ns` (catch-ups read the log themselves).
  void ResetLive(NsState& ns, std::string_view code, const std::string& reason) {
    std::vector<Sub*> live;
    for (auto& [key, group] : ns.groups) {
      live.insert(live.end(), group->members.begin(), group->members.end());
    }
    for (Sub* sub : live) {
      Reset(*sub, code, reason);
    }
  }

  void ResetNamespace(const std::string& name, std::string_view code, const std::string& reason) {
    for (auto& [number, conn] : connections) {
      if (conn->ns == name) {
        ResetConnection(*conn, code, reason);
      }
    }
  }

  void DoDisconnect(uint64_t number) {
    auto found = connections.find(number);
    if (found == connections.end()) {
      return;
    }
    Conn& conn = *found->second;
    conn.closed = true;
    while (!conn.subs.empty()) {
      Remove(*conn.subs.begin()->second);
    }
    connections.erase(found);
  }

  // --- delivery (dispatcher thread) ---

  // The row image as the group's row source binds it: the value of each of its columns.
  static const storage::Value* ColumnValue(const storage::RowChange& change,
                                           const std::vector<storage::Value>& values,
                                           const std::string& column) {
    if (change.columns) {
      const auto& names = *change.columns;
      for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
        if (names[i] == column) {
          return &values[i];
        }
      }
    }
    return nullptr;
  }

  // Runs the group's statement on one row image: the row's JSON as the subscriber may read it
  // when the row matches, nullopt when not.
  Result<std::optional<std::string>> Evaluate(storage::Connection& conn, const Group& group,
                                              const storage::RowChange& change,
                                              const std::vector<storage::Value>& values,
                                              const std::string& now) {
    QUARRY_ASSIGN_OR_RETURN(storage::Statement stmt, conn.Prepare(group.sql));
    static const storage::Value kNull;
    for (size_t i = 0; i < group.params.size(); ++i) {
      const storage::Value* value = &group.params[i];
      storage::Value now_value;
      const query::ParamSource& source = group.sources[i];
      if (source.kind == query::ParamSource::Kind::kSlot) {
        const storage::Value* column = ColumnValue(change, values, group.row_columns[source.slot]);
        value = column != nullptr ? column : &kNull;
      } else if (source.kind == query::ParamSource::Kind::kNow) {
        now_value = query::TextValue(now);
        value = &now_value;
      }
      storage::BindValue(stmt.get(), static_cast<int>(i + 1), *value);
    }
    int rc = conn.Step(stmt.get());
    if (rc == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
      return std::optional<std::string>(
          std::string(text != nullptr ? text : "null",
                      text != nullptr ? sqlite3_column_bytes(stmt.get(), 0) : 4));
    }
    if (rc == SQLITE_DONE) {
      return std::optional<std::string>();
    }
    return conn.LastError("realtime filter");
  }

  // The groups of `table` a change's rows may match.
  static void Candidates(NsState& ns, const storage::RowChange& change, std::vector<Group*>& out) {
    out.clear();
    auto found = ns.by_table.find(change.table);
    if (found == ns.by_table.end()) {
      return;
    }
    out = found->second.unpinned;
    for (auto& [column, by_value] : found->second.pinned) {
      std::optional<std::string> keys[2];
      bool unknown = false;
      for (int side = 0; side < 2; ++side) {
        const auto& values = side == 0 ? change.old_values : change.new_values;
        if (values.empty()) {
          continue;
        }
        const storage::Value* v = ColumnValue(change, values, column);
        if (v == nullptr) {
          unknown = true;  // unnamed: every group of this column is a candidate
          continue;
        }
        keys[side] = ValueKey(*v);
      }
      if (unknown) {
        for (auto& [key, groups] : by_value) {
          out.insert(out.end(), groups.begin(), groups.end());
        }
        continue;
      }
      for (int side = 0; side < 2; ++side) {
        if (!keys[side] || (side == 1 && keys[0] == keys[1])) {
          continue;
        }
        if (auto groups = by_value.find(*keys[side]); groups != by_value.end()) {
          out.insert(out.end(), groups->second.begin(), groups->second.end());
        }
      }
    }
  }

  // The events of one transaction for the subscriptions `only` (null: the live members of each
  // group), in change order, then sent.
  void Deliver(NsState& ns, const LoggedTransaction& txn, Sub* only) {
    auto reader = OpenReader(ns.name);
    if (!reader.ok()) {
      // Never a silent gap: whoever was to see the transaction is reset.
      spdlog::warn("realtime: namespace '{}': cannot evaluate transaction {}: {}", ns.name, txn.seq,
                   reader.status().message());
      std::string reason = "the namespace could not be read to evaluate its changes (" +
                           reader.status().message() + "); resubscribe with since";
      if (only != nullptr) {
        Reset(*only, kResetUnavailable, reason);
      } else {
        ResetLive(ns, kResetUnavailable, reason);
      }
      return;
    }
    storage::Connection& conn = *reader->lease;
    const std::string now = query::IsoNow(clock.SystemNow());
    std::vector<Group*> candidates;
    std::vector<std::pair<Sub*, std::string>> out;  // the change messages, in order
    std::set<std::string> failed;                   // keys of groups that no longer compile or run
    if (ns.generation != reader->served.generation) {
      // A new schema: every group of the namespace is compiled again (a model may now be
      // another table), not only those a change reaches.
      ns.generation = reader->served.generation;
      for (auto& [key, group] : ns.groups) {
        Unindex(ns, *group);
        Status compiled = Compile(*group, reader->served);
        Index(ns, *group);
        if (!compiled.ok()) {
          failed.insert(key);
        }
      }
    }
    for (const storage::RowChange& change : txn.changes) {
      if (only != nullptr) {
        candidates.assign(1, only->group);
        if (only->group->table != change.table) {
          continue;
        }
      } else {
        Candidates(ns, change, candidates);
      }
      for (Group* group : candidates) {
        if (failed.count(group->key) != 0) {
          continue;  // reset below
        }
        // The row image as the group may read it (nullopt: it does not match); false when
        // the group's statement failed.
        auto evaluate = [&](const std::vector<storage::Value>& values,
                            std::optional<std::string>& into) {
          if (values.empty()) {
            return true;
          }
          auto evaluated = Evaluate(conn, *group, change, values, now);
          if (!evaluated.ok()) {
            failed.insert(group->key);
            return false;
          }
          into = std::move(*evaluated);
          return true;
        };
        std::optional<std::string> before;
        std::optional<std::string> after;
        if (!evaluate(change.old_values, before) || !evaluate(change.new_values, after)) {
          continue;
        }
        const char* op = nullptr;
        switch (change.op) {
          case storage::RowChange::Op::kInsert:
            op = after ? "insert" : nullptr;
            break;
          case storage::RowChange::Op::kDelete:
            op = before ? "delete" : nullptr;
            break;
          case storage::RowChange::Op::kUpdate:
            op = before && after ? "update" : before ? "leave" : after ? "enter" : nullptr;
            break;
        }
        if (op == nullptr) {
          continue;
        }
        std::string tail = ",\"seq\":" + std::to_string(txn.seq) + ",\"op\":\"" + op +
                           "\",\"model\":" + JsonString(group->model_name);
        if (after) {
          tail += ",\"row\":" + *after;
        }
        if (before) {
          tail += ",\"old\":" + *before;
        }
        tail += "}";
        auto add = [&](Sub* sub) {
          if (sub->delivered >= txn.seq) {
            return;  // caught up past it from the log already
          }
          out.emplace_back(sub, "{\"type\":\"change\",\"sub\":" + JsonString(sub->id) + tail);
        };
        if (only != nullptr) {
          add(only);
        } else {
          for (Sub* sub : group->members) {
            add(sub);
          }
        }
      }
    }
    reader->lease = {};
    // Send, then mark the transaction handled for every subscription that was to see it.
    // A connection gets all of the transaction or, when too much is waiting for it already,
    // none of it and a reset.
    std::unordered_set<Conn*> checked;
    std::unordered_set<Conn*> reset;
    // A subscription's last message of the transaction says so ("last":true) and carries its
    // number to the transport (SSE's id:, what an EventSource resumes from); the others 0, so a
    // client cut off in the middle of a transaction resumes before it, not after.
    // A group that failed on a later change is reset below: none of the transaction goes to
    // it, or it would take a part for the whole.
    if (!failed.empty()) {
      out.erase(std::remove_if(
                    out.begin(), out.end(),
                    [&](const auto& entry) { return failed.count(entry.first->group->key) != 0; }),
                out.end());
    }
    std::unordered_map<Sub*, size_t> last_of;
    for (size_t i = 0; i < out.size(); ++i) {
      last_of[out[i].first] = i;
    }
    for (size_t i = 0; i < out.size(); ++i) {
      auto& [sub, message] = out[i];
      Conn* c = sub->conn;
      // (A catch-up paces itself instead: it reads on from the log once the socket drained.)
      if (checked.insert(c).second && only == nullptr &&
          c->outbox->QueuedBytes() > options.max_queued_bytes) {
        reset.insert(c);
      }
      if (reset.count(c) != 0) {
        continue;
      }
      bool last = last_of[sub] == i;
      if (last) {
        message.insert(message.size() - 1, ",\"last\":true");
        Reported(*sub, txn.seq);
      }
      Send(*c, "change", last ? txn.seq : 0, std::move(message));
    }
    auto advance = [&](Sub* sub) {
      if (sub->delivered < txn.seq) {
        sub->delivered = txn.seq;
      }
    };
    if (only != nullptr && failed.count(only->group->key) == 0) {
      advance(only);  // (a failed one's reset says the transaction before)
    }
    for (Conn* c : reset) {
      ResetConnection(*c, kResetTooSlow,
                      "this subscriber is too slow: more than " +
                          std::to_string(options.max_queued_bytes) +
                          " bytes of events are waiting to be sent to it; resubscribe with "
                          "since set to the last seq it handled");
    }
    const std::string broken =
        "the subscription no longer compiles or runs against the namespace's schema; "
        "resubscribe";
    for (const std::string& key : failed) {
      if (only != nullptr) {
        if (catching_up.count(only) != 0 && only->group->key == key) {
          Reset(*only, kResetSchema, broken);
        }
        return;
      }
      auto group = ns.groups.find(key);
      while (group != ns.groups.end() && !group->second->members.empty()) {
        Reset(*group->second->members.front(), kResetSchema, broken);
        group = ns.groups.find(key);
      }
    }
    // Live subscriptions have seen the transaction once the caller moves ns.dispatched.
  }

  // `from_log`: `txn` only says how far to go; it is read from the log with the others.
  void Dispatch(const std::string& name, const LoggedTransaction& txn, bool from_log = false) {
    auto found = namespaces.find(name);
    if (found == namespaces.end()) {
      return;  // nobody subscribed here yet
    }
    NsState& ns = *found->second;
    if (txn.seq <= ns.dispatched) {
      return;
    }
    if (ns.live == 0) {
      ns.dispatched = txn.seq;
      return;
    }
    const uint64_t read_to = from_log ? txn.seq : txn.seq - 1;
    if (read_to > ns.dispatched) {
      // Transactions the queue did not take (it was full): read from the log.
      auto log = LogFor(name);
      while (log.ok() && ns.dispatched < read_to) {
        auto missing = (*log)->log->Read(
            ns.dispatched, std::min<uint64_t>(options.catch_up_batch, read_to - ns.dispatched));
        if (!missing.ok() || missing->empty()) {
          ResetLive(ns, kResetUnavailable,
                    "changes could not be read back from this server's change log; "
                    "resubscribe with since");
          ns.dispatched = txn.seq;
          return;
        }
        for (const auto& earlier : *missing) {
          Deliver(ns, earlier, nullptr);
          ns.dispatched = earlier.seq;
        }
      }
    }
    if (!from_log) {
      Deliver(ns, txn, nullptr);
      ns.dispatched = txn.seq;
    }
  }

  // One step of each catch-up; false when none could go on (all wait for their sockets).
  bool CatchUpStep() {
    bool progressed = false;
    std::vector<Sub*> subs(catching_up.begin(), catching_up.end());
    for (Sub* sub : subs) {
      if (catching_up.count(sub) == 0) {
        continue;  // reset by an earlier one's step
      }
      if (sub->conn->outbox->QueuedBytes() > options.max_queued_bytes / 2) {
        continue;  // the socket is still sending what this catch-up read before
      }
      progressed = true;
      NsState& ns = Ns(sub->conn->ns);
      auto log = LogFor(ns.name);
      if (!log.ok()) {
        Reset(*sub, kResetUnavailable, log.status().message());
        continue;
      }
      auto txns = (*log)->log->Read(sub->delivered, options.catch_up_batch);
      if (!txns.ok()) {
        // Past the retention, or a record that does not read back: what follows `since`
        // cannot be given from here, whatever a retry does.
        Reset(*sub, kResetGone,
              (txns.status().code() == ErrorCode::kNotFound
                   ? txns.status().message()
                   : "the change log cannot be read: " + txns.status().message()) +
                  "; reload and resubscribe without since");
        continue;
      }
      for (const auto& txn : *txns) {
        Deliver(ns, txn, sub);
        if (catching_up.count(sub) == 0) {
          break;  // reset (too slow, or its filter broke)
        }
      }
      if (catching_up.count(sub) != 0 && txns->size() < options.catch_up_batch) {
        catching_up.erase(sub);
        GoLive(ns, *sub);
      }
    }
    return progressed;
  }
};

Hub::Hub(storage::NamespaceStore& store, SchemaProvider schemas, HubOptions options,
         const Clock& clock)
    : impl_(std::make_unique<Impl>(store, std::move(schemas), std::move(options), clock)) {
  impl_->dispatcher = std::thread([this] { impl_->Run(); });
}

Hub::~Hub() { Stop(); }

void Hub::Stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->dispatcher.joinable()) {
    impl_->dispatcher.join();
  }
}

void Hub::OnCommit(const storage::CommittedChanges& committed) { impl_->OnCommit(committed); }

uint64_t Hub::Connect(std::string ns, query::Identity identity, std::shared_ptr<Outbox> outbox) {
  uint64_t number = impl_->next_connection.fetch_add(1);
  impl_->Post([impl = impl_.get(), number, ns = std::move(ns), identity = std::move(identity),
               outbox = std::move(outbox)]() mutable {
    auto conn = std::make_unique<Conn>();
    conn->number = number;
    conn->ns = std::move(ns);
    conn->identity = std::move(identity);
    conn->outbox = std::move(outbox);
    impl->connections.emplace(number, std::move(conn));
  });
  return number;
}

void Hub::SetIdentity(uint64_t connection, query::Identity identity) {
  impl_->Post([impl = impl_.get(), connection, identity = std::move(identity)]() mutable {
    if (auto found = impl->connections.find(connection); found != impl->connections.end()) {
      found->second->identity = std::move(identity);
    }
  });
}

void Hub::Subscribe(uint64_t connection, SubscribeRequest request) {
  impl_->Post([impl = impl_.get(), connection, request = std::move(request)]() mutable {
    impl->DoSubscribe(connection, std::move(request));
  });
}

void Hub::Unsubscribe(uint64_t connection, std::string id) {
  impl_->Post([impl = impl_.get(), connection, id = std::move(id)] {
    auto found = impl->connections.find(connection);
    if (found == impl->connections.end()) {
      return;
    }
    Conn& conn = *found->second;
    auto sub = conn.subs.find(id);
    if (sub == conn.subs.end()) {
      impl->Fail(conn, id,
                 Status(ErrorCode::kNotFound, "no subscription '" + id + "' on this connection")
                     .WithPath("id"));
      return;
    }
    impl->Remove(*sub->second);
    impl->Send(conn, "unsubscribed", 0,
               "{\"type\":\"unsubscribed\",\"id\":" + JsonString(id) + "}");
  });
}

void Hub::Disconnect(uint64_t connection) {
  impl_->Post([impl = impl_.get(), connection] { impl->DoDisconnect(connection); });
}

void Hub::NamespaceChanged(const std::string& ns) {
  {
    std::lock_guard lock(impl_->logs_mutex);
    auto found = impl_->logs.find(ns);
    if (found == impl_->logs.end() ||
        found->second->folder == FolderOf(impl_->options.data_dir / "ns" / ns)) {
      return;  // not open here, or the same namespace (a schema was recorded)
    }
    impl_->logs.erase(found);
  }
  impl_->Post([impl = impl_.get(), ns] {
    std::vector<uint64_t> closing;
    for (auto& [number, conn] : impl->connections) {
      if (conn->ns == ns) {
        closing.push_back(number);
      }
    }
    for (uint64_t number : closing) {
      impl->connections.at(number)->outbox->Close("namespace '" + ns + "' was deleted or replaced");
      impl->DoDisconnect(number);
    }
    impl->namespaces.erase(ns);
  });
}

Result<Hub::LogRange> Hub::Range(const std::string& ns) {
  QUARRY_ASSIGN_OR_RETURN(auto log, impl_->LogFor(ns));
  return LogRange{log->log->first_seq(), log->log->last_seq()};
}

Status Hub::Check(const std::string& ns, const query::Identity& identity,
                  const SubscribeRequest& request) {
  QUARRY_ASSIGN_OR_RETURN(auto reader, impl_->OpenReader(ns));
  Group group;
  group.ns = ns;
  group.model_name = request.model;
  group.where = request.where;
  group.select = request.select;
  group.identity = identity;
  return impl_->Compile(group, reader.served);
}

std::string ErrorMessage(const std::optional<std::string>& id, const Status& status) {
  json::object message;
  message["type"] = "error";
  if (id) {
    message["id"] = *id;
  } else {
    message["id"] = nullptr;
  }
  message["error"] = query::ErrorObject(status);
  return json::serialize(message);
}

Result<ClientMessage> ParseClientMessage(std::string_view text) {
  auto bad = [](const std::string& path, const std::string& why) {
    return Status(ErrorCode::kInvalidArgument, (path.empty() ? "" : path + ": ") + why)
        .WithPath(path);
  };
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) {
    return bad("", "the message is not JSON: " + ec.message());
  }
  if (!parsed.is_object()) {
    return bad("", "a message is a JSON object with a \"type\"");
  }
  json::object& object = parsed.get_object();
  const json::value* type = object.if_contains("type");
  if (type == nullptr || !type->is_string()) {
    return bad("type", "expected \"hello\", \"subscribe\" or \"unsubscribe\"");
  }
  auto allow = [&](std::initializer_list<std::string_view> keys) -> Status {
    for (const auto& [key, value] : object) {
      if (std::find(keys.begin(), keys.end(), std::string_view(key)) == keys.end()) {
        return bad(std::string(key),
                   "unknown member of a " + std::string(type->get_string()) + " message");
      }
    }
    return Status::Ok();
  };
  auto id = [&](ClientMessage& out) -> Status {
    const json::value* v = object.if_contains("id");
    if (v == nullptr || !v->is_string() || v->get_string().empty() ||
        v->get_string().size() > 256) {
      return bad("id", "expected the subscription's id: a non-empty string of at most 256 bytes");
    }
    out.subscribe.id = std::string(v->get_string());
    return Status::Ok();
  };
  ClientMessage out;
  if (*type == "hello") {
    out.type = ClientMessage::Type::kHello;
    QUARRY_RETURN_IF_ERROR(allow({"type", "token"}));
    const json::value* token = object.if_contains("token");
    if (token == nullptr || !token->is_string()) {
      return bad("token", "expected the token: a string");
    }
    out.token = std::string(token->get_string());
    return out;
  }
  if (*type == "unsubscribe") {
    out.type = ClientMessage::Type::kUnsubscribe;
    QUARRY_RETURN_IF_ERROR(allow({"type", "id"}));
    QUARRY_RETURN_IF_ERROR(id(out));
    return out;
  }
  if (*type != "subscribe") {
    return bad("type", "unknown message type '" + std::string(type->get_string()) +
                           "' (expected hello, subscribe or unsubscribe)");
  }
  out.type = ClientMessage::Type::kSubscribe;
  QUARRY_RETURN_IF_ERROR(allow({"type", "id", "model", "where", "select", "since"}));
  QUARRY_RETURN_IF_ERROR(id(out));
  const json::value* model = object.if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    return bad("model", "expected the model (or, for a service token, the table) to watch");
  }
  out.subscribe.model = std::string(model->get_string());
  if (const json::value* where = object.if_contains("where")) {
    if (!where->is_object() && !where->is_null()) {
      return bad("where", "expected the data API's where: an object");
    }
    out.subscribe.where = *where;
  }
  if (const json::value* select = object.if_contains("select")) {
    if (!select->is_object() && !select->is_null()) {
      return bad("select", "expected the data API's select: an object");
    }
    out.subscribe.select = *select;
  }
  if (const json::value* since = object.if_contains("since")) {
    if (since->is_int64() && since->get_int64() >= 0) {
      out.subscribe.since = static_cast<uint64_t>(since->get_int64());
    } else if (since->is_uint64()) {
      out.subscribe.since = since->get_uint64();
    } else if (!since->is_null()) {
      return bad("since", "expected a sequence number: a non-negative integer");
    }
  }
  return out;
}

}  // namespace quarry::realtime
