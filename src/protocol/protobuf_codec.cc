#include "protocol/protobuf_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/unknown_field_set.h>

#include <climits>
#include <memory>
#include <utility>
#include <variant>

#include "common/sqlite_codes.h"

namespace quarry::protocol {

namespace {

Status Invalid(const std::string& where, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, where + ": " + what);
}

Result<Condition> ConditionFromProto(const hrana::BatchCond& cond, const std::string& where,
                                     size_t step_index, int depth) {
  if (depth > 64) {
    return Invalid(where, "condition nested too deeply");
  }
  Condition out;
  auto step = [&](uint32_t step) -> Status {
    if (step >= step_index) {
      return Invalid(
          where, "step " + std::to_string(step) + " does not name an earlier step of the batch");
    }
    out.step = step;
    return Status::Ok();
  };
  auto list = [&](const hrana::BatchCond::CondList& conds) -> Status {
    for (int i = 0; i < conds.conds_size(); ++i) {
      QUARRY_ASSIGN_OR_RETURN(
          Condition parsed,
          ConditionFromProto(conds.conds(i), where + ".conds[" + std::to_string(i) + "]",
                             step_index, depth + 1));
      out.conds.push_back(std::move(parsed));
    }
    return Status::Ok();
  };
  switch (cond.cond_case()) {
    case hrana::BatchCond::kStepOk:
      out.kind = Condition::Kind::kOk;
      QUARRY_RETURN_IF_ERROR(step(cond.step_ok()));
      break;
    case hrana::BatchCond::kStepError:
      out.kind = Condition::Kind::kError;
      QUARRY_RETURN_IF_ERROR(step(cond.step_error()));
      break;
    case hrana::BatchCond::kNot: {
      out.kind = Condition::Kind::kNot;
      QUARRY_ASSIGN_OR_RETURN(
          Condition parsed, ConditionFromProto(cond.not_(), where + ".not", step_index, depth + 1));
      out.conds.push_back(std::move(parsed));
      break;
    }
    case hrana::BatchCond::kAnd:
      out.kind = Condition::Kind::kAnd;
      QUARRY_RETURN_IF_ERROR(list(cond.and_()));
      break;
    case hrana::BatchCond::kOr:
      out.kind = Condition::Kind::kOr;
      QUARRY_RETURN_IF_ERROR(list(cond.or_()));
      break;
    case hrana::BatchCond::kIsAutocommit:
      out.kind = Condition::Kind::kIsAutocommit;
      break;
    case hrana::BatchCond::COND_NOT_SET:
      return Invalid(where,
                     "the condition sets none of step_ok, step_error, not, and, or, "
                     "is_autocommit");
  }
  return out;
}

void ColumnsToProto(const std::vector<Column>& cols,
                    google::protobuf::RepeatedPtrField<hrana::Col>* out) {
  out->Reserve(static_cast<int>(cols.size()));
  for (const Column& col : cols) {
    hrana::Col* item = out->Add();
    if (col.name) {
      item->set_name(SanitizeUtf8(*col.name));
    }
    if (col.decltype_name) {
      item->set_decltype_(SanitizeUtf8(*col.decltype_name));
    }
  }
}

void RowToProto(const Row& row, hrana::Row* out) {
  out->mutable_values()->Reserve(static_cast<int>(row.size()));
  for (const Value& value : row) {
    ValueToProto(value, out->add_values());
  }
}

// Parses a whole message from `body`; false when it is not one. The library's own log line
// about a bad body (a string that is not UTF-8) is silenced: the caller answers the client with
// its error, and a client must not be able to fill the server's log.
bool ParseMessage(std::string_view body, google::protobuf::MessageLite& message) {
  if (body.size() > static_cast<size_t>(INT_MAX)) {
    return false;
  }
  google::protobuf::LogSilencer quiet;
  return message.ParseFromArray(body.data(), static_cast<int>(body.size()));
}

Status NotAMessage(const char* name) {
  return Status(ErrorCode::kInvalidArgument,
                std::string("request body: not a valid protobuf ") + name +
                    " message of Hrana 3 (truncated, a field of the wrong wire type, or a string "
                    "that is not UTF-8)");
}

// The helpers below take HTTP's stream requests and WebSocket's requests alike: the two
// schemas give the same fields the same names (ExecuteStreamReq and ExecuteReq both have
// `stmt`, SequenceStreamReq and SequenceReq both `sql` and `sql_id`).

// An execute: its statement is required.
template <typename ExecuteMsg>
Status ExecuteFromProto(const ExecuteMsg& execute, const std::string& where, Request& out) {
  out.type = Request::Type::kExecute;
  if (!execute.has_stmt()) {
    return Invalid(where, "missing field \"stmt\"");
  }
  QUARRY_ASSIGN_OR_RETURN(out.stmt, StmtFromProto(execute.stmt(), where + ".stmt"));
  return Status::Ok();
}

// A batch request: its batch is required.
template <typename BatchMsg>
Status BatchRequestFromProto(const BatchMsg& batch, const std::string& where, Request& out) {
  out.type = Request::Type::kBatch;
  if (!batch.has_batch()) {
    return Invalid(where, "missing field \"batch\"");
  }
  QUARRY_ASSIGN_OR_RETURN(out.batch, BatchFromProto(batch.batch(), where + ".batch"));
  return Status::Ok();
}

// The SQL of a sequence or describe: exactly one of `sql` and `sql_id`, as over JSON.
template <typename SqlMsg>
Status SqlOrIdFromProto(const SqlMsg& request, const std::string& where, Request& out) {
  if (request.has_sql() == request.has_sql_id()) {
    return Status(ErrorCode::kSqlConflict,
                  where + ": exactly one of \"sql\" and \"sql_id\" must be given");
  }
  if (request.has_sql()) {
    out.sql = request.sql();
  } else {
    out.sql_id = request.sql_id();
  }
  return Status::Ok();
}

}  // namespace

