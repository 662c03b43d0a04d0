#include "protocol/response_json.h"

#include <boost/json.hpp>
#include <charconv>

#include "common/base64.h"
#include "common/json_text.h"
#include "protocol/error_json.h"
#include "protocol/value.h"

namespace quarry::protocol {
namespace json = boost::json;

namespace {

json::value OptionalString(const std::optional<std::string>& text) {
  return text ? json::value(*text) : json::value(nullptr);
}

json::value RowidJson(const std::optional<int64_t>& rowid) {
  return rowid ? json::value(std::to_string(*rowid)) : json::value(nullptr);
}

json::array ColumnsJson(const std::vector<Column>& cols) {
  json::array out;
  out.reserve(cols.size());
  for (const Column& col : cols) {
    json::object item;
    item.emplace("name", OptionalString(col.name));
    item.emplace("decltype", OptionalString(col.decltype_name));
    out.push_back(std::move(item));
  }
  return out;
}

json::array RowJson(const Row& row) {
  json::array out;
  out.reserve(row.size());
  for (const Value& value : row) {
    out.push_back(ValueToJson(value));
  }
  return out;
}

const char* TypeName(Request::Type type) {
  switch (type) {
    case Request::Type::kExecute:
      return "execute";
    case Request::Type::kBatch:
      return "batch";
    case Request::Type::kSequence:
      return "sequence";
    case Request::Type::kDescribe:
      return "describe";
    case Request::Type::kStoreSql:
      return "store_sql";
    case Request::Type::kCloseSql:
      return "close_sql";
    case Request::Type::kClose:
      return "close";
    case Request::Type::kGetAutocommit:
      return "get_autocommit";
  }
  return "unknown";
}

// The answer text is written straight into one string on the hot path (an execute's rows), with
// Boost.JSON's serializer for what needs escaping or number formatting (common/json_text.h), so
// it is byte for byte what serializing the DOM gives (response_json_test.cc holds them to that).

void AppendOptionalString(std::string& out, const std::optional<std::string>& text) {
  if (text) {
    AppendJsonString(out, *text);
  } else {
    out += "null";
  }
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<size_t>(end - buf));
}

void AppendValue(std::string& out, const Value& value) {
  switch (value.type) {
    case Value::Type::kInteger:
      out += R"({"type":"integer","value":")";
      AppendInt(out, value.integer);
      out += "\"}";
      return;
    case Value::Type::kFloat:
      out += R"({"type":"float","value":)";
      AppendJsonNumber(out, FiniteForJson(value.real));
      out += '}';
      return;
    case Value::Type::kText:
      out += R"({"type":"text","value":)";
      AppendJsonString(out, value.bytes);
      out += '}';
      return;
    case Value::Type::kBlob:
      out += R"({"type":"blob","base64":)";
      AppendJsonString(out, Base64Encode(value.bytes));
      out += '}';
      return;
    case Value::Type::kNull:
      out += R"({"type":"null"})";
      return;
  }
}

void AppendStmtResult(std::string& out, const StmtResult& result) {
  out += R"({"cols":[)";
  for (size_t i = 0; i < result.cols.size(); ++i) {
    out += i ? R"(,{"name":)" : R"({"name":)";
    AppendOptionalString(out, result.cols[i].name);
    out += R"(,"decltype":)";
    AppendOptionalString(out, result.cols[i].decltype_name);
    out += '}';
  }
  out += R"(],"rows":[)";
  for (size_t r = 0; r < result.rows.size(); ++r) {
    out += r ? ",[" : "[";
    const Row& row = result.rows[r];
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) {
        out += ',';
      }
      AppendValue(out, row[i]);
    }
    out += ']';
  }
  out += R"(],"affected_row_count":)";
  AppendInt(out, result.affected_row_count);
  out += R"(,"last_insert_rowid":)";
  if (result.last_insert_rowid) {
    out += '"';
    AppendInt(out, *result.last_insert_rowid);
    out += '"';
  } else {
    out += "null";
  }
  out += R"(,"rows_read":)";
  AppendInt(out, result.rows_read);
  out += R"(,"rows_written":)";
  AppendInt(out, result.rows_written);
  out += R"(,"query_duration_ms":)";
  AppendJsonNumber(out, result.query_duration_ms);
  out += '}';
}

void AppendStreamResult(std::string& out, const StreamResult& result) {
  if (result.ok() &&
      (result->type == Request::Type::kExecute || result->type == Request::Type::kClose)) {
    out += R"({"type":"ok","response":)";
    AppendStreamResponse(out, *result);
    out += '}';
  } else {
    out += json::serialize(StreamResultJson(result));
  }
}

}  // namespace

