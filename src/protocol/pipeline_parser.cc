#include "protocol/pipeline_parser.h"

#include <boost/json/basic_parser_impl.hpp>
#include <charconv>
#include <cstdint>
#include <limits>

namespace quarry::protocol {
namespace json = boost::json;

namespace {

// A basic_parser handler that fills a PipelineRequest as the JSON streams by, for the shapes
// clients send on every query: {"baton", "requests": [{"type": "execute", "stmt": {"sql",
// "args": [null, integer and text values], "named_args": [], "want_rows"}}, {"type": "close"}]}.
// Anything else (another request type, a float or blob argument, stored SQL, an unknown or
// repeated key, a value of an unexpected type) stops it: the DOM parser then reads the body and
// names what is wrong, so this handler never has to produce an error message.
class PipelineHandler {
 public:
  constexpr static size_t max_object_size = 64;
  constexpr static size_t max_array_size = std::numeric_limits<size_t>::max();
  constexpr static size_t max_key_size = 64;
  constexpr static size_t max_string_size = json::string::max_size();

  PipelineRequest pipeline;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  // Whether the document was a whole pipeline (an object with "requests").
  bool complete() const { return depth_ == 0 && saw_requests_; }

  bool on_object_begin(json::error_code&) {
    Ctx parent = depth_ == 0 ? Ctx::kNone : stack_[depth_ - 1].ctx;
    Ctx ctx;
    if (depth_ == 0) {
      ctx = Ctx::kRoot;
    } else if (parent == Ctx::kRequests) {
      ctx = Ctx::kRequest;
      if (pipeline.requests.empty()) {
        pipeline.requests.reserve(4);  // [execute, close] and the like: one allocation
      }
      pipeline.requests.emplace_back();
      request_type_.clear();
      has_stmt_ = false;
    } else if (parent == Ctx::kRequest && key_ == Key::kStmt) {
      ctx = Ctx::kStmt;
      has_stmt_ = true;
    } else if (parent == Ctx::kArgs) {
      ctx = Ctx::kArg;
      arg_ = ArgState();
    } else {
      return false;
    }
    return Push(ctx);
  }

  bool on_object_end(size_t, json::error_code&) {
    switch (stack_[depth_ - 1].ctx) {
      case Ctx::kRoot:
        break;
      case Ctx::kRequest: {
        Request& request = pipeline.requests.back();
        if (request_type_ == "execute" && has_stmt_) {
          request.type = Request::Type::kExecute;
        } else if (request_type_ == "close" && !has_stmt_) {
          request.type = Request::Type::kClose;
        } else {
          return false;
        }
        break;
      }
      case Ctx::kStmt:
        if (!pipeline.requests.back().stmt.sql) {
          return false;  // stored SQL (sql_id), or none: the DOM path
        }
        break;
      case Ctx::kArg:
        if (!FinishArg()) {
          return false;
        }
        break;
      default:
        return false;
    }
    --depth_;
    key_ = Key::kNone;
    return true;
  }

  bool on_array_begin(json::error_code&) {
    Ctx parent = depth_ == 0 ? Ctx::kNone : stack_[depth_ - 1].ctx;
    if (parent == Ctx::kRoot && key_ == Key::kRequests) {
      saw_requests_ = true;
      return Push(Ctx::kRequests);
    }
    if (parent == Ctx::kStmt && key_ == Key::kArgs) {
      return Push(Ctx::kArgs);
    }
    if (parent == Ctx::kStmt && key_ == Key::kNamedArgs) {
      return Push(Ctx::kNamedArgs);  // only empty: an element ends the fast path
    }
    return false;
  }

  bool on_array_end(size_t, json::error_code&) {
    --depth_;
    key_ = Key::kNone;
    return true;
  }

  bool on_key_part(json::string_view s, size_t, json::error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }

  bool on_key(json::string_view s, size_t, json::error_code&) {
    Frame& frame = stack_[depth_ - 1];
    key_ = KeyOf(frame.ctx, Whole(s));
    text_.clear();
    if (key_ == Key::kNone) {
      return false;
    }
    unsigned bit = 1u << static_cast<unsigned>(key_);
    if (frame.seen & bit) {
      return false;  // a repeated key: the DOM's rule decides
    }
    frame.seen |= bit;
    return true;
  }

  bool on_string_part(json::string_view s, size_t, json::error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }

  bool on_string(json::string_view s, size_t, json::error_code&) {
    bool taken = TakeString(Whole(s));
    text_.clear();
    key_ = Key::kNone;
    return taken;
  }

  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(int64_t i, json::string_view, json::error_code&) {
    if (Current() != Ctx::kArg || key_ != Key::kValue) {
      return false;
    }
    arg_.kind = ArgState::kInteger;
    arg_.integer = i;
    key_ = Key::kNone;
    return true;
  }
  bool on_uint64(uint64_t, json::string_view, json::error_code&) { return false; }
  bool on_double(double, json::string_view, json::error_code&) { return false; }

  bool on_bool(bool b, json::error_code&) {
    if (Current() != Ctx::kStmt || key_ != Key::kWantRows) {
      return false;
    }
    pipeline.requests.back().stmt.want_rows = b;
    key_ = Key::kNone;
    return true;
  }