Result<Value> ValueFromProto(const hrana::Value& value, std::string_view where) {
  Value out;
  switch (value.value_case()) {
    case hrana::Value::kNull:
      out.type = Value::Type::kNull;
      break;
    case hrana::Value::kInteger:
      out.type = Value::Type::kInteger;
      out.integer = value.integer();
      break;
    case hrana::Value::kFloat:
      out.type = Value::Type::kFloat;
      out.real = value.float_();
      break;
    case hrana::Value::kText:
      out.type = Value::Type::kText;
      out.bytes = value.text();
      break;
    case hrana::Value::kBlob:
      out.type = Value::Type::kBlob;
      out.bytes = value.blob();
      break;
    case hrana::Value::VALUE_NOT_SET:
      return Invalid(std::string(where), "the value sets none of null, integer, float, text, blob");
  }
  return out;
}

Result<StmtSpec> StmtFromProto(const hrana::Stmt& stmt, const std::string& where) {
  StmtSpec out;
  if (stmt.has_sql() == stmt.has_sql_id()) {
    return Status(ErrorCode::kSqlConflict,
                  where + ": exactly one of \"sql\" and \"sql_id\" must be given");
  }
  if (stmt.has_sql()) {
    out.sql = stmt.sql();
  } else {
    out.sql_id = stmt.sql_id();
  }
  out.args.reserve(static_cast<size_t>(stmt.args_size()));
  for (int i = 0; i < stmt.args_size(); ++i) {
    QUARRY_ASSIGN_OR_RETURN(
        Value value, ValueFromProto(stmt.args(i), where + ".args[" + std::to_string(i) + "]"));
    out.args.push_back(std::move(value));
  }
  for (int i = 0; i < stmt.named_args_size(); ++i) {
    const hrana::NamedArg& arg = stmt.named_args(i);
    std::string item_where = where + ".named_args[" + std::to_string(i) + "]";
    if (!arg.has_value()) {
      return Invalid(item_where, "missing field \"value\"");
    }
    QUARRY_ASSIGN_OR_RETURN(Value value, ValueFromProto(arg.value(), item_where + ".value"));
    out.named_args.emplace_back(arg.name(), std::move(value));
  }
  out.want_rows = !stmt.has_want_rows() || stmt.want_rows();
  return out;
}

