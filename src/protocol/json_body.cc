#include "protocol/json_body.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <string>

namespace quarry::protocol {
namespace json = boost::json;

namespace {

// basic_parser handler building a json::value like Boost's own parser, except for doubles.
class PreciseHandler {
 public:
  constexpr static size_t max_object_size = json::object::max_size();
  constexpr static size_t max_array_size = json::array::max_size();
  constexpr static size_t max_key_size = json::string::max_size();
  constexpr static size_t max_string_size = json::string::max_size();

  explicit PreciseHandler(json::storage_ptr storage) : storage_(std::move(storage)) {}

  bool on_document_begin(json::error_code&) {
    stack_.reset(storage_);
    return true;
  }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(size_t n, json::error_code&) {
    stack_.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(size_t n, json::error_code&) {
    stack_.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, size_t, json::error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, size_t, json::error_code&) {
    stack_.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, size_t, json::error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, size_t, json::error_code&) {
    stack_.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t i, json::string_view, json::error_code&) {
    number_.clear();
    stack_.push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, json::string_view, json::error_code&) {
    number_.clear();
    stack_.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    double exact = d;
    auto [end, ec] = std::from_chars(number_.data(), number_.data() + number_.size(), exact);
    if (ec != std::errc() || end != number_.data() + number_.size()) {
      exact = d;  // out of range: keep Boost's value (e.g. infinity for 1e999)
    }
    number_.clear();
    stack_.push_double(exact);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack_.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    stack_.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

  json::value Release() { return stack_.release(); }

 private:
  json::storage_ptr storage_;
  // The parser's working stack lives in this buffer until a document outgrows it.
  unsigned char temp_[2048];
  json::value_stack stack_{json::storage_ptr(), temp_, sizeof(temp_)};
  std::string number_;
};

}  // namespace

Result<json::value> ParseJsonBody(std::string_view body, json::storage_ptr storage) {
  json::parse_options options;
  options.max_depth = 64;
  json::basic_parser<PreciseHandler> parser(options, std::move(storage));
  json::error_code ec;
  size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && used < body.size()) {
    ec = json::error::extra_data;
  }
  if (ec) {
    return Status(ErrorCode::kInvalidArgument, "request body is not valid JSON (at byte " +
                                                   std::to_string(used) + "): " + ec.message());
  }
  return parser.handler().Release();
}

}  // namespace quarry::protocol
