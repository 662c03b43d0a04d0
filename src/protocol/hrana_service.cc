#include "protocol/hrana_service.h"

#include <boost/json.hpp>

#include "common/sql_statement.h"
#include "protocol/cursor_writer.h"
#include "protocol/error_json.h"
#include "protocol/executor.h"
#include "protocol/json_body.h"
#include "protocol/request.h"

namespace quarry::protocol {
namespace json = boost::json;

Result<std::unique_ptr<Stream>> HranaService::NewStream(const StreamOwner& owner) {
  QUARRY_ASSIGN_OR_RETURN(StreamSlot slot, streams_.Reserve(owner));
  QUARRY_ASSIGN_OR_RETURN(auto db, resolve_(owner.ns));
  QUARRY_ASSIGN_OR_RETURN(auto lease, db->Acquire(auth::AccessModeFor(owner.access)));
  return std::make_unique<Stream>(owner, std::move(lease), streams_.limits(), std::move(slot));
}

Result<std::unique_ptr<Stream>> HranaService::OpenStream(const StreamOwner& owner,
                                                         const std::optional<std::string>& baton) {
  std::unique_ptr<Stream> stream;
  if (baton) {
    QUARRY_ASSIGN_OR_RETURN(stream, streams_.Take(*baton, owner));
  } else {
    QUARRY_ASSIGN_OR_RETURN(stream, NewStream(owner));
  }
  Status usable = stream->CheckUsable();
  if (!usable.ok()) {
    return usable;  // the stream (and its baton) die here
  }
  return stream;
}

json::value HranaService::Finish(std::unique_ptr<Stream> stream) {
  if (stream->closed()) {
    return nullptr;
  }
  return json::value(streams_.Park(std::move(stream)));
}

Result<std::string> HranaService::Pipeline(const StreamOwner& owner, std::string_view body) {
  QUARRY_ASSIGN_OR_RETURN(json::value parsed, ParseJsonBody(body));
  QUARRY_ASSIGN_OR_RETURN(PipelineRequest pipeline, ParsePipelineRequest(parsed));
  return RunPipeline(owner, pipeline);
}

bool HranaService::IsLoneGroupableWrite(const StreamOwner& owner,
                                        const PipelineRequest& pipeline) const {
  const auto& requests = pipeline.requests;
  return streams_.limits().group_commit && !pipeline.baton &&
         owner.access == auth::SqlAccess::kReadWrite && requests.size() == 2 &&
         requests[0].type == Request::Type::kExecute && requests[0].stmt.sql.has_value() &&
         requests[1].type == Request::Type::kClose && sql::IsGroupableWrite(*requests[0].stmt.sql);
}

void HranaService::PipelineAsync(const StreamOwner& owner, std::string_view body, Completion done) {
  auto parsed = ParseJsonBody(body);
  if (!parsed.ok()) {
    done(parsed.status());
    return;
  }
  auto pipeline = ParsePipelineRequest(*parsed);
  if (!pipeline.ok()) {
    done(pipeline.status());
    return;
  }
  if (!IsLoneGroupableWrite(owner, *pipeline)) {
    done(RunPipeline(owner, *pipeline));
    return;
  }
  auto db = resolve_(owner.ns);
  if (!db.ok()) {
    done(db.status());
    return;
  }
  struct Write {
    StmtSpec stmt;
    JsonResultSink sink;
    Result<StmtOutcome> outcome = Status(ErrorCode::kInternal, "not executed");
  };
  auto write = std::make_shared<Write>();
  write->stmt = std::move(pipeline->requests[0].stmt);
  const StreamLimits& limits = streams_.limits();
  (*db)->SubmitGrouped(
      [write, access = owner.access, query_timeout = limits.query_timeout,
       max_result_bytes = limits.max_result_bytes](storage::Connection& conn) -> Status {
        // Applied before each job's work: the group's connection may have served any client.
        QUARRY_RETURN_IF_ERROR(conn.SetAccess(auth::AccessModeFor(access)));
        conn.SetDeadline(std::chrono::steady_clock::now() + query_timeout);
        write->sink = JsonResultSink();
        write->outcome =
            ExecuteStmt(conn, *write->stmt.sql, write->stmt, write->sink, max_result_bytes);
        conn.SetDeadline(std::chrono::steady_clock::time_point::max());
        return write->outcome.status();
      },
      [write, done = std::move(done)](Status status) {
        if (status.code() == ErrorCode::kNamespaceNotFound) {
          done(status);  // as for any request to a missing namespace: HTTP 404
          return;
        }
        json::object result;
        if (status.ok()) {
          json::object response{{"type", "execute"}};
          response.emplace("result", write->sink.Finish(*write->outcome));
          result = json::object{{"type", "ok"}, {"response", std::move(response)}};
        } else {
          result = json::object{{"type", "error"}, {"error", ErrorJson(status)}};
        }
        json::array results{std::move(result),
                            json::object{{"type", "ok"}, {"response", {{"type", "close"}}}}};
        done(json::serialize(json::object{
            {"baton", nullptr}, {"base_url", nullptr}, {"results", std::move(results)}}));
      });
}

Result<std::string> HranaService::RunPipeline(const StreamOwner& owner,
                                              const PipelineRequest& pipeline) {
  QUARRY_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, OpenStream(owner, pipeline.baton));
  stream->BeginResponse();
  json::array results;
  results.reserve(pipeline.requests.size());
  for (const Request& request : pipeline.requests) {
    json::object entry;
    if (stream->closed()) {
      entry.emplace("type", "error");
      entry.emplace("error", ErrorJson(Status(ErrorCode::kStreamClosed,
                                              "the stream was closed by an earlier request")));
    } else if (auto response = stream->Handle(request); response.ok()) {
      entry.emplace("type", "ok");
      entry.emplace("response", std::move(*response));
    } else {
      entry.emplace("type", "error");
      entry.emplace("error", ErrorJson(response.status()));
    }
    results.push_back(std::move(entry));
  }
  json::object out;
  out.emplace("baton", Finish(std::move(stream)));
  out.emplace("base_url", nullptr);
  out.emplace("results", std::move(results));
  return json::serialize(out);
}

