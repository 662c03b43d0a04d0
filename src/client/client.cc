#include "client/client.h"

#include <boost/json.hpp>
#include <cmath>

#include "common/base64.h"
#include "protocol/json_body.h"

namespace quarry::client {

namespace json = boost::json;

Value Null() { return Value{}; }
Value Integer(int64_t v) {
  Value value;
  value.type = Value::Type::kInteger;
  value.integer = v;
  return value;
}
Value Float(double v) {
  Value value;
  value.type = Value::Type::kFloat;
  value.real = v;
  return value;
}
Value Text(std::string v) {
  Value value;
  value.type = Value::Type::kText;
  value.bytes = std::move(v);
  return value;
}
Value Blob(std::string bytes) {
  Value value;
  value.type = Value::Type::kBlob;
  value.bytes = std::move(bytes);
  return value;
}

bool SameValue(const Value& a, const Value& b) {
  if (a.type != b.type) {
    return false;
  }
  switch (a.type) {
    case Value::Type::kNull:
      return true;
    case Value::Type::kInteger:
      return a.integer == b.integer;
    case Value::Type::kFloat:
      return a.real == b.real || (std::isnan(a.real) && std::isnan(b.real));
    case Value::Type::kText:
    case Value::Type::kBlob:
      return a.bytes == b.bytes;
  }
  return false;
}

std::string DebugString(const Value& value) {
  switch (value.type) {
    case Value::Type::kNull:
      return "NULL";
    case Value::Type::kInteger:
      return std::to_string(value.integer);
    case Value::Type::kFloat:
      return json::serialize(json::value(value.real));
    case Value::Type::kText:
      return "'" + value.bytes + "'";
    case Value::Type::kBlob: {
      static const char kHex[] = "0123456789abcdef";
      std::string out = "x'";
      for (unsigned char c : value.bytes) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
      return out + "'";
    }
  }
  return "?";
}

namespace {

Result<json::object> ValueJson(const Value& value, std::string_view where) {
  switch (value.type) {
    case Value::Type::kNull:
      return json::object{{"type", "null"}};
    case Value::Type::kInteger:
      return json::object{{"type", "integer"}, {"value", std::to_string(value.integer)}};
    case Value::Type::kFloat:
      if (!std::isfinite(value.real)) {
        return Status(ErrorCode::kInvalidArgument,
                      std::string(where) + ": NaN and infinite floats cannot be sent");
      }
      return json::object{{"type", "float"}, {"value", value.real}};
    case Value::Type::kText:
      return json::object{{"type", "text"}, {"value", value.bytes}};
    case Value::Type::kBlob:
      return json::object{{"type", "blob"}, {"base64", Base64Encode(value.bytes)}};
  }
  return json::object{{"type", "null"}};
}

Result<json::object> StmtJson(const Statement& stmt) {
  json::array args;
  for (size_t i = 0; i < stmt.args.size(); ++i) {
    QUARRY_ASSIGN_OR_RETURN(json::object v,
                            ValueJson(stmt.args[i], "args[" + std::to_string(i) + "]"));
    args.push_back(std::move(v));
  }
  json::array named;
  for (const auto& [name, value] : stmt.named_args) {
    QUARRY_ASSIGN_OR_RETURN(json::object v, ValueJson(value, "named argument " + name));
    named.push_back(json::object{{"name", name}, {"value", std::move(v)}});
  }
  json::object out{{"sql", stmt.sql}, {"args", std::move(args)}, {"want_rows", true}};
  if (!named.empty()) {
    out.emplace("named_args", std::move(named));
  }
  return out;
}

Status Malformed(std::string_view what) {
  return Status(ErrorCode::kInternal, "malformed response from the server: " + std::string(what));
}

Result<ResultSet> ParseStmtResult(const json::value& result) {
  if (!result.is_object()) {
    return Malformed("statement result is not an object");
  }
  const json::object& obj = result.get_object();
  ResultSet rs;
  if (const json::value* cols = obj.if_contains("cols"); cols != nullptr && cols->is_array()) {
    for (const auto& col : cols->get_array()) {
      const json::object* c = col.if_object();
      const json::value* name = c != nullptr ? c->if_contains("name") : nullptr;
      rs.columns.push_back(name != nullptr && name->is_string() ? std::string(name->get_string())
                                                                : std::string());
      const json::value* decl = c != nullptr ? c->if_contains("decltype") : nullptr;
      rs.decltypes.push_back(decl != nullptr && decl->is_string()
                                 ? std::optional<std::string>(std::string(decl->get_string()))
                                 : std::nullopt);
    }
  }
  if (const json::value* rows = obj.if_contains("rows"); rows != nullptr && rows->is_array()) {
    for (const auto& row : rows->get_array()) {
      if (!row.is_array()) {
        return Malformed("row is not an array");
      }
      std::vector<Value> values;
      values.reserve(row.get_array().size());
      for (const auto& cell : row.get_array()) {
        auto value = protocol::ValueFromJson(cell, "row value");
        if (!value.ok()) {
          return Malformed(value.status().message());
        }
        values.push_back(std::move(*value));
      }
      rs.rows.push_back(std::move(values));
    }
  }
  if (const json::value* n = obj.if_contains("affected_row_count");
      n != nullptr && n->is_number()) {
    rs.rows_affected = n->to_number<int64_t>();
  }
  if (const json::value* id = obj.if_contains("last_insert_rowid"); id != nullptr) {
    if (id->is_string()) {
      rs.last_insert_rowid = std::stoll(std::string(id->get_string()));
    } else if (id->is_int64()) {
      rs.last_insert_rowid = id->get_int64();
    }
  }
  return rs;
}

Status ErrorFromJson(const json::value& error) {
  const json::object* obj = error.if_object();
  if (obj == nullptr) {
    return Malformed("error is not an object");
  }
  const json::value* message = obj->if_contains("message");
  const json::value* code = obj->if_contains("code");
  int raw = 0;
  if (const json::value* r = obj->if_contains("raw_code"); r != nullptr && r->is_int64()) {
    raw = static_cast<int>(r->get_int64());
  }
  return StatusFromErrorJson(
      message != nullptr && message->is_string() ? std::string_view(message->get_string())
                                                 : std::string_view("unknown error"),
      code != nullptr && code->is_string() ? std::string_view(code->get_string())
                                           : std::string_view(),
      raw);
}

Status WithPrefix(const Status& st, const std::string& prefix) {
  return Status(st.code(), prefix + st.message(), st.sqlite_code());
}

json::object ExecuteRequest(json::object stmt) {
  return json::object{{"type", "execute"}, {"stmt", std::move(stmt)}};
}

Result<ResultSet> ExecuteResult(const Result<json::object>& response) {
  if (!response.ok()) {
    return response.status();
  }
  const json::value* result = response->if_contains("result");
  if (result == nullptr) {
    return Malformed("execute response without result");
  }
  return ParseStmtResult(*result);
}

}  // namespace

Stream::Stream(Stream&& other) noexcept
    : transport_(other.transport_),
      baton_(std::move(other.baton_)),
      started_(other.started_),
      closed_(other.closed_),
      autocommit_(other.autocommit_) {
  other.baton_.reset();
  other.closed_ = true;
}

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    Close().PermitUncheckedError();
    transport_ = other.transport_;
    baton_ = std::move(other.baton_);
    started_ = other.started_;
    closed_ = other.closed_;
    autocommit_ = other.autocommit_;
    other.baton_.reset();
    other.closed_ = true;
  }
  return *this;
}