Result<BatchSpec> BatchFromProto(const hrana::Batch& batch, const std::string& where) {
  BatchSpec out;
  out.steps.reserve(static_cast<size_t>(batch.steps_size()));
  for (int i = 0; i < batch.steps_size(); ++i) {
    const hrana::BatchStep& step = batch.steps(i);
    std::string step_where = where + ".steps[" + std::to_string(i) + "]";
    BatchStep parsed;
    if (step.has_condition()) {
      QUARRY_ASSIGN_OR_RETURN(parsed.condition,
                              ConditionFromProto(step.condition(), step_where + ".condition",
                                                 static_cast<size_t>(i), 0));
    }
    if (!step.has_stmt()) {
      return Invalid(step_where, "missing field \"stmt\"");
    }
    QUARRY_ASSIGN_OR_RETURN(parsed.stmt, StmtFromProto(step.stmt(), step_where + ".stmt"));
    out.steps.push_back(std::move(parsed));
  }
  return out;
}

Result<Request> StreamRequestFromProto(const hrana::http::StreamRequest& request,
                                       const std::string& where) {
  using Proto = hrana::http::StreamRequest;
  Request out;
  switch (request.request_case()) {
    case Proto::kClose:
      out.type = Request::Type::kClose;
      break;
    case Proto::kExecute:
      QUARRY_RETURN_IF_ERROR(ExecuteFromProto(request.execute(), where, out));
      break;
    case Proto::kBatch:
      QUARRY_RETURN_IF_ERROR(BatchRequestFromProto(request.batch(), where, out));
      break;
    case Proto::kSequence:
      out.type = Request::Type::kSequence;
      QUARRY_RETURN_IF_ERROR(SqlOrIdFromProto(request.sequence(), where, out));
      break;
    case Proto::kDescribe:
      out.type = Request::Type::kDescribe;
      QUARRY_RETURN_IF_ERROR(SqlOrIdFromProto(request.describe(), where, out));
      break;
    case Proto::kStoreSql:
      out.type = Request::Type::kStoreSql;
      out.sql_id = request.store_sql().sql_id();
      out.sql = request.store_sql().sql();
      break;
    case Proto::kCloseSql:
      out.type = Request::Type::kCloseSql;
      out.sql_id = request.close_sql().sql_id();
      break;
    case Proto::kGetAutocommit:
      out.type = Request::Type::kGetAutocommit;
      break;
    case Proto::REQUEST_NOT_SET:
      return Status(ErrorCode::kUnknownRequest,
                    where + ": the StreamRequest sets no request this server knows");
  }
  return out;
}

Result<PipelineRequest> PipelineRequestFromProto(const hrana::http::PipelineReqBody& body) {
  PipelineRequest out;
  if (body.has_baton()) {
    out.baton = body.baton();
  }
  out.requests.reserve(static_cast<size_t>(body.requests_size()));
  for (int i = 0; i < body.requests_size(); ++i) {
    QUARRY_ASSIGN_OR_RETURN(
        Request request,
        StreamRequestFromProto(body.requests(i), "requests[" + std::to_string(i) + "]"));
    out.requests.push_back(std::move(request));
  }
  return out;
}

Result<CursorRequest> CursorRequestFromProto(const hrana::http::CursorReqBody& body) {
  CursorRequest out;
  if (body.has_baton()) {
    out.baton = body.baton();
  }
  if (!body.has_batch()) {
    return Invalid("request body", "missing field \"batch\"");
  }
  QUARRY_ASSIGN_OR_RETURN(out.batch, BatchFromProto(body.batch(), "batch"));
  return out;
}

Result<PipelineRequest> ParseProtobufPipelineRequest(std::string_view body) {
  hrana::http::PipelineReqBody message;
  if (!ParseMessage(body, message)) {
    return NotAMessage("PipelineReqBody");
  }
  return PipelineRequestFromProto(message);
}