Result<std::string> HranaService::Cursor(const StreamOwner& owner, std::string_view body) {
  QUARRY_ASSIGN_OR_RETURN(json::value parsed, ParseJsonBody(body));
  QUARRY_ASSIGN_OR_RETURN(CursorRequest cursor, ParseCursorRequest(parsed));
  QUARRY_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, OpenStream(owner, cursor.baton));
  stream->BeginResponse();
  std::string entries;
  CursorWriter writer([&entries](json::object entry) {
    entries += json::serialize(entry);
    entries += '\n';
  });
  writer.Run(*stream, cursor.batch);
  json::object head;
  head.emplace("baton", Finish(std::move(stream)));
  head.emplace("base_url", nullptr);
  return json::serialize(head) + "\n" + entries;
}

namespace {

class PlainRowsSink : public RowSink {
 public:
  void Begin(sqlite3_stmt* stmt) override {
    columns_ = sqlite3_column_count(stmt);
    for (int i = 0; i < columns_; ++i) {
      const char* name = sqlite3_column_name(stmt, i);
      names_.push_back(json::value(name != nullptr ? name : ""));
    }
  }
  void Row(sqlite3_stmt* stmt) override {
    json::array row;
    for (int i = 0; i < columns_; ++i) {
      row.push_back(ColumnToPlainJson(stmt, i));
    }
    rows_.push_back(std::move(row));
  }
  json::object Finish() {
    return json::object{
        {"results", json::object{{"columns", std::move(names_)}, {"rows", std::move(rows_)}}}};
  }

 private:
  int columns_ = 0;
  json::array names_;
  json::array rows_;
};

}  // namespace

Result<std::string> HranaService::Legacy(const StreamOwner& owner, std::string_view body) {
  QUARRY_ASSIGN_OR_RETURN(json::value parsed, ParseJsonBody(body));
  QUARRY_ASSIGN_OR_RETURN(LegacyRequest legacy, ParseLegacyRequest(parsed));
  for (size_t i = 0; i < legacy.statements.size(); ++i) {
    if (sql::IsTransactionControl(*legacy.statements[i].sql)) {
      return Status(ErrorCode::kInvalidArgument,
                    "statements[" + std::to_string(i) +
                        "]: transaction control is not allowed here; the statements already run "
                        "in one transaction");
    }
  }
  QUARRY_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, OpenStream(owner, std::nullopt));
  storage::Connection& conn = stream->connection();
  conn.SetDeadline(std::chrono::steady_clock::now() + streams_.limits().query_timeout);
  QUARRY_RETURN_IF_ERROR(conn.Exec("BEGIN"));
  json::array results;
  size_t budget = streams_.limits().max_response_bytes;  // all statements' rows together
  for (size_t i = 0; i < legacy.statements.size(); ++i) {
    PlainRowsSink sink;
    auto outcome = ExecuteStmt(conn, *legacy.statements[i].sql, legacy.statements[i], sink,
                               std::min(streams_.limits().max_result_bytes, budget));
    if (outcome.ok()) {
      budget -= std::min(budget, outcome->result_bytes);
    }
    Status failed = outcome.status();
    if (outcome.ok() && !conn.InTransaction()) {
      // Whatever the text looked like, the statement ended the request's transaction.
      failed = Status(ErrorCode::kInvalidArgument,
                      "transaction control is not allowed here; the statements already run in "
                      "one transaction");
    }
    if (!failed.ok()) {
      conn.RollbackIfOpen().PermitUncheckedError();
      return Status(failed.code(),
                    "statements[" + std::to_string(i) + "]: " + failed.message() +
                        " (no statement of the request was applied)",
                    failed.sqlite_code());
    }
    results.push_back(sink.Finish());
  }
  if (conn.InTransaction()) {
    QUARRY_RETURN_IF_ERROR(conn.Exec("COMMIT"));
  }
  return json::serialize(results);
}

}  // namespace quarry::protocol
