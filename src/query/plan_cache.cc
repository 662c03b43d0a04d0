#include "query/plan_cache.h"

#include <algorithm>
#include <boost/json/serialize.hpp>

#include "query/policy_sql.h"
#include "query/values.h"

namespace quarry::query {
namespace {

namespace json = boost::json;

void Skeleton(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object:
      out += '{';
      for (const auto& [key, value] : v.get_object()) {
        out += json::serialize(json::value(key));
        out += ':';
        Skeleton(value, out);
        out += ',';
      }
      out += '}';
      return;
    case json::kind::array:
      out += '[';
      for (const json::value& item : v.get_array()) {
        Skeleton(item, out);
        out += ',';
      }
      out += ']';
      return;
    case json::kind::string:
      out += 's';
      return;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      out += 'n';
      return;
    case json::kind::bool_:
      out += v.get_bool() ? 'T' : 'F';
      return;
    case json::kind::null:
      out += '0';
      return;
  }
}

// Every string and number leaf of `v`, with its dotted path.
void Leaves(const json::value& v, const std::string& path,
            std::vector<std::pair<std::string, json::value>>& out) {
  if (v.is_object()) {
    for (const auto& [key, value] : v.get_object()) {
      Leaves(value, JoinPath(path, key), out);
    }
  } else if (v.is_array()) {
    const json::array& items = v.get_array();
    for (size_t i = 0; i < items.size(); ++i) {
      Leaves(items[i], JoinPath(path, std::to_string(i)), out);
    }
  } else if (v.is_string() || v.is_number()) {
    out.emplace_back(path, v);
  }
}

// The value at dotted `path` of `args`; nullptr when absent.
const json::value* Lookup(const json::object& args, const std::string& path) {
  const json::value* at = nullptr;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string step =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (at == nullptr) {
      at = args.if_contains(step);
    } else if (at->is_object()) {
      at = at->get_object().if_contains(step);
    } else if (at->is_array()) {
      size_t index = std::strtoul(step.c_str(), nullptr, 10);
      at = index < at->get_array().size() ? &at->get_array()[index] : nullptr;
    } else {
      at = nullptr;
    }
    if (at == nullptr || dot == std::string::npos) {
      return at;
    }
    start = dot + 1;
  }
  return at;
}

// The value at dotted `path` of `args`; null when absent.
const json::value* At(const json::object& args, const std::string& path) {
  static const json::value kNull;
  const json::value* at = Lookup(args, path);
  return at == nullptr ? &kNull : at;
}

// The most a plan may hold, its key included, to be kept: requests are bounded only by the body
// limit (10 MiB), and a key holds the skeleton of every argument (an `in` list of a million
// items, a createMany of many rows), so the capacity alone would let a few thousand large
// requests hold gigabytes. Large requests are rare and cost their compile anyway.
constexpr size_t kMaxPlanBytes = 32 << 10;

size_t PlanBytes(const std::string& key, const CachedPlan& plan) {
  size_t bytes = key.size() + plan.sql.size() + plan.read.cursor_scope.size() +
                 plan.sources.size() * sizeof(ParamSource) +
                 plan.constants.size() * sizeof(storage::Value);
  for (const ParamSource& source : plan.sources) {
    bytes += source.name.size();
  }
  for (const storage::Value& constant : plan.constants) {
    bytes += constant.bytes.size();
  }
  for (const auto& [path, value] : plan.pinned) {
    bytes += path.size() + json::serialize(value).size();
  }
  return bytes;
}

// Whether an object key of `v` holds a '.': the dotted paths plans use to find a request's
// values (At) would read such a key as two steps, and bind another value than the request's.
bool HasDottedKey(const json::value& v) {
  if (v.is_object()) {
    for (const auto& [key, value] : v.get_object()) {
      if (key.find('.') != json::string_view::npos || HasDottedKey(value)) {
        return true;
      }
    }
  } else if (v.is_array()) {
    for (const json::value& item : v.get_array()) {
      if (HasDottedKey(item)) {
        return true;
      }
    }
  }
  return false;
}

bool IsPrefixPath(const std::string& prefix, const std::string& path) {
  return path == prefix ||
         (path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '.');
}