Result<CursorRequest> ParseProtobufCursorRequest(std::string_view body) {
  hrana::http::CursorReqBody message;
  if (!ParseMessage(body, message)) {
    return NotAMessage("CursorReqBody");
  }
  return CursorRequestFromProto(message);
}

void ValueToProto(const Value& value, hrana::Value* out) {
  switch (value.type) {
    case Value::Type::kNull:
      out->mutable_null();
      break;
    case Value::Type::kInteger:
      out->set_integer(value.integer);
      break;
    case Value::Type::kFloat:
      out->set_float_(value.real);
      break;
    case Value::Type::kText:
      out->set_text(value.bytes);
      break;
    case Value::Type::kBlob:
      out->set_blob(value.bytes);
      break;
  }
}

void ErrorToProto(const Status& status, hrana::Error* out) {
  out->set_message(SanitizeUtf8(status.message()));
  out->set_code(status.WireCode());
  if (status.sqlite_code() != 0) {
    out->set_extended_code(SqliteExtendedCodeName(status.sqlite_code()));
    out->set_raw_code(status.sqlite_code());
  }
}

void StmtResultToProto(const StmtResult& result, hrana::StmtResult* out) {
  ColumnsToProto(result.cols, out->mutable_cols());
  out->mutable_rows()->Reserve(static_cast<int>(result.rows.size()));
  for (const Row& row : result.rows) {
    RowToProto(row, out->add_rows());
  }
  out->set_affected_row_count(static_cast<uint64_t>(result.affected_row_count));
  if (result.last_insert_rowid) {
    out->set_last_insert_rowid(*result.last_insert_rowid);
  }
  out->set_rows_read(static_cast<uint64_t>(result.rows_read));
  out->set_rows_written(static_cast<uint64_t>(result.rows_written));
  out->set_query_duration_ms(result.query_duration_ms);
}

void BatchResultToProto(const BatchResult& result, hrana::BatchResult* out) {
  for (size_t i = 0; i < result.step_results.size(); ++i) {
    if (result.step_results[i]) {
      StmtResultToProto(*result.step_results[i],
                        &(*out->mutable_step_results())[static_cast<uint32_t>(i)]);
    }
  }
  for (size_t i = 0; i < result.step_errors.size(); ++i) {
    if (result.step_errors[i]) {
      ErrorToProto(*result.step_errors[i],
                   &(*out->mutable_step_errors())[static_cast<uint32_t>(i)]);
    }
  }
}

void DescribeResultToProto(const DescribeResult& result, hrana::DescribeResult* out) {
  for (const auto& name : result.params) {
    hrana::DescribeParam* param = out->add_params();
    if (name) {
      param->set_name(SanitizeUtf8(*name));
    }
  }
  for (const Column& col : result.cols) {
    hrana::DescribeCol* item = out->add_cols();
    item->set_name(SanitizeUtf8(col.name.value_or("")));
    if (col.decltype_name) {
      item->set_decltype_(SanitizeUtf8(*col.decltype_name));
    }
  }
  out->set_is_explain(result.is_explain);
  out->set_is_readonly(result.is_readonly);
}

void StreamResponseToProto(const StreamResponse& response, hrana::http::StreamResponse* out) {
  switch (response.type) {
    case Request::Type::kClose:
      out->mutable_close();
      break;
    case Request::Type::kExecute:
      StmtResultToProto(response.execute, out->mutable_execute()->mutable_result());
      break;
    case Request::Type::kBatch:
      BatchResultToProto(response.batch, out->mutable_batch()->mutable_result());
      break;
    case Request::Type::kSequence:
      out->mutable_sequence();
      break;
    case Request::Type::kDescribe:
      DescribeResultToProto(response.describe, out->mutable_describe()->mutable_result());
      break;
    case Request::Type::kStoreSql:
      out->mutable_store_sql();
      break;
    case Request::Type::kCloseSql:
      out->mutable_close_sql();
      break;
    case Request::Type::kGetAutocommit:
      out->mutable_get_autocommit()->set_is_autocommit(response.is_autocommit);
      break;
  }
}

