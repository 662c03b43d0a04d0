#include "protocol/hrana_service.h"

#include <boost/json.hpp>

#include "common/sql_statement.h"
#include "protocol/cursor_writer.h"
#include "protocol/error_json.h"
#include "protocol/executor.h"
#include "protocol/json_body.h"
#include "protocol/pipeline_parser.h"
#include "protocol/protobuf_codec.h"
#include "protocol/request.h"
#include "protocol/response_json.h"

namespace quarry::protocol {
namespace json = boost::json;

Result<std::unique_ptr<Stream>> HranaService::NewStream(const StreamOwner& owner) {
  QUARRY_ASSIGN_OR_RETURN(StreamSlot slot, streams_.Reserve(owner));
  QUARRY_ASSIGN_OR_RETURN(auto db, resolve_(owner.ns));
  return std::make_unique<Stream>(owner, std::move(db), streams_.limits(), std::move(slot));
}

Result<std::unique_ptr<Stream>> HranaService::OpenStream(const StreamOwner& owner,
                                                         const std::optional<std::string>& baton) {
  std::unique_ptr<Stream> stream;
  if (baton) {
    QUARRY_ASSIGN_OR_RETURN(stream, streams_.Take(*baton, owner));
  } else {
    QUARRY_ASSIGN_OR_RETURN(StreamSlot slot, streams_.Reserve(owner));
    QUARRY_ASSIGN_OR_RETURN(auto db, resolve_(owner.ns));
    QUARRY_ASSIGN_OR_RETURN(auto lease, db->Acquire(auth::AccessModeFor(owner.access)));
    stream = std::make_unique<Stream>(owner, std::move(lease), streams_.limits(), std::move(slot));
  }
  Status usable = stream->CheckUsable();
  if (!usable.ok()) {
    return usable;  // the stream (and its baton) die here
  }
  return stream;
}

std::optional<std::string> HranaService::Finish(std::unique_ptr<Stream> stream) {
  if (stream->closed()) {
    return std::nullopt;
  }
  return streams_.Park(std::move(stream));
}

namespace {

Result<PipelineRequest> DecodePipeline(std::string_view body, Encoding encoding) {
  if (encoding == Encoding::kProtobuf) {
    return ParseProtobufPipelineRequest(body);
  }
  if (std::optional<PipelineRequest> common = ParseCommonPipelineRequest(body)) {
    return std::move(*common);
  }
  // The DOM only lives until it is read into a PipelineRequest: its nodes come from a buffer
  // on the stack (and blocks after it for large requests), freed at once.
  unsigned char buffer[4096];
  json::monotonic_resource arena(buffer, sizeof(buffer));
  QUARRY_ASSIGN_OR_RETURN(json::value parsed, ParseJsonBody(body, &arena));
  return ParsePipelineRequest(parsed);
}

std::string EncodePipeline(const PipelineResponse& response, Encoding encoding) {
  return encoding == Encoding::kProtobuf ? PipelineResponseProtobufBody(response)
                                         : PipelineResponseBody(response);
}

}  // namespace

Result<std::string> HranaService::Pipeline(const StreamOwner& owner, std::string_view body,
                                           Encoding encoding) {
  QUARRY_ASSIGN_OR_RETURN(PipelineRequest pipeline, DecodePipeline(body, encoding));
  QUARRY_ASSIGN_OR_RETURN(PipelineResponse response, RunPipeline(owner, pipeline));
  return EncodePipeline(response, encoding);
}

bool HranaService::IsLoneGroupableWrite(const StreamOwner& owner,
                                        const PipelineRequest& pipeline) const {
  const auto& requests = pipeline.requests;
  return streams_.limits().group_commit && !pipeline.baton &&
         owner.access == auth::SqlAccess::kReadWrite && requests.size() == 2 &&
         requests[0].type == Request::Type::kExecute && requests[0].stmt.sql.has_value() &&
         requests[1].type == Request::Type::kClose && sql::IsGroupableWrite(*requests[0].stmt.sql);
}

void HranaService::PipelineAsync(const StreamOwner& owner, std::string_view body, Completion done,
                                 Encoding encoding) {
  auto pipeline = DecodePipeline(body, encoding);
  if (!pipeline.ok()) {
    done(pipeline.status());
    return;
  }
  RunDecodedPipelineAsync(owner, std::move(*pipeline), encoding, std::move(done));
}

void HranaService::RunDecodedPipelineAsync(const StreamOwner& owner, PipelineRequest pipeline,
                                           Encoding encoding, Completion done) {
  RunPipelineAsync(owner, std::move(pipeline),
                   [encoding, done = std::move(done)](Result<PipelineResponse> response) {
                     if (!response.ok()) {
                       done(response.status());
                       return;
                     }
                     done(EncodePipeline(*response, encoding));
                   });
}

std::optional<Result<PipelineResponse>> HranaService::TryRunInlineRead(
    const StreamOwner& owner, const PipelineRequest& pipeline, std::chrono::microseconds budget) {
  const auto& requests = pipeline.requests;
  bool lone_read = find_open_ && budget.count() > 0 && !pipeline.baton && requests.size() == 2 &&
                   requests[0].type == Request::Type::kExecute &&
                   requests[0].stmt.sql.has_value() && requests[1].type == Request::Type::kClose &&
                   sql::FirstKeywordIs(*requests[0].stmt.sql, "SELECT");
  if (!lone_read) {
    return std::nullopt;
  }
  std::shared_ptr<storage::Database> db = find_open_(owner.ns);
  if (db == nullptr) {
    return std::nullopt;
  }
  std::optional<Result<storage::ConnectionLease>> lease =
      db->TryAcquireIdle(auth::AccessModeFor(owner.access));
  if (!lease || !lease->ok()) {
    return std::nullopt;  // the pool's path reports a failure to apply the access mode
  }
  Result<StreamSlot> slot = streams_.Reserve(owner);
  if (!slot.ok()) {
    return Result<PipelineResponse>(slot.status());
  }
  StreamLimits limits = streams_.limits();
  limits.query_timeout = std::min<std::chrono::milliseconds>(
      limits.query_timeout, std::chrono::duration_cast<std::chrono::milliseconds>(
                                budget + std::chrono::microseconds(999)));
  Stream stream(owner, std::move(**lease), limits, std::move(*slot));
  PipelineResponse response = RunRequests(stream, pipeline);
  for (const StreamResult& result : response.results) {
    if (!result.ok() && result.status().code() == ErrorCode::kQueryTimeout) {
      return std::nullopt;  // longer than the budget: the pool runs it again in full
    }
  }
  inline_reads_.fetch_add(1, std::memory_order_relaxed);
  return Result<PipelineResponse>(std::move(response));
}

HranaService::FromNetwork HranaService::PipelineFromNetwork(const StreamOwner& owner,
                                                            std::string_view body,
                                                            Encoding encoding,
                                                            std::chrono::microseconds budget) {
  FromNetwork out;
  auto pipeline = DecodePipeline(body, encoding);
  if (!pipeline.ok()) {
    out.answer = pipeline.status();
    return out;
  }
  if (std::optional<Result<PipelineResponse>> served = TryRunInlineRead(owner, *pipeline, budget)) {
    out.answer = served->ok() ? Result<std::string>(EncodePipeline(**served, encoding))
                              : Result<std::string>(served->status());
    return out;
  }
  out.pipeline = std::move(*pipeline);
  return out;
}

void HranaService::RunPipelineAsync(const StreamOwner& owner, PipelineRequest pipeline,
                                    PipelineCompletion done) {
  if (!IsLoneGroupableWrite(owner, pipeline)) {
    done(RunPipeline(owner, pipeline));
    return;
  }
  auto db = resolve_(owner.ns);
  if (!db.ok()) {
    done(db.status());
    return;
  }
  struct Write {
    StmtSpec stmt;
    StmtResultSink sink;
    Result<StmtOutcome> outcome = Status(ErrorCode::kInternal, "not executed");
  };
  auto write = std::make_shared<Write>();
  write->stmt = std::move(pipeline.requests[0].stmt);
  const StreamLimits& limits = streams_.limits();
  (*db)->SubmitGrouped(
      [write, access = owner.access, query_timeout = limits.query_timeout,
       max_result_bytes = limits.max_result_bytes](storage::Connection& conn) -> Status {
        // Applied before each job's work: the group's connection may have served any client.
        QUARRY_RETURN_IF_ERROR(conn.SetAccess(auth::AccessModeFor(access)));
        conn.SetDeadline(std::chrono::steady_clock::now() + query_timeout);
        write->sink = StmtResultSink();
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
        PipelineResponse response;
        if (status.ok()) {
          StreamResponse execute;
          execute.type = Request::Type::kExecute;
          execute.execute = write->sink.Finish(*write->outcome);
          response.results.emplace_back(std::move(execute));
        } else {
          response.results.emplace_back(std::move(status));
        }
        StreamResponse close;
        close.type = Request::Type::kClose;
        response.results.emplace_back(std::move(close));
        done(std::move(response));
      });
}

Result<PipelineResponse> HranaService::RunPipeline(const StreamOwner& owner,
                                                   const PipelineRequest& pipeline) {
  QUARRY_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, OpenStream(owner, pipeline.baton));
  PipelineResponse response = RunRequests(*stream, pipeline);
  response.baton = Finish(std::move(stream));
  return response;
}

