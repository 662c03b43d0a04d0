#pragma once

// aggregate, groupBy and search, each compiled to one SQL statement that produces the result's
// JSON text, with the caller's read policy and soft-delete scope (withDeleted, onlyDeleted)
// inside it. Implemented in aggregate.cc (aggregate, groupBy) and search.cc.
//
// Aggregates, in aggregate and groupBy alike, answered in request order:
//   _count: true                        count(*)
//   _count: {_all: true, field: true}   {"_all": n, "field": non-null values}
//   _count: {distinct: "field"}         count(DISTINCT field), a number
//   _sum|_avg: {field: true}            Integer and Real fields (else 400 naming the path)
//   _min|_max: {field: true}            fields whose values compare (not Json, Blob or lists)
//   _stringAgg: {field, separator, orderBy} (or an array of them)
//                                       {"field": "a, b"}: the non-null values joined (default
//                                       separator ","), ordered by orderBy (a field name or an
//                                       orderBy object)
//   _<name>: {count: true | "field", sum|avg|min|max: "field", filter: {where}}
//                                       one value, over the rows that match filter (SQL FILTER;
//                                       filter is a where object, compiled as where is)
// Values render as findMany renders the field's type (Integers as numbers below 2^53, decimal
// strings beyond), avg as a Real; an aggregate of no rows is null, except counts (0).
// A field the caller may not read (@guarded, @secret for users; for everyone a @secret field's
// value, so only its counts are allowed) leaves its key out of the result; a field readable
// only on some rows (@allow('read', ...)) is aggregated over those rows only.

#include <boost/json/object.hpp>
#include <string>

#include "common/status.h"
#include "query/compile_context.h"
#include "query/sql_runner.h"

namespace quarry::query {

// aggregate({where, withDeleted, onlyDeleted, <aggregates>}): one object,
// {"_count": 142, "_sum": {"amount": 98432.5}, ...}.
Result<std::string> RunAggregate(CompileContext& ctx, const schema::Model& model,
                                 const boost::json::object& args, SqlRunner& runner);

// groupBy({by, where, having, orderBy, limit, offset, interval, fillGaps, withDeleted,
// onlyDeleted, <aggregates>}): an array of {<by fields>..., <aggregates>...}.
//   by: [field, ...] (or one name); a field the caller may not read is 403; one readable only
//       on some rows groups the other rows under null.
//   having: {_count: {gt: 5}}, {_sum: {amount: {gte: 10}}}, {_count: {field: cond}}, a named
//       aggregate of the request, a by-field; AND/OR/NOT; conditions are a value or
//       {equals, not, in, notIn, lt, lte, gt, gte}. The aggregates it names need not be asked
//       for.
//   orderBy: {field of by: dir}, {_count: dir}, {_sum: {amount: dir}}, {_named: dir} (an
//       object or an array of them; dir as findMany's); groups tying on it, and all groups
//       without it, come in by order.
//   interval: {field: "year"|"quarter"|"month"|"week"|"day"|"hour"}: one by-field (DateTime, or
//       Text holding ISO-8601) grouped by its bucket (labels in time_bucket.h), UTC.
//   fillGaps (default true with interval): every bucket from the first to the last (where's
//       gte/gt and lte/lt on that field, when given, else the data's), for each combination of
//       the other by-fields that has rows, with counts 0 and other aggregates null; at most
//       100000 buckets (400 beyond). Groups without a date-time (null bucket) follow as they are.
Result<std::string> RunGroupBy(CompileContext& ctx, const schema::Model& model,
                               const boost::json::object& args, SqlRunner& runner);

// search({query, where, limit, offset, highlight, snippet, select, include, withDeleted,
// onlyDeleted}) on a @@fts model (400 "model X has no @@fts" otherwise): the rows whose indexed
// text matches `query` (FTS5 query syntax; a malformed one is 400 naming "query"), best bm25
// rank first, as findMany rows (select/include), with where and the caller's policies applied.
//   highlight: {field, open: "<b>", close: "</b>"}           adds "_highlight": the field's text
//   snippet: {field, open, close, ellipsis: "...", tokens: 10}  adds "_snippet": a fragment
// A user matches only the indexed fields it may read on every row (the query is wrapped in an
// FTS5 column filter of those), so no row matches on text the caller cannot see; a highlight or
// snippet of a field it may not read is left out.
Result<std::string> RunSearch(CompileContext& ctx, const schema::Model& model,
                              const boost::json::object& args, SqlRunner& runner);

}  // namespace quarry::query
