#include "protocol/pipeline_parser.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "protocol/json_body.h"

namespace quarry::protocol {
namespace {

namespace json = boost::json;

// What ParseJsonBody + ParsePipelineRequest (the DOM path) make of `body`.
Result<PipelineRequest> ViaDom(std::string_view body) {
  QUARRY_ASSIGN_OR_RETURN(json::value parsed, ParseJsonBody(body));
  return ParsePipelineRequest(parsed);
}

std::string Describe(const PipelineRequest& p) {
  std::string out = p.baton ? "baton=" + *p.baton : "no baton";
  for (const Request& r : p.requests) {
    out += " | type=" + std::to_string(static_cast<int>(r.type));
    if (r.type != Request::Type::kExecute) {
      continue;
    }
    out += " sql=" + r.stmt.sql.value_or("<none>") +
           " sql_id=" + (r.stmt.sql_id ? std::to_string(*r.stmt.sql_id) : "-") +
           " want_rows=" + std::to_string(r.stmt.want_rows);
    for (const Value& v : r.stmt.args) {
      out += " arg(" + std::to_string(static_cast<int>(v.type)) + "," + std::to_string(v.integer) +
             "," + std::to_string(v.real) + "," + v.bytes + ")";
    }
    for (const auto& [name, v] : r.stmt.named_args) {
      out += " named(" + name + "," + std::to_string(static_cast<int>(v.type)) + ")";
    }
  }
  return out;
}

TEST(PipelineParserTest, ReadsWhatClientsSendOnEveryQuery) {
  // bench/wrk/point_select.lua's body, and @libsql/client's execute() of a query.
  for (
      const char* body : {
          R"({"baton":null,"requests":[{"type":"execute","stmt":{"sql":"SELECT id, v FROM kv WHERE id = ?","args":[{"type":"integer","value":"4242"}]}},{"type":"close"}]})",
          R"({"baton":null,"requests":[{"type":"execute","stmt":{"sql":"SELECT * FROM t WHERE a = ? AND b = ?","args":[{"type":"text","value":"x\"y\u00e9"},{"type":"null"}],"named_args":[],"want_rows":true}},{"type":"close"}]})",
          R"({"requests":[{"stmt":{"want_rows":false,"sql":"DELETE FROM t"},"type":"execute"}],"baton":"b1"})",
          // Escapes split a key or a string into parts, which the handler joins.
          R"({"baton":"b\u0031","requests":[{"ty\u0070e":"execute","stmt":{"s\u0071l":"SELECT \"a\" FROM t","args":[{"type":"text","value":"\n"}]}},{"type":"close"}]})",
      }) {
    std::optional<PipelineRequest> fast = ParseCommonPipelineRequest(body);
    ASSERT_TRUE(fast.has_value()) << body;
    auto dom = ViaDom(body);
    ASSERT_TRUE(dom.ok()) << dom.status().ToString();
    EXPECT_EQ(Describe(*fast), Describe(*dom)) << body;
  }
}

TEST(PipelineParserTest, LeavesEverythingElseToTheDomPath) {
  for (
      const char* body : {
          R"({"requests":[{"type":"batch","batch":{"steps":[]}}]})",
          R"({"requests":[{"type":"execute","stmt":{"sql_id":1}}]})",
          R"({"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"float","value":1.5}]}}]})",
          R"({"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"blob","base64":"AA=="}]}}]})",
          R"({"requests":[{"type":"execute","stmt":{"sql":"SELECT 1","sql":"SELECT 2"}}]})",
          R"({"requests":[{"type":"execute","stmt":{"sql":"SELECT :a","named_args":[{"name":"a","value":{"type":"null"}}]}}]})",
          R"({"requests":[{"type":"execute"}]})",
          R"({"requests":[{"type":"close","stmt":{"sql":"SELECT 1"}}]})",
          R"({"requests":null})",
          R"({"baton":null})",
          R"({"requests":[],"extra":1})",
          R"([])",
          R"({"requests":[]} x)",
          "{\"requests\":[{\"type\":\"execute\",\"stmt\":{\"sql\":\"\xff\"}}]}",
      }) {
    EXPECT_FALSE(ParseCommonPipelineRequest(body).has_value()) << body;
  }
}

