#include "protocol/protobuf_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>

#include <climits>
#include <utility>

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
  auto sql_or_id = [&](bool has_sql, const std::string& sql, bool has_sql_id,
                       int32_t sql_id) -> Status {
    if (has_sql == has_sql_id) {
      return Status(ErrorCode::kSqlConflict,
                    where + ": exactly one of \"sql\" and \"sql_id\" must be given");
    }
    if (has_sql) {
      out.sql = sql;
    } else {
      out.sql_id = sql_id;
    }
    return Status::Ok();
  };
  switch (request.request_case()) {
    case Proto::kClose:
      out.type = Request::Type::kClose;
      break;
    case Proto::kExecute: {
      out.type = Request::Type::kExecute;
      if (!request.execute().has_stmt()) {
        return Invalid(where, "missing field \"stmt\"");
      }
      QUARRY_ASSIGN_OR_RETURN(out.stmt, StmtFromProto(request.execute().stmt(), where + ".stmt"));
      break;
    }
    case Proto::kBatch: {
      out.type = Request::Type::kBatch;
      if (!request.batch().has_batch()) {
        return Invalid(where, "missing field \"batch\"");
      }
      QUARRY_ASSIGN_OR_RETURN(out.batch, BatchFromProto(request.batch().batch(), where + ".batch"));
      break;
    }
    case Proto::kSequence: {
      out.type = Request::Type::kSequence;
      const auto& seq = request.sequence();
      QUARRY_RETURN_IF_ERROR(sql_or_id(seq.has_sql(), seq.sql(), seq.has_sql_id(), seq.sql_id()));
      break;
    }
    case Proto::kDescribe: {
      out.type = Request::Type::kDescribe;
      const auto& describe = request.describe();
      QUARRY_RETURN_IF_ERROR(
          sql_or_id(describe.has_sql(), describe.sql(), describe.has_sql_id(), describe.sql_id()));
      break;
    }
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

}  // namespace quarry::protocol