// This request's value for a parameter of the cached plan.
Result<storage::Value> Bind(const CompileContext& ctx, const ParamSource& source,
                            const json::object& args, const std::vector<storage::Value>& slots,
                            const storage::Value& constant) {
  using Kind = ParamSource::Kind;
  switch (source.kind) {
    case Kind::kConstant:
      return constant;
    case Kind::kNow:
      return TextValue(ctx.now);
    case Kind::kClaim: {
      auto it = ctx.identity.claims.find(source.name);
      return it == ctx.identity.claims.end() ? NullValue() : JsonScalarValue(it->value());
    }
    case Kind::kSlot:
      if (source.slot >= slots.size()) {
        return Status(ErrorCode::kInternal, "a statement's slot has no value");
      }
      return slots[source.slot];
    case Kind::kUnknown:
      return Status(ErrorCode::kInternal, "a cached plan with a parameter of unknown source");
    case Kind::kArg:
      break;
  }
  return ArgumentValue(ctx.schema, source, *At(args, source.name));
}

// Whether a request's `args` repeat every value `plan` pinned.
bool PinnedMatch(const CachedPlan& plan, const json::object& args) {
  for (const auto& [path, value] : plan.pinned) {
    if (*At(args, path) != value) {
      return false;
    }
  }
  return true;
}

// The read gates `plan` passed, checked for this caller.
Status CheckGates(const CompileContext& ctx, const CachedPlan& plan) {
  for (const schema::Model* gated : plan.gated) {
    QUARRY_RETURN_IF_ERROR(CheckGate(ctx, *gated, RowOperation::kRead));
  }
  return Status::Ok();
}

// This request's parameters for `plan`. With `later_slots`, slots past `slots` are left NULL
// for the caller to bind.
Result<std::vector<storage::Value>> BindParams(const CompileContext& ctx, const CachedPlan& plan,
                                               const json::object& args,
                                               const std::vector<storage::Value>& slots,
                                               bool later_slots = false) {
  std::vector<storage::Value> params;
  params.reserve(plan.sources.size());
  for (size_t i = 0; i < plan.sources.size(); ++i) {
    const ParamSource& source = plan.sources[i];
    if (later_slots && source.kind == ParamSource::Kind::kSlot && source.slot >= slots.size()) {
      params.push_back(NullValue());
      continue;
    }
    QUARRY_ASSIGN_OR_RETURN(storage::Value v, Bind(ctx, source, args, slots, plan.constants[i]));
    params.push_back(std::move(v));
  }
  return params;
}

// A plan of a compiled statement, or null when it cannot be cached (a parameter of unknown
// source, a key with a '.' in `trees`, an argument parameter whose path names no value of
// `args` -- the arguments it was compiled from, so a hit would bind another value -- or, with
// `trees_only`, one outside the declared subtrees).
// Pins the string and number leaves of `trees` that no parameter binds.
std::shared_ptr<CachedPlan> MakePlan(
    std::string sql, const std::vector<storage::Value>& params,
    const std::vector<ParamSource>& sources, const json::object& args,
    const std::vector<std::pair<std::string, const json::value*>>& trees, bool trees_only) {
  for (const auto& [path, tree] : trees) {
    if (tree != nullptr && HasDottedKey(*tree)) {
      return nullptr;
    }
  }
  for (const ParamSource& s : sources) {
    if (s.kind == ParamSource::Kind::kUnknown ||
        (s.kind == ParamSource::Kind::kArg && Lookup(args, s.name) == nullptr)) {
      return nullptr;
    }
    if (trees_only && s.kind == ParamSource::Kind::kArg &&
        std::none_of(trees.begin(), trees.end(),
                     [&](const auto& tree) { return IsPrefixPath(tree.first, s.name); })) {
      return nullptr;
    }
  }
  auto plan = std::make_shared<CachedPlan>();
  plan->sql = std::move(sql);
  plan->sources = sources;
  for (size_t i = 0; i < sources.size(); ++i) {
    plan->constants.push_back(sources[i].kind == ParamSource::Kind::kConstant ? params[i]
                                                                              : NullValue());
  }
  std::vector<std::pair<std::string, json::value>> leaves;
  for (const auto& [path, tree] : trees) {
    if (tree != nullptr) {
      Leaves(*tree, path, leaves);
    }
  }
  for (auto& [path, value] : leaves) {
    bool bound = false;
    for (const ParamSource& s : sources) {
      bound = bound || (s.kind == ParamSource::Kind::kArg && IsPrefixPath(s.name, path));
    }
    if (!bound) {
      plan->pinned.emplace_back(path, value);
    }
  }
  return plan;
}