  bool on_null(json::error_code&) {
    Ctx ctx = Current();
    bool taken = (ctx == Ctx::kRoot && key_ == Key::kBaton) ||
                 (ctx == Ctx::kStmt && key_ == Key::kWantRows);  // null: absent
    if (ctx == Ctx::kArg && key_ == Key::kValue) {
      arg_.kind = ArgState::kNull;
      taken = true;
    }
    key_ = Key::kNone;
    return taken;
  }

  bool on_comment_part(json::string_view, json::error_code&) { return false; }
  bool on_comment(json::string_view, json::error_code&) { return false; }

 private:
  enum class Ctx { kNone, kRoot, kRequests, kRequest, kStmt, kArgs, kArg, kNamedArgs };
  enum class Key {
    kNone,
    kBaton,
    kRequests,
    kType,
    kStmt,
    kSql,
    kArgs,
    kNamedArgs,
    kWantRows,
    kValue
  };
  struct Frame {
    Ctx ctx = Ctx::kNone;
    unsigned seen = 0;  // keys met in this object (bits by Key)
  };
  // An argument's fields as they arrive (in any order).
  struct ArgState {
    enum Kind { kAbsent, kNull, kInteger, kString } kind = kAbsent;  // of "value"
    std::string type;
    bool has_type = false;
    int64_t integer = 0;
    std::string text;
  };

  static Key KeyOf(Ctx ctx, std::string_view name) {
    switch (ctx) {
      case Ctx::kRoot:
        return name == "baton" ? Key::kBaton : name == "requests" ? Key::kRequests : Key::kNone;
      case Ctx::kRequest:
        return name == "type" ? Key::kType : name == "stmt" ? Key::kStmt : Key::kNone;
      case Ctx::kStmt:
        return name == "sql"          ? Key::kSql
               : name == "args"       ? Key::kArgs
               : name == "named_args" ? Key::kNamedArgs
               : name == "want_rows"  ? Key::kWantRows
                                      : Key::kNone;
      case Ctx::kArg:
        return name == "type" ? Key::kType : name == "value" ? Key::kValue : Key::kNone;
      default:
        return Key::kNone;
    }
  }

  Ctx Current() const { return depth_ == 0 ? Ctx::kNone : stack_[depth_ - 1].ctx; }

  bool Push(Ctx ctx) {
    if (depth_ == kMaxDepth) {
      return false;
    }
    stack_[depth_++] = Frame{ctx, 0};
    key_ = Key::kNone;
    return true;
  }

  // A key or string's text: its last part `s`, after the parts in text_ if it came in several.
  std::string_view Whole(json::string_view s) {
    if (text_.empty()) {
      return {s.data(), s.size()};  // in one piece, as almost always: no copy
    }
    text_.append(s.data(), s.size());
    return text_;
  }

  bool TakeString(std::string_view text) {
    Ctx ctx = Current();
    if (ctx == Ctx::kRoot && key_ == Key::kBaton) {
      pipeline.baton = text;
    } else if (ctx == Ctx::kRequest && key_ == Key::kType) {
      request_type_ = text;
    } else if (ctx == Ctx::kStmt && key_ == Key::kSql) {
      pipeline.requests.back().stmt.sql = text;
    } else if (ctx == Ctx::kArg && key_ == Key::kType) {
      arg_.type = text;
      arg_.has_type = true;
    } else if (ctx == Ctx::kArg && key_ == Key::kValue) {
      arg_.kind = ArgState::kString;
      arg_.text = text;
    } else {
      return false;
    }
    return true;
  }

  // The argument as ValueFromJson reads it, for the types this path takes.
  bool FinishArg() {
    if (!arg_.has_type) {
      return false;
    }
    Value value;
    if (arg_.type == "null") {
      value.type = Value::Type::kNull;  // whatever "value" holds (a scalar here) is ignored
    } else if (arg_.type == "integer") {
      value.type = Value::Type::kInteger;
      if (arg_.kind == ArgState::kInteger) {
        value.integer = arg_.integer;
      } else if (arg_.kind == ArgState::kString) {
        const std::string& s = arg_.text;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value.integer);
        if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
          return false;
        }
      } else {
        return false;
      }
    } else if (arg_.type == "text" && arg_.kind == ArgState::kString) {
      value.type = Value::Type::kText;
      value.bytes = std::move(arg_.text);
    } else {
      return false;
    }
    pipeline.requests.back().stmt.args.push_back(std::move(value));
    return true;
  }

  static constexpr size_t kMaxDepth = 6;  // root, requests, request, stmt, args, arg
  Frame stack_[kMaxDepth + 1];
  size_t depth_ = 0;
  Key key_ = Key::kNone;  // the key whose value comes next
  std::string text_;      // a key or string being assembled from parts
  bool saw_requests_ = false;
  std::string request_type_;
  bool has_stmt_ = false;
  ArgState arg_;
};

}  // namespace

std::optional<PipelineRequest> ParseCommonPipelineRequest(std::string_view body) {
  json::parse_options options;
  options.max_depth = 64;
  json::basic_parser<PipelineHandler> parser(options);
  json::error_code ec;
  size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (ec || used < body.size() || !parser.handler().complete()) {
    return std::nullopt;
  }
  return std::move(parser.handler().pipeline);
}

}  // namespace quarry::protocol
