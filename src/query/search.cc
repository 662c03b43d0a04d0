#include "query/aggregate.h"

namespace quarry::query {

Result<std::string> RunSearch(CompileContext&, const schema::Model&, const boost::json::object&,
                              SqlRunner&) {
  return Status(ErrorCode::kInternal, "search is being built");
}

}  // namespace quarry::query
