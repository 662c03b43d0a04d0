#pragma once

// PlanCache: compiled statements kept per request shape, so a repeated shape costs no compile.
//
// Reads: the key is (schema generation, model, operation, caller kind, the arguments' skeleton):
// the argument JSON with every string and number replaced by its type, booleans and nulls kept
// (they change the SQL: `select: {x: true}`, `{x: null}` is IS NULL). A cached plan holds the
// SQL, where each parameter comes from (ParamSource: a path into the arguments with how to
// convert it, a claim, now(), a constant), the strings and numbers the SQL text depends on
// ("asc", a window's field name, ...) which a request must repeat exactly to use it, and the
// models whose @@gate the read passes (checked again for each caller). A read with a parameter
// of unknown source ($raw) is never cached. findManyCursor reads are cached with their cursor:
// the page size and the cursor are checked again for every request (signature, query, keys) and
// the cursor's keys bound as parameters; which keys are null is part of the shape (the SQL tests
// IS NULL for them).
//
// Writes issue a few statements each; every one goes through CompileStatement, keyed by (schema
// generation, caller kind, the statement's site -- its place in the writer plus whatever else
// its text depends on, such as the columns written -- and the skeletons of the argument
// subtrees it reads, such as `where` or `select`). Values the writer computes (column values
// after transforms and validators, primary keys found by an earlier statement, stamps) are
// slots (ParamSource::kSlot) bound each time; only strings and numbers inside the declared
// subtrees are pinned, so new `data` values reuse the plan. The writer's per-request work that
// is not compiling (transforms, validators, defaults, checking RETURNING policy results) runs
// every time.
//
// Errors are never cached: a request whose values do not convert fails as compiling it would.
// hits() counts statements whose plan was found (also those whose values then fail to bind or
// whose gate refuses this caller, which are compiled again for their error and count as hits
// only), misses() statements compiled for want of a plan (also those that fail); a write of
// three statements counts three.
// Requests whose arguments have a key with a '.' (a window's name) are not cached: a plan finds
// a request's values by dotted paths. When a hit's checks fail (a gate refuses this caller, a
// value does not convert, a cursor is not valid), the request is compiled as if no plan were
// found, so that its error is exactly the compile's: compiling checks gates and values in the
// order it meets them, a hit every gate first.
// Thread-safe; bounded: least recently used shapes are dropped, and a plan (key included) larger
// than 32 KiB is not kept, so the cache holds at most capacity x 32 KiB however large requests
// are.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "query/compile_context.h"
#include "query/read.h"

namespace quarry::query {

// A cached statement: its text, where its parameters come from, what a request must repeat.
struct CachedPlan {
  std::string sql;
  std::vector<ParamSource> sources;
  std::vector<storage::Value> constants;  // per parameter: its value when kConstant
  std::vector<std::pair<std::string, boost::json::value>> pinned;  // path -> exact value
  std::vector<const schema::Model*> gated;  // models whose read @@gate the statement passed
  CompiledRead read;  // reads: the rest of the compiled read (sql, params, sources empty)
};

// Where a write's statement sits and what its text depends on (see CompileStatement).
struct StatementShape {
  // The statement's place in the writer with everything else its text depends on beyond the
  // argument subtrees below (the columns written, atomic-update operators, ...).
  std::string site;
  // The argument subtrees the text depends on, by their dotted path in the operation's
  // arguments ("where", "select", "data.author.connect"); null when absent.
  std::vector<std::pair<std::string, const boost::json::value*>> args;
};

// A statement ready to run.
struct CompiledStatement {
  std::string sql;
  std::vector<storage::Value> params;
};

// Builds a write's statement. It binds request values only through ParamSource-carrying
// helpers (kArg, kClaim, kNow, kConstant) and the writer's own values only as slots
// (SqlBuilder::Slot); anything else (kUnknown) makes the statement uncacheable.
using StatementBuilder = std::function<Status(SqlBuilder&)>;

// The statement for `shape`, with kArg parameters bound from `args` (the operation's arguments)
// and kSlot parameters from `slots`: from ctx.plans when the shape was built before, else built
// by `build` (and kept when ctx.plans is set and the statement is cacheable). The read @@gates
// `build` passes are checked again on a hit, for this caller.
Result<CompiledStatement> CompileStatement(CompileContext& ctx, const StatementShape& shape,
                                           const boost::json::object& args,
                                           const std::vector<storage::Value>& slots,
                                           const StatementBuilder& build);

class PlanCache {
 public:
  explicit PlanCache(size_t capacity = 2048) : capacity_(capacity) {}

  // The compiled read for `args`: from the cache when its shape was compiled before (binding
  // this request's values), else compiled and, when cacheable, kept.
  Result<CompiledRead> CompileRead(CompileContext& ctx, const schema::Model& model, ReadOp op,
                                   const boost::json::object& args);

  // See the free function CompileStatement, which calls this when ctx.plans is set.
  Result<CompiledStatement> CompileStatement(CompileContext& ctx, const StatementShape& shape,
                                             const boost::json::object& args,
                                             const std::vector<storage::Value>& slots,
                                             const StatementBuilder& build);

  uint64_t hits() const;
  uint64_t misses() const;

 private:
  std::shared_ptr<const CachedPlan> Find(const std::string& key);
  void Insert(const std::string& key, std::shared_ptr<const CachedPlan> plan);
  void Count(bool hit);

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<std::pair<std::string, std::shared_ptr<const CachedPlan>>> lru_;  // GUARDED_BY
  std::unordered_map<std::string, decltype(lru_)::iterator> index_;           // GUARDED_BY
  uint64_t hits_ = 0;                                                         // GUARDED_BY
  uint64_t misses_ = 0;                                                       // GUARDED_BY
};

}  // namespace quarry::query