// Random bodies around the common shape (keys in any order, repeated and unknown keys, values
// of every kind and of the wrong type, stored SQL, other request types, malformed JSON): every
// body the direct path accepts gives exactly the PipelineRequest of the DOM path.
TEST(PipelineParserTest, AgreesWithTheDomPathOnRandomBodies) {
  std::mt19937 rng(20261202);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto object = [&](std::vector<std::pair<std::string, std::string>> fields) {
    std::shuffle(fields.begin(), fields.end(), rng);
    if (!fields.empty() && pick(25) == 0) {
      fields.push_back(fields[pick(fields.size())]);  // a repeated key
    }
    std::string out = "{";
    for (size_t i = 0; i < fields.size(); ++i) {
      out +=
          (i ? "," : "") + json::serialize(json::string(fields[i].first)) + ":" + fields[i].second;
    }
    return out + "}";
  };
  auto text = [&] {
    static const char* texts[] = {"SELECT 1",  "",      "line\nbreak",  "quote \" and \\",
                                  "caf\u00e9", "tab\t", "\u263a smile", "a/b"};
    return json::serialize(json::string(texts[pick(8)]));
  };
  auto value = [&]() -> std::string {
    switch (pick(12)) {
      case 0:
        return object({{"type", "\"null\""}});
      case 1:
        return object({{"type", "\"null\""}, {"value", pick(2) ? "null" : "\"x\""}});
      case 2:
        return object(
            {{"type", "\"integer\""},
             {"value", "\"" + std::to_string(static_cast<int64_t>(rng()) - 2000000000) + "\""}});
      case 3:
        return object({{"type", "\"integer\""}, {"value", std::to_string(pick(1000))}});
      case 4:
        return object(
            {{"type", "\"integer\""}, {"value", pick(2) ? "\"12a\"" : "\"99999999999999999999\""}});
      case 5:
        return object({{"type", "\"integer\""}, {"value", "18446744073709551615"}});
      case 6:
        return object({{"type", "\"text\""}, {"value", text()}});
      case 7:
        return object({{"type", "\"text\""}, {"value", "7"}});
      case 8:
        return object({{"type", "\"float\""}, {"value", "0.1"}});
      case 9:
        return object({{"type", "\"blob\""}, {"base64", "\"AAE=\""}});
      case 10:
        return object({{"value", "\"1\""}});
      default:
        return pick(2) ? "null" : "[]";
    }
  };
  auto stmt = [&] {
    std::vector<std::pair<std::string, std::string>> fields;
    if (pick(8) != 0) {
      fields.emplace_back("sql", pick(10) ? text() : "null");
    }
    if (pick(10) == 0) {
      fields.emplace_back("sql_id", "3");
    }
    if (pick(3) != 0) {
      std::string args = "[";
      for (size_t i = 0, n = pick(4); i < n; ++i) {
        args += (i ? "," : "") + value();
      }
      fields.emplace_back("args", pick(12) ? args + "]" : "null");
    }
    if (pick(2) == 0) {
      fields.emplace_back(
          "named_args",
          pick(5) ? "[]" : "[" + object({{"name", "\"a\""}, {"value", value()}}) + "]");
    }
    if (pick(2) == 0) {
      static const char* wants[] = {"true", "false", "null", "\"yes\""};
      fields.emplace_back("want_rows", wants[pick(4)]);
    }
    if (pick(20) == 0) {
      fields.emplace_back("unknown", "1");
    }
    return object(fields);
  };
  auto request = [&] {
    switch (pick(8)) {
      case 0:
        return object({{"type", "\"close\""}});
      case 1:
        return object({{"type", "\"get_autocommit\""}});
      case 2:
        return object({{"type", "\"close\""}, {"stmt", stmt()}});
      case 3:
        return object({{"stmt", stmt()}});
      default:
        return object({{"type", "\"execute\""}, {"stmt", stmt()}});
    }
  };
  int accepted = 0;
  const int kBodies = 4000;
  for (int n = 0; n < kBodies; ++n) {
    std::vector<std::pair<std::string, std::string>> root;
    switch (pick(4)) {
      case 0:
        break;
      case 1:
        root.emplace_back("baton", "null");
        break;
      case 2:
        root.emplace_back("baton", text());
        break;
      default:
        root.emplace_back("baton", pick(2) ? "7" : "null");
    }
    std::string requests = "[";
    for (size_t i = 0, count = pick(4); i < count; ++i) {
      requests += (i ? "," : "") + request();
    }
    requests += "]";
    if (pick(15) != 0) {
      root.emplace_back("requests", requests);
    }
    std::string body = object(root);
    if (pick(30) == 0) {
      body.resize(pick(body.size() + 1));  // truncated
    }
    std::optional<PipelineRequest> fast = ParseCommonPipelineRequest(body);
    if (!fast) {
      continue;
    }
    ++accepted;
    auto dom = ViaDom(body);
    ASSERT_TRUE(dom.ok()) << body << "\n" << dom.status().ToString();
    ASSERT_EQ(Describe(*fast), Describe(*dom)) << body;
  }
  // Not vacuous: a good share of the bodies take the direct path.
  EXPECT_GT(accepted, kBodies / 10) << accepted;
}

}  // namespace
}  // namespace quarry::protocol