Stream::~Stream() { Close().PermitUncheckedError(); }

Status Stream::Close() {
  if (closed_) {
    return Status::Ok();
  }
  if (!started_) {
    closed_ = true;
    return Status::Ok();
  }
  auto sent = Send({json::object{{"type", "close"}}}, /*close_after=*/false);
  closed_ = true;
  baton_.reset();
  return sent.ok() ? Status::Ok() : sent.status();
}

Result<std::vector<Result<json::object>>> Stream::Send(std::vector<json::object> requests,
                                                       bool close_after) {
  if (closed_) {
    return Status(ErrorCode::kStreamClosed, "the stream is closed");
  }
  size_t wanted = requests.size();
  json::array list;
  for (auto& request : requests) {
    list.push_back(std::move(request));
  }
  list.push_back(json::object{{"type", "get_autocommit"}});
  if (close_after) {
    list.push_back(json::object{{"type", "close"}});
  }
  json::object body;
  body.emplace("baton", baton_ ? json::value(*baton_) : json::value(nullptr));
  body.emplace("requests", std::move(list));
  started_ = true;
  auto response = transport_->Pipeline(json::serialize(body));
  if (!response.ok()) {
    closed_ = true;
    baton_.reset();
    return response.status();
  }
  auto precise = protocol::ParseJsonBody(*response);
  json::value parsed = precise.ok() ? std::move(*precise) : json::value();
  if (!parsed.is_object()) {
    closed_ = true;
    return Malformed("pipeline response is not a JSON object");
  }
  const json::object& obj = parsed.get_object();
  const json::value* baton = obj.if_contains("baton");
  if (baton != nullptr && baton->is_string()) {
    baton_ = std::string(baton->get_string());
  } else {
    baton_.reset();
    closed_ = true;
  }
  const json::value* results = obj.if_contains("results");
  if (results == nullptr || !results->is_array() || results->get_array().size() < wanted + 1) {
    return Malformed("pipeline response has too few results");
  }
  std::vector<Result<json::object>> out;
  const json::array& items = results->get_array();
  for (size_t i = 0; i <= wanted; ++i) {
    const json::object* item = items[i].if_object();
    const json::value* type = item != nullptr ? item->if_contains("type") : nullptr;
    Result<json::object> entry = Malformed("pipeline result without a type");
    if (type != nullptr && type->is_string() && type->get_string() == "ok") {
      const json::value* r = item->if_contains("response");
      entry = r != nullptr && r->is_object()
                  ? Result<json::object>(r->get_object())
                  : Result<json::object>(Malformed("ok result without response"));
    } else if (type != nullptr && type->is_string() && type->get_string() == "error") {
      const json::value* e = item->if_contains("error");
      entry = e != nullptr ? ErrorFromJson(*e) : Malformed("error result without error");
    }
    if (i == wanted) {
      if (entry.ok()) {
        if (const json::value* a = entry->if_contains("is_autocommit"); a && a->is_bool()) {
          autocommit_ = a->get_bool();
        }
      }
    } else {
      out.push_back(std::move(entry));
    }
  }
  return out;
}