// The read of `plan` with this request's values, after checking what compiling checks: the
// gates for this caller, the page size, the values, the cursor.
Result<CompiledRead> BindRead(const CompileContext& ctx, const CachedPlan& plan, ReadOp op,
                              const json::object& args) {
  QUARRY_RETURN_IF_ERROR(CheckGates(ctx, plan));
  CompiledRead read = plan.read;
  std::vector<storage::Value> slots;
  if (op == ReadOp::kFindManyCursor) {
    QUARRY_ASSIGN_OR_RETURN(read.page_size, CursorPageSize(args));
    slots.push_back(CursorLimit(read.page_size));
  }
  QUARRY_ASSIGN_OR_RETURN(std::vector<storage::Value> params,
                          BindParams(ctx, plan, args, slots, /*later_slots=*/true));
  if (const json::value* cursor = args.if_contains("cursor");
      op == ReadOp::kFindManyCursor && cursor != nullptr && !cursor->is_null()) {
    QUARRY_ASSIGN_OR_RETURN(json::array keys,
                            CursorKeys(ctx, *cursor, read.cursor_scope, read.cursor_keys));
    for (size_t i = 0; i < plan.sources.size(); ++i) {
      const ParamSource& source = plan.sources[i];
      if (source.kind == ParamSource::Kind::kSlot && source.slot >= 1) {
        if (source.slot > keys.size()) {
          return Status(ErrorCode::kInternal, "a cached cursor read with too few keys");
        }
        params[i] = JsonScalarValue(keys[source.slot - 1]);
      }
    }
  }
  read.sql = plan.sql;
  read.sources = plan.sources;
  read.gated = plan.gated;
  read.params = std::move(params);
  return read;
}

std::string Key(const CompileContext& ctx, const schema::Model& model, ReadOp op,
                const json::object& args) {
  std::string key = "r|" + std::to_string(ctx.schema_generation);
  key += '|';
  key += model.name;
  key += '|';
  key += std::to_string(static_cast<int>(op));
  key += ctx.identity.system() ? "|s|" : "|u|";
  Skeleton(json::value(args), key);
  if (const json::value* cursor = args.if_contains("cursor");
      op == ReadOp::kFindManyCursor && cursor != nullptr && !cursor->is_null()) {
    key += "|cursor:" + CursorNulls(*cursor);
  }
  return key;
}

std::string StatementKey(const CompileContext& ctx, const StatementShape& shape) {
  std::string key = "w|" + std::to_string(ctx.schema_generation);
  key += ctx.identity.system() ? "|s|" : "|u|";
  key += shape.site;
  for (const auto& [path, tree] : shape.args) {
    key += '|';
    key += path;
    key += '=';
    if (tree == nullptr) {
      key += '-';
    } else {
      Skeleton(*tree, key);
    }
  }
  return key;
}

// Builds a statement and binds its slots; `sources` receives where its parameters came from.
Result<CompiledStatement> Build(CompileContext& ctx, const std::vector<storage::Value>& slots,
                                const StatementBuilder& build, std::vector<ParamSource>& sources,
                                std::vector<const schema::Model*>& gated) {
  const size_t gates_before = ctx.read_gates.size();
  SqlBuilder sql;
  QUARRY_RETURN_IF_ERROR(build(sql));
  gated.assign(ctx.read_gates.begin() + static_cast<std::ptrdiff_t>(gates_before),
               ctx.read_gates.end());
  CompiledStatement statement{sql.TakeSql(), sql.TakeParams()};
  sources = sql.TakeSources();
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].kind == ParamSource::Kind::kSlot) {
      if (sources[i].slot >= slots.size()) {
        return Status(ErrorCode::kInternal, "a statement's slot has no value");
      }
      statement.params[i] = slots[sources[i].slot];
    }
  }
  return statement;
}

}  // namespace