void StreamResultToProto(const StreamResult& result, hrana::http::StreamResult* out) {
  if (result.ok()) {
    StreamResponseToProto(*result, out->mutable_ok());
  } else {
    ErrorToProto(result.status(), out->mutable_error());
  }
}

void CursorEntryToProto(const CursorEntry& entry, hrana::CursorEntry* out) {
  switch (entry.kind) {
    case CursorEntry::Kind::kStepBegin: {
      hrana::StepBeginEntry* begin = out->mutable_step_begin();
      begin->set_step(entry.step);
      ColumnsToProto(entry.cols, begin->mutable_cols());
      break;
    }
    case CursorEntry::Kind::kRow:
      RowToProto(entry.row, out->mutable_row());
      break;
    case CursorEntry::Kind::kStepEnd: {
      hrana::StepEndEntry* end = out->mutable_step_end();
      end->set_affected_row_count(static_cast<uint64_t>(entry.affected_row_count));
      if (entry.last_insert_rowid) {
        end->set_last_insert_rowid(*entry.last_insert_rowid);
      }
      break;
    }
    case CursorEntry::Kind::kStepError: {
      hrana::StepErrorEntry* failed = out->mutable_step_error();
      failed->set_step(entry.step);
      ErrorToProto(entry.error, failed->mutable_error());
      break;
    }
    case CursorEntry::Kind::kError:
      ErrorToProto(entry.error, out->mutable_error());
      break;
  }
}

std::string PipelineResponseProtobufBody(const PipelineResponse& response) {
  hrana::http::PipelineRespBody body;
  if (response.baton) {
    body.set_baton(*response.baton);
  }
  if (response.base_url) {
    body.set_base_url(*response.base_url);
  }
  body.mutable_results()->Reserve(static_cast<int>(response.results.size()));
  for (const StreamResult& result : response.results) {
    StreamResultToProto(result, body.add_results());
  }
  return body.SerializeAsString();
}

void AppendLengthDelimited(const google::protobuf::MessageLite& message, std::string& out) {
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.WriteVarint32(static_cast<uint32_t>(message.ByteSizeLong()));
  message.SerializeWithCachedSizes(&coded);
}

void ProtobufCursorWriter::Write(const CursorEntry& entry) {
  hrana::CursorEntry message;
  CursorEntryToProto(entry, &message);
  AppendLengthDelimited(message, entries_);
}

std::string ProtobufCursorWriter::Body(const CursorHead& head) {
  hrana::http::CursorRespBody message;
  if (head.baton) {
    message.set_baton(*head.baton);
  }
  if (head.base_url) {
    message.set_base_url(*head.base_url);
  }
  std::string out;
  AppendLengthDelimited(message, out);
  out += entries_;
  return out;
}