void AppendStreamResponse(std::string& out, const StreamResponse& response) {
  if (response.type == Request::Type::kExecute) {
    out += R"({"type":"execute","result":)";
    AppendStmtResult(out, response.execute);
    out += '}';
  } else if (response.type == Request::Type::kClose) {
    out += R"({"type":"close"})";
  } else {
    out += json::serialize(StreamResponseJson(response));
  }
}

json::object StmtResultJson(const StmtResult& result) {
  json::array rows;
  rows.reserve(result.rows.size());
  for (const Row& row : result.rows) {
    rows.push_back(RowJson(row));
  }
  json::object out;
  out.emplace("cols", ColumnsJson(result.cols));
  out.emplace("rows", std::move(rows));
  out.emplace("affected_row_count", result.affected_row_count);
  out.emplace("last_insert_rowid", RowidJson(result.last_insert_rowid));
  out.emplace("rows_read", result.rows_read);
  out.emplace("rows_written", result.rows_written);
  out.emplace("query_duration_ms", result.query_duration_ms);
  return out;
}

json::object BatchResultJson(const BatchResult& result) {
  json::array results;
  results.reserve(result.step_results.size());
  for (const auto& step : result.step_results) {
    results.push_back(step ? json::value(StmtResultJson(*step)) : json::value(nullptr));
  }
  json::array errors;
  errors.reserve(result.step_errors.size());
  for (const auto& error : result.step_errors) {
    errors.push_back(error ? json::value(ErrorJson(*error)) : json::value(nullptr));
  }
  json::object out;
  out.emplace("step_results", std::move(results));
  out.emplace("step_errors", std::move(errors));
  return out;
}

json::object DescribeResultJson(const DescribeResult& result) {
  json::array params;
  params.reserve(result.params.size());
  for (const auto& name : result.params) {
    params.push_back(json::object{{"name", OptionalString(name)}});
  }
  json::object out;
  out.emplace("params", std::move(params));
  out.emplace("cols", ColumnsJson(result.cols));
  out.emplace("is_explain", result.is_explain);
  out.emplace("is_readonly", result.is_readonly);
  return out;
}

json::object StreamResponseJson(const StreamResponse& response) {
  json::object out{{"type", TypeName(response.type)}};
  switch (response.type) {
    case Request::Type::kExecute:
      out.emplace("result", StmtResultJson(response.execute));
      break;
    case Request::Type::kBatch:
      out.emplace("result", BatchResultJson(response.batch));
      break;
    case Request::Type::kDescribe:
      out.emplace("result", DescribeResultJson(response.describe));
      break;
    case Request::Type::kGetAutocommit:
      out.emplace("is_autocommit", response.is_autocommit);
      break;
    default:
      break;
  }
  return out;
}

json::object StreamResultJson(const StreamResult& result) {
  json::object out;
  if (result.ok()) {
    out.emplace("type", "ok");
    out.emplace("response", StreamResponseJson(*result));
  } else {
    out.emplace("type", "error");
    out.emplace("error", ErrorJson(result.status()));
  }
  return out;
}

std::string PipelineResponseBody(const PipelineResponse& response) {
  std::string out;
  out.reserve(512);  // a point select's answer, in one allocation
  out += R"({"baton":)";
  AppendOptionalString(out, response.baton);
  out += R"(,"base_url":)";
  AppendOptionalString(out, response.base_url);
  out += R"(,"results":[)";
  for (size_t i = 0; i < response.results.size(); ++i) {
    if (i) {
      out += ',';
    }
    AppendStreamResult(out, response.results[i]);
  }
  out += "]}";
  return out;
}

json::object CursorEntryJson(const CursorEntry& entry) {
  switch (entry.kind) {
    case CursorEntry::Kind::kStepBegin:
      return json::object{
          {"type", "step_begin"}, {"step", entry.step}, {"cols", ColumnsJson(entry.cols)}};
    case CursorEntry::Kind::kRow:
      return json::object{{"type", "row"}, {"row", RowJson(entry.row)}};
    case CursorEntry::Kind::kStepEnd:
      return json::object{{"type", "step_end"},
                          {"affected_row_count", entry.affected_row_count},
                          {"last_insert_rowid", RowidJson(entry.last_insert_rowid)}};
    case CursorEntry::Kind::kStepError:
      return json::object{
          {"type", "step_error"}, {"step", entry.step}, {"error", ErrorJson(entry.error)}};
    case CursorEntry::Kind::kError:
      break;
  }
  return json::object{{"type", "error"}, {"error", ErrorJson(entry.error)}};
}

void JsonCursorWriter::Write(const CursorEntry& entry) {
  entries_ += json::serialize(CursorEntryJson(entry));
  entries_ += '\n';
}

std::string JsonCursorWriter::Body(const CursorHead& head) {
  json::object line;
  line.emplace("baton", OptionalString(head.baton));
  line.emplace("base_url", OptionalString(head.base_url));
  return json::serialize(line) + "\n" + entries_;
}

}  // namespace quarry::protocol
