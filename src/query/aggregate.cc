#include "query/aggregate.h"

namespace quarry::query {

Result<std::string> RunAggregate(CompileContext&, const schema::Model&, const boost::json::object&,
                                 SqlRunner&) {
  return Status(ErrorCode::kInternal, "aggregate is being built");
}
Result<std::string> RunGroupBy(CompileContext&, const schema::Model&, const boost::json::object&,
                               SqlRunner&) {
  return Status(ErrorCode::kInternal, "groupBy is being built");
}
Result<std::string> RunSearch(CompileContext&, const schema::Model&, const boost::json::object&,
                              SqlRunner&) {
  return Status(ErrorCode::kInternal, "search is being built");
}

}  // namespace quarry::query