Result<WsRequest> WsRequestFromProto(const hrana::ws::RequestMsg& msg, const std::string& where) {
  using Proto = hrana::ws::RequestMsg;
  using Type = WsRequest::Type;
  WsRequest out;
  switch (msg.request_case()) {
    case Proto::kOpenStream:
      out.type = Type::kOpenStream;
      out.name = "open_stream";
      out.stream_id = msg.open_stream().stream_id();
      break;
    case Proto::kCloseStream:
      out.type = Type::kCloseStream;
      out.name = "close_stream";
      out.stream_id = msg.close_stream().stream_id();
      break;
    case Proto::kExecute:
      out.type = Type::kStream;
      out.name = "execute";
      out.stream_id = msg.execute().stream_id();
      QUARRY_RETURN_IF_ERROR(ExecuteFromProto(msg.execute(), where, out.stream));
      break;
    case Proto::kBatch:
      out.type = Type::kStream;
      out.name = "batch";
      out.stream_id = msg.batch().stream_id();
      QUARRY_RETURN_IF_ERROR(BatchRequestFromProto(msg.batch(), where, out.stream));
      break;
    case Proto::kSequence:
      out.type = Type::kStream;
      out.name = "sequence";
      out.stream_id = msg.sequence().stream_id();
      out.stream.type = Request::Type::kSequence;
      QUARRY_RETURN_IF_ERROR(SqlOrIdFromProto(msg.sequence(), where, out.stream));
      break;
    case Proto::kDescribe:
      out.type = Type::kStream;
      out.name = "describe";
      out.stream_id = msg.describe().stream_id();
      out.stream.type = Request::Type::kDescribe;
      QUARRY_RETURN_IF_ERROR(SqlOrIdFromProto(msg.describe(), where, out.stream));
      break;
    case Proto::kGetAutocommit:
      out.type = Type::kStream;
      out.name = "get_autocommit";
      out.stream_id = msg.get_autocommit().stream_id();
      out.stream.type = Request::Type::kGetAutocommit;
      break;
    case Proto::kStoreSql:
      out.type = Type::kStoreSql;
      out.name = "store_sql";
      out.sql_id = msg.store_sql().sql_id();
      out.sql = msg.store_sql().sql();
      break;
    case Proto::kCloseSql:
      out.type = Type::kCloseSql;
      out.name = "close_sql";
      out.sql_id = msg.close_sql().sql_id();
      break;
    case Proto::kOpenCursor: {
      const hrana::ws::OpenCursorReq& open = msg.open_cursor();
      out.type = Type::kOpenCursor;
      out.name = "open_cursor";
      out.stream_id = open.stream_id();
      out.cursor_id = open.cursor_id();
      if (!open.has_batch()) {
        return Invalid(where, "missing field \"batch\"");
      }
      QUARRY_ASSIGN_OR_RETURN(out.batch, BatchFromProto(open.batch(), where + ".batch"));
      break;
    }
    case Proto::kCloseCursor:
      out.type = Type::kCloseCursor;
      out.name = "close_cursor";
      out.cursor_id = msg.close_cursor().cursor_id();
      break;
    case Proto::kFetchCursor:
      out.type = Type::kFetchCursor;
      out.name = "fetch_cursor";
      out.cursor_id = msg.fetch_cursor().cursor_id();
      out.max_count = msg.fetch_cursor().max_count();
      break;
    case Proto::REQUEST_NOT_SET:
      return Status(ErrorCode::kUnknownRequest,
                    where +
                        ": the RequestMsg sets no request this server knows (Hrana over "
                        "WebSocket: open_stream, close_stream, execute, batch, sequence, "
                        "describe, store_sql, close_sql, open_cursor, fetch_cursor, "
                        "close_cursor, get_autocommit)");
  }
  return out;
}

