#pragma once

// PlanCache: compiled reads kept per request shape, so a repeated shape costs no compile.
//
// The key is (schema generation, model, operation, caller kind, the arguments' skeleton): the
// argument JSON with every string and number replaced by its type, booleans and nulls kept
// (they change the SQL: `select: {x: true}`, `{x: null}` is IS NULL). A cached plan holds the
// SQL, where each parameter comes from (ParamSource: a path into the arguments with how to
// convert it, a claim, now(), a constant), the strings and numbers the SQL text depends on
// ("asc", a window's field name, ...) which a request must repeat exactly to use it, and the
// models whose @@gate the read passes (checked again for each caller). A read with a parameter
// of unknown source (a cursor, $raw) is never cached. Errors are never cached: a request whose
// values do not convert fails as compiling it would.
// Thread-safe; bounded (least recently used shapes are dropped).

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
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

struct CachedRead {
  CompiledRead read;                      // params empty; sources filled
  std::vector<storage::Value> constants;  // per parameter: its value when kConstant
  std::vector<std::pair<std::string, boost::json::value>> pinned;  // path -> exact value
};

class PlanCache {
 public:
  explicit PlanCache(size_t capacity = 2048) : capacity_(capacity) {}

  // The compiled read for `args`: from the cache when its shape was compiled before (binding
  // this request's values), else compiled and, when cacheable, kept.
  Result<CompiledRead> CompileRead(CompileContext& ctx, const schema::Model& model, ReadOp op,
                                   const boost::json::object& args);

  uint64_t hits() const;
  uint64_t misses() const;

 private:
  std::shared_ptr<const CachedRead> Find(const std::string& key);
  void Insert(const std::string& key, std::shared_ptr<const CachedRead> plan);

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<std::pair<std::string, std::shared_ptr<const CachedRead>>> lru_;  // GUARDED_BY
  std::unordered_map<std::string, decltype(lru_)::iterator> index_;           // GUARDED_BY
  uint64_t hits_ = 0;                                                         // GUARDED_BY
  uint64_t misses_ = 0;                                                       // GUARDED_BY
};

}  // namespace quarry::query