Result<ResultSet> Stream::Execute(const Statement& stmt) {
  QUARRY_ASSIGN_OR_RETURN(json::object s, StmtJson(stmt));
  QUARRY_ASSIGN_OR_RETURN(auto results, Send({ExecuteRequest(std::move(s))}, false));
  return ExecuteResult(results[0]);
}

Status Stream::ExecuteMultiple(std::string_view sql) {
  QUARRY_ASSIGN_OR_RETURN(auto results,
                          Send({json::object{{"type", "sequence"}, {"sql", sql}}}, false));
  return results[0].ok() ? Status::Ok() : results[0].status();
}

Result<Description> Stream::Describe(std::string_view sql) {
  QUARRY_ASSIGN_OR_RETURN(auto results,
                          Send({json::object{{"type", "describe"}, {"sql", sql}}}, false));
  if (!results[0].ok()) {
    return results[0].status();
  }
  const json::value* result = results[0]->if_contains("result");
  if (result == nullptr || !result->is_object()) {
    return Malformed("describe response without result");
  }
  const json::object& obj = result->get_object();
  Description d;
  if (const json::value* params = obj.if_contains("params"); params && params->is_array()) {
    for (const auto& p : params->get_array()) {
      const json::value* name = p.is_object() ? p.get_object().if_contains("name") : nullptr;
      d.params.push_back(name != nullptr && name->is_string()
                             ? std::optional<std::string>(std::string(name->get_string()))
                             : std::nullopt);
    }
  }
  if (const json::value* cols = obj.if_contains("cols"); cols && cols->is_array()) {
    for (const auto& c : cols->get_array()) {
      const json::object* col = c.if_object();
      const json::value* name = col ? col->if_contains("name") : nullptr;
      const json::value* decl = col ? col->if_contains("decltype") : nullptr;
      d.columns.push_back(name && name->is_string() ? std::string(name->get_string()) : "");
      d.decltypes.push_back(decl && decl->is_string()
                                ? std::optional<std::string>(std::string(decl->get_string()))
                                : std::nullopt);
    }
  }
  if (const json::value* v = obj.if_contains("is_explain"); v && v->is_bool()) {
    d.is_explain = v->get_bool();
  }
  if (const json::value* v = obj.if_contains("is_readonly"); v && v->is_bool()) {
    d.is_readonly = v->get_bool();
  }
  return d;
}