namespace {

// The response of a stream request. Over WebSocket close, store_sql and close_sql are the
// connection's own requests, not stream requests; should a StreamResponse of theirs come
// here, it gets the response of the same name.
void WsStreamResponseToProto(const StreamResponse& response, hrana::ws::ResponseOkMsg* out) {
  switch (response.type) {
    case Request::Type::kExecute:
      StmtResultToProto(response.execute, out->mutable_execute()->mutable_result());
      break;
    case Request::Type::kBatch:
      BatchResultToProto(response.batch, out->mutable_batch()->mutable_result());
      break;
    case Request::Type::kSequence:
      out->mutable_sequence();
      break;
    case Request::Type::kDescribe:
      DescribeResultToProto(response.describe, out->mutable_describe()->mutable_result());
      break;
    case Request::Type::kGetAutocommit:
      out->mutable_get_autocommit()->set_is_autocommit(response.is_autocommit);
      break;
    case Request::Type::kClose:
      out->mutable_close_stream();
      break;
    case Request::Type::kStoreSql:
      out->mutable_store_sql();
      break;
    case Request::Type::kCloseSql:
      out->mutable_close_sql();
      break;
  }
}

WsViolation ProtobufViolation(WsCloseCode code, std::string reason) {
  return WsViolation{code, TruncateCloseReason(std::move(reason))};
}

class ProtobufWsCodec : public WsCodec {
 public:
  std::variant<ClientMsg, WsViolation> Decode(std::string_view frame, bool binary) const override {
    if (!binary) {
      return ProtobufViolation(
          WsCloseCode::kUnsupportedData,
          "text frame under hrana3-protobuf: send each ClientMsg as a binary frame");
    }
    hrana::ws::ClientMsg message;
    if (!ParseMessage(frame, message)) {
      return ProtobufViolation(WsCloseCode::kInvalidPayload,
                               "message is not a valid protobuf ClientMsg of Hrana 3 (truncated, "
                               "a field of the wrong wire type, or a string that is not UTF-8)");
    }
    ClientMsg msg;
    switch (message.msg_case()) {
      case hrana::ws::ClientMsg::kHello:
        msg.type = ClientMsg::Type::kHello;
        if (message.hello().has_jwt()) {
          msg.jwt = message.hello().jwt();
        }
        return msg;
      case hrana::ws::ClientMsg::kRequest: {
        const hrana::ws::RequestMsg& request = message.request();
        // A request of a kind this server does not know arrives as a field it cannot read:
        // that request's error. Nothing at all is a message without its request.
        if (request.request_case() == hrana::ws::RequestMsg::REQUEST_NOT_SET &&
            request.GetReflection()->GetUnknownFields(request).empty()) {
          return ProtobufViolation(WsCloseCode::kPolicy, "request message has no request");
        }
        msg.type = ClientMsg::Type::kRequest;
        msg.request_id = request.request_id();
        msg.request = WsRequestFromProto(request, "request");
        return msg;
      }
      case hrana::ws::ClientMsg::MSG_NOT_SET:
        break;
    }
    return ProtobufViolation(WsCloseCode::kPolicy,
                             "ClientMsg sets neither hello nor request (an unknown message type)");
  }

  std::string Encode(const ServerMsg& msg, bool& binary) const override {
    binary = true;
    hrana::ws::ServerMsg message;
    ServerMsgToProto(msg, &message);
    return message.SerializeAsString();
  }
};

}  // namespace

void WsResponseToProto(const WsResponse& response, hrana::ws::ResponseOkMsg* out) {
  using Type = WsRequest::Type;
  switch (response.type) {
    case Type::kStream:
      WsStreamResponseToProto(response.stream, out);
      break;
    case Type::kFetchCursor: {
      hrana::ws::FetchCursorResp* fetch = out->mutable_fetch_cursor();
      fetch->mutable_entries()->Reserve(static_cast<int>(response.entries.size()));
      for (const CursorEntry& entry : response.entries) {
        CursorEntryToProto(entry, fetch->add_entries());
      }
      fetch->set_done(response.done);
      break;
    }
    case Type::kOpenStream:
      out->mutable_open_stream();
      break;
    case Type::kCloseStream:
      out->mutable_close_stream();
      break;
    case Type::kStoreSql:
      out->mutable_store_sql();
      break;
    case Type::kCloseSql:
      out->mutable_close_sql();
      break;
    case Type::kOpenCursor:
      out->mutable_open_cursor();
      break;
    case Type::kCloseCursor:
      out->mutable_close_cursor();
      break;
  }
}

void ServerMsgToProto(const ServerMsg& msg, hrana::ws::ServerMsg* out) {
  switch (msg.type) {
    case ServerMsg::Type::kHelloOk:
      out->mutable_hello_ok();
      break;
    case ServerMsg::Type::kHelloError:
      ErrorToProto(msg.error, out->mutable_hello_error()->mutable_error());
      break;
    case ServerMsg::Type::kResponseOk: {
      hrana::ws::ResponseOkMsg* ok = out->mutable_response_ok();
      ok->set_request_id(msg.request_id);
      WsResponseToProto(msg.response, ok);
      break;
    }
    case ServerMsg::Type::kResponseError: {
      hrana::ws::ResponseErrorMsg* error = out->mutable_response_error();
      error->set_request_id(msg.request_id);
      ErrorToProto(msg.error, error->mutable_error());
      break;
    }
  }
}

std::unique_ptr<WsCodec> MakeProtobufWsCodec() { return std::make_unique<ProtobufWsCodec>(); }

}  // namespace quarry::protocol