PipelineResponse HranaService::RunRequests(Stream& stream, const PipelineRequest& pipeline) {
  stream.BeginResponse();
  PipelineResponse response;
  response.results.reserve(pipeline.requests.size());
  for (const Request& request : pipeline.requests) {
    if (stream.closed()) {
      response.results.emplace_back(
          Status(ErrorCode::kStreamClosed, "the stream was closed by an earlier request"));
    } else {
      response.results.push_back(stream.Handle(request));
    }
  }
  return response;
}

Result<CursorHead> HranaService::RunCursor(const StreamOwner& owner, const CursorRequest& cursor,
                                           CursorEntryWriter& entries) {
  QUARRY_ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, OpenStream(owner, cursor.baton));
  stream->BeginResponse();
  CursorWriter(entries).Run(*stream, cursor.batch);
  CursorHead head;
  head.baton = Finish(std::move(stream));
  return head;
}

Result<std::string> HranaService::Cursor(const StreamOwner& owner, std::string_view body,
                                         Encoding encoding) {
  if (encoding == Encoding::kProtobuf) {
    QUARRY_ASSIGN_OR_RETURN(CursorRequest cursor, ParseProtobufCursorRequest(body));
    ProtobufCursorWriter writer;
    QUARRY_ASSIGN_OR_RETURN(CursorHead head, RunCursor(owner, cursor, writer));
    return writer.Body(head);
  }
  QUARRY_ASSIGN_OR_RETURN(json::value parsed, ParseJsonBody(body));
  QUARRY_ASSIGN_OR_RETURN(CursorRequest cursor, ParseCursorRequest(parsed));
  JsonCursorWriter writer;
  QUARRY_ASSIGN_OR_RETURN(CursorHead head, RunCursor(owner, cursor, writer));
  return writer.Body(head);
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
