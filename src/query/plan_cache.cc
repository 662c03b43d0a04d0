#include "query/plan_cache.h"

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

// The value at dotted `path` of `args`; null when absent.
const json::value* At(const json::object& args, const std::string& path) {
  static const json::value kNull;
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
    if (at == nullptr) {
      return &kNull;
    }
    if (dot == std::string::npos) {
      break;
    }
    start = dot + 1;
  }
  return at == nullptr ? &kNull : at;
}

bool IsPrefixPath(const std::string& prefix, const std::string& path) {
  return path == prefix ||
         (path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '.');
}

// This request's value for a parameter of the cached plan.
Result<storage::Value> Bind(const CompileContext& ctx, const ParamSource& source,
                            const json::object& args, const storage::Value& constant) {
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
    case Kind::kUnknown:
      return Status(ErrorCode::kInternal, "a cached plan with a parameter of unknown source");
    case Kind::kArg:
      break;
  }
  return ArgumentValue(ctx.schema, source, *At(args, source.name));
}

std::string Key(const CompileContext& ctx, const schema::Model& model, ReadOp op,
                const json::object& args) {
  std::string key = std::to_string(ctx.schema_generation);
  key += '|';
  key += model.name;
  key += '|';
  key += std::to_string(static_cast<int>(op));
  key += ctx.identity.system() ? "|s|" : "|u|";
  Skeleton(json::value(args), key);
  return key;
}

}  // namespace

Result<CompiledRead> PlanCache::CompileRead(CompileContext& ctx, const schema::Model& model,
                                            ReadOp op, const json::object& args) {
  const std::string key = Key(ctx, model, op, args);
  if (std::shared_ptr<const CachedRead> plan = Find(key)) {
    bool same = true;
    for (const auto& [path, value] : plan->pinned) {
      same = same && *At(args, path) == value;
    }
    if (same) {
      for (const schema::Model* gated : plan->read.gated) {
        QUARRY_RETURN_IF_ERROR(CheckGate(ctx, *gated, RowOperation::kRead));
      }
      CompiledRead read = plan->read;
      read.params.reserve(read.sources.size());
      for (size_t i = 0; i < read.sources.size(); ++i) {
        QUARRY_ASSIGN_OR_RETURN(storage::Value v,
                                Bind(ctx, read.sources[i], args, plan->constants[i]));
        read.params.push_back(std::move(v));
      }
      std::lock_guard<std::mutex> lock(mutex_);
      ++hits_;
      return read;
    }
  }
  QUARRY_ASSIGN_OR_RETURN(CompiledRead read, query::CompileRead(ctx, model, op, args));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++misses_;
  }
  bool cacheable = true;
  for (const ParamSource& s : read.sources) {
    cacheable = cacheable && s.kind != ParamSource::Kind::kUnknown;
  }
  if (cacheable) {
    auto plan = std::make_shared<CachedRead>();
    plan->read = read;
    plan->read.params.clear();
    for (size_t i = 0; i < read.sources.size(); ++i) {
      plan->constants.push_back(
          read.sources[i].kind == ParamSource::Kind::kConstant ? read.params[i] : NullValue());
    }
    std::vector<std::pair<std::string, json::value>> leaves;
    Leaves(json::value(args), "", leaves);
    for (auto& [path, value] : leaves) {
      bool bound = false;
      for (const ParamSource& s : read.sources) {
        bound = bound || (s.kind == ParamSource::Kind::kArg && IsPrefixPath(s.name, path));
      }
      if (!bound) {
        plan->pinned.emplace_back(path, value);
      }
    }
    Insert(key, std::move(plan));
  }
  return read;
}

std::shared_ptr<const CachedRead> PlanCache::Find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void PlanCache::Insert(const std::string& key, std::shared_ptr<const CachedRead> plan) {
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
