#pragma once

// aggregate, groupBy and search, each compiled to one SQL statement with the caller's row
// policy inside it and fields the caller may not read left out.

#include <boost/json/object.hpp>
#include <string>

#include "common/status.h"
#include "query/compile_context.h"
#include "query/sql_runner.h"

namespace quarry::query {

// aggregate({where, _count, _sum, _avg, _min, _max, _stringAgg, _<name>: {fn, filter}}).
Result<std::string> RunAggregate(CompileContext& ctx, const schema::Model& model,
                                 const boost::json::object& args, SqlRunner& runner);

// groupBy({by, where, having, orderBy, limit, offset, interval, fillGaps, aggregates...}).
Result<std::string> RunGroupBy(CompileContext& ctx, const schema::Model& model,
                               const boost::json::object& args, SqlRunner& runner);

// search({query, where, limit, offset, highlight, snippet}) on a @@fts model.
Result<std::string> RunSearch(CompileContext& ctx, const schema::Model& model,
                              const boost::json::object& args, SqlRunner& runner);

}  // namespace quarry::query
