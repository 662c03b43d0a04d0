#include "protocol/response_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <random>

namespace quarry::protocol {
namespace {
namespace json = boost::json;

// What PipelineResponseBody gave when it serialized a DOM: the body it writes directly must be
// the same bytes (clients and the compat suite read them).
std::string DomBody(const PipelineResponse& response) {
  json::array results;
  for (const StreamResult& result : response.results) {
    results.push_back(StreamResultJson(result));
  }
  json::object out;
  out.emplace("baton", response.baton ? json::value(*response.baton) : json::value(nullptr));
  out.emplace("base_url",
              response.base_url ? json::value(*response.base_url) : json::value(nullptr));
  out.emplace("results", std::move(results));
  return json::serialize(out);
}

std::string RandomText(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {"a",    "Z",    " ", "\"",   "\\", "\n", "\t",
                                                   "\x01", "\x1f", "é", "日本", "😀",  "/",  ""};
  std::string out;
  for (int n = static_cast<int>(rng() % 6); n > 0; --n) {
    out += kPieces[rng() % kPieces.size()];
  }
  return out;
}

Value RandomValue(std::mt19937& rng) {
  Value v;
  switch (rng() % 5) {
    case 0: {
      v.type = Value::Type::kInteger;
      static const int64_t kInts[] = {0, -1, 42, std::numeric_limits<int64_t>::min(),
                                      std::numeric_limits<int64_t>::max()};
      v.integer = kInts[rng() % 5];
      break;
    }
    case 1: {
      v.type = Value::Type::kFloat;
      static const double kReals[] = {0.0,
                                      -0.0,
                                      0.1,
                                      1.5,
                                      -2.25e-300,
                                      1e300,
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      123456789.123};
      v.real = kReals[rng() % 9];
      break;
    }
    case 2:
      v.type = Value::Type::kText;
      v.bytes = RandomText(rng);
      break;
    case 3:
      v.type = Value::Type::kBlob;
      v.bytes = std::string("\0\xff\x10", rng() % 4);
      break;
    default:
      v.type = Value::Type::kNull;
  }
  return v;
}

TEST(ResponseJsonTest, PipelineBodyIsTheBytesOfTheDom) {
  std::mt19937 rng(7);
  for (int round = 0; round < 500; ++round) {
    PipelineResponse response;
    if (rng() % 2) {
      response.baton = RandomText(rng);
    }
    for (int n = static_cast<int>(rng() % 4); n > 0; --n) {
      switch (rng() % 4) {
        case 0: {
          StreamResponse r;
          r.type = Request::Type::kExecute;
          int cols = static_cast<int>(rng() % 3);
          for (int c = 0; c < cols; ++c) {
            Column col;
            if (rng() % 4) {
              col.name = RandomText(rng);
            }
            if (rng() % 2) {
              col.decltype_name = "INTEGER";
            }
            r.execute.cols.push_back(col);
          }
          for (int row = static_cast<int>(rng() % 3); row > 0; --row) {
            Row values;
            for (int c = 0; c < cols; ++c) {
              values.push_back(RandomValue(rng));
            }
            r.execute.rows.push_back(std::move(values));
          }
          r.execute.affected_row_count = rng() % 3;
          if (rng() % 2) {
            r.execute.last_insert_rowid = static_cast<int64_t>(rng()) - (1 << 30);
          }
          r.execute.rows_read = rng() % 100;
          r.execute.rows_written = rng() % 2;
          r.execute.query_duration_ms = (rng() % 1000) / 7.0;
          response.results.emplace_back(std::move(r));
          break;
        }
        case 1: {
          StreamResponse r;
          r.type = Request::Type::kClose;
          response.results.emplace_back(std::move(r));
          break;
        }
        case 2: {
          StreamResponse r;
          r.type = Request::Type::kGetAutocommit;
          r.is_autocommit = rng() % 2;
          response.results.emplace_back(std::move(r));
          break;
        }
        default:
          response.results.emplace_back(
              Status(ErrorCode::kInvalidArgument, "near \"x\": " + RandomText(rng)));
      }
    }
    ASSERT_EQ(PipelineResponseBody(response), DomBody(response)) << "round " << round;
  }
}

}  // namespace
}  // namespace quarry::protocol