Transaction::~Transaction() {
  if (!finished_ && stream_.open()) {
    Rollback().PermitUncheckedError();
  }
}

Result<ResultSet> Transaction::Execute(const Statement& stmt) {
  if (finished_) {
    return Status(ErrorCode::kStreamClosed, "the transaction was already committed or rolled back");
  }
  return stream_.Execute(stmt);
}

Status Transaction::ExecuteMultiple(std::string_view sql) {
  if (finished_) {
    return Status(ErrorCode::kStreamClosed, "the transaction was already committed or rolled back");
  }
  return stream_.ExecuteMultiple(sql);
}

Status Transaction::Finish(const char* sql) {
  if (finished_) {
    return Status(ErrorCode::kStreamClosed, "the transaction was already committed or rolled back");
  }
  finished_ = true;
  QUARRY_ASSIGN_OR_RETURN(json::object s, StmtJson(Statement(sql)));
  QUARRY_ASSIGN_OR_RETURN(auto results, stream_.Send({ExecuteRequest(std::move(s))}, true));
  return results[0].ok() ? Status::Ok() : results[0].status();
}

Status Transaction::Commit() { return Finish("COMMIT"); }
Status Transaction::Rollback() { return Finish("ROLLBACK"); }

Result<std::unique_ptr<Client>> Client::Open(const std::string& url, const std::string& token,
                                             const ClientOptions& options) {
  QUARRY_ASSIGN_OR_RETURN(ClientUrl parsed, ParseClientUrl(url));
  if (parsed.kind == ClientUrl::Kind::kFile) {
    QUARRY_ASSIGN_OR_RETURN(std::unique_ptr<Transport> local, MakeLocalTransport(parsed));
    return std::make_unique<Client>(std::move(local));
  }
  return std::make_unique<Client>(MakeHttpTransport(parsed, token, options.http));
}

Result<ResultSet> Client::Execute(const Statement& stmt) {
  QUARRY_ASSIGN_OR_RETURN(json::object s, StmtJson(stmt));
  Stream stream(transport_.get());
  QUARRY_ASSIGN_OR_RETURN(auto results, stream.Send({ExecuteRequest(std::move(s))}, true));
  return ExecuteResult(results[0]);
}

Status Client::ExecuteMultiple(std::string_view sql) {
  Stream stream(transport_.get());
  QUARRY_ASSIGN_OR_RETURN(auto results,
                          stream.Send({json::object{{"type", "sequence"}, {"sql", sql}}}, true));
  return results[0].ok() ? Status::Ok() : results[0].status();
}