Result<CompiledStatement> CompileStatement(CompileContext& ctx, const StatementShape& shape,
                                           const json::object& args,
                                           const std::vector<storage::Value>& slots,
                                           const StatementBuilder& build) {
  if (ctx.plans != nullptr) {
    return ctx.plans->CompileStatement(ctx, shape, args, slots, build);
  }
  std::vector<ParamSource> sources;
  std::vector<const schema::Model*> gated;
  return Build(ctx, slots, build, sources, gated);
}

Result<CompiledStatement> PlanCache::CompileStatement(CompileContext& ctx,
                                                      const StatementShape& shape,
                                                      const json::object& args,
                                                      const std::vector<storage::Value>& slots,
                                                      const StatementBuilder& build) {
  const std::string key = StatementKey(ctx, shape);
  std::vector<ParamSource> sources;
  std::vector<const schema::Model*> gated;
  if (std::shared_ptr<const CachedPlan> plan = Find(key); plan && PinnedMatch(*plan, args)) {
    Count(true);
    Status gates = CheckGates(ctx, *plan);
    auto params = gates.ok() ? BindParams(ctx, *plan, args, slots)
                             : Result<std::vector<storage::Value>>(gates);
    if (params.ok()) {
      return CompiledStatement{plan->sql, std::move(*params)};
    }
    // A hit checks every gate before any value, where compiling interleaves them: the error is
    // the one compiling gives (RefusalsAndBadValuesFailAsCompilingWould).
    return Build(ctx, slots, build, sources, gated);
  }
  Count(false);
  QUARRY_ASSIGN_OR_RETURN(CompiledStatement statement, Build(ctx, slots, build, sources, gated));
  if (auto plan = MakePlan(statement.sql, statement.params, sources, args, shape.args, true)) {
    plan->gated = std::move(gated);
    Insert(key, std::move(plan));
  }
  return statement;
}

Result<CompiledRead> PlanCache::CompileRead(CompileContext& ctx, const schema::Model& model,
                                            ReadOp op, const json::object& args) {
  const std::string key = Key(ctx, model, op, args);
  if (std::shared_ptr<const CachedPlan> plan = Find(key); plan && PinnedMatch(*plan, args)) {
    Count(true);
    Result<CompiledRead> read = BindRead(ctx, *plan, op, args);
    if (read.ok()) {
      return read;
    }
    // The checks of a hit run in another order than compiling's (every gate first, then the
    // page size, the values, the cursor): the error is the one compiling gives.
    return query::CompileRead(ctx, model, op, args);
  }
  Count(false);
  QUARRY_ASSIGN_OR_RETURN(CompiledRead read, query::CompileRead(ctx, model, op, args));
  const json::value whole(args);
  if (auto plan = MakePlan(read.sql, read.params, read.sources, args, {{"", &whole}}, false)) {
    if (op == ReadOp::kFindManyCursor) {
      // The page size and the cursor's keys are slots, bound for every request.
      std::erase_if(plan->pinned, [](const auto& pin) {
        return IsPrefixPath("limit", pin.first) || IsPrefixPath("cursor", pin.first);
      });
    }
    plan->gated = read.gated;
    plan->read = read;
    plan->read.sql.clear();
    plan->read.params.clear();
    plan->read.sources.clear();
    Insert(key, std::move(plan));
  }
  return read;
}

void PlanCache::Count(bool hit) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++(hit ? hits_ : misses_);
}

std::shared_ptr<const CachedPlan> PlanCache::Find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void PlanCache::Insert(const std::string& key, std::shared_ptr<const CachedPlan> plan) {
  if (PlanBytes(key, *plan) > kMaxPlanBytes) {
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    it->second->second = std::move(plan);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(key, std::move(plan));
  index_[key] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

uint64_t PlanCache::hits() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return hits_;
}

uint64_t PlanCache::misses() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return misses_;
}

}  // namespace quarry::query