Result<Description> Client::Describe(std::string_view sql) {
  Stream stream(transport_.get());
  return stream.Describe(sql);
}

Result<std::vector<ResultSet>> Client::Batch(const std::vector<Statement>& stmts) {
  // BEGIN; each statement only if the previous step succeeded; COMMIT only if the last
  // statement succeeded; ROLLBACK unless COMMIT succeeded.
  json::array steps;
  auto ok_cond = [](size_t step) { return json::object{{"type", "ok"}, {"step", step}}; };
  steps.push_back(json::object{{"stmt", json::object{{"sql", "BEGIN IMMEDIATE"}}}});
  for (size_t i = 0; i < stmts.size(); ++i) {
    QUARRY_ASSIGN_OR_RETURN(json::object s, StmtJson(stmts[i]));
    steps.push_back(json::object{{"condition", ok_cond(i)}, {"stmt", std::move(s)}});
  }
  size_t commit_step = stmts.size() + 1;
  steps.push_back(json::object{{"condition", ok_cond(stmts.size())},
                               {"stmt", json::object{{"sql", "COMMIT"}}}});
  steps.push_back(
      json::object{{"condition", json::object{{"type", "not"}, {"cond", ok_cond(commit_step)}}},
                   {"stmt", json::object{{"sql", "ROLLBACK"}}}});
  Stream stream(transport_.get());
  QUARRY_ASSIGN_OR_RETURN(
      auto results,
      stream.Send({json::object{{"type", "batch"}, {"batch", json::object{{"steps", steps}}}}},
                  true));
  if (!results[0].ok()) {
    return results[0].status();
  }
  const json::value* result = results[0]->if_contains("result");
  const json::object* r = result != nullptr ? result->if_object() : nullptr;
  const json::value* step_results = r != nullptr ? r->if_contains("step_results") : nullptr;
  const json::value* step_errors = r != nullptr ? r->if_contains("step_errors") : nullptr;
  if (step_results == nullptr || !step_results->is_array() || step_errors == nullptr ||
      !step_errors->is_array() || step_results->get_array().size() < commit_step + 1 ||
      step_errors->get_array().size() < commit_step + 1) {
    return Malformed("batch response without step results");
  }
  const json::array& res = step_results->get_array();
  const json::array& errs = step_errors->get_array();
  if (!errs[0].is_null()) {
    return WithPrefix(ErrorFromJson(errs[0]), "cannot begin the batch's transaction: ");
  }
  std::vector<ResultSet> out;
  for (size_t i = 0; i < stmts.size(); ++i) {
    if (!errs[i + 1].is_null()) {
      return WithPrefix(ErrorFromJson(errs[i + 1]), "batch statement " + std::to_string(i) + ": ");
    }
    if (res[i + 1].is_null()) {
      return Malformed("batch statement " + std::to_string(i) + " neither ran nor failed");
    }
    QUARRY_ASSIGN_OR_RETURN(ResultSet rs, ParseStmtResult(res[i + 1]));
    out.push_back(std::move(rs));
  }
  if (!errs[commit_step].is_null()) {
    return WithPrefix(ErrorFromJson(errs[commit_step]), "batch commit failed: ");
  }
  return out;
}

Result<Transaction> Client::BeginTransaction(Transaction::Mode mode) {
  const char* begin = mode == Transaction::Mode::kWrite  ? "BEGIN IMMEDIATE"
                      : mode == Transaction::Mode::kRead ? "BEGIN TRANSACTION READONLY"
                                                         : "BEGIN DEFERRED";
  Stream stream(transport_.get());
  QUARRY_ASSIGN_OR_RETURN(ResultSet ignored, stream.Execute(Statement(begin)));
  (void)ignored;
  return Transaction(std::move(stream));
}

}  // namespace quarry::client
