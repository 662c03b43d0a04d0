// Fuzz target, end to end: protocol::HranaService (Pipeline, PipelineAsync, Cursor, Legacy)
// running fuzzed request bodies against a real namespace of a temporary NamespaceStore.
//
// Input: up to 8 requests separated by a line "---". Each request's first byte picks the call
// and the access of its owner; the rest is its body:
//   'P' Pipeline, 'A' PipelineAsync, 'C' Cursor, 'L' Legacy     read-write owner
//   'p' Pipeline, 'c' Cursor                                    read-only owner
// "$baton" in a body is replaced by the baton of the last response that carried one, so
// streams and transactions span requests.
//
// Every input starts on an empty namespace with no parked streams, so a crash reproduces from
// its input alone. Work is bounded: 100 ms per query, 300 ms busy timeout, short stream limits.
//
// Properties: bad bodies are kInvalidArgument-style values, never crashes; a response body is
// valid JSON (cursor: one JSON document per line).

#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "protocol/hrana_service.h"
#include "protocol/json_body.h"
#include "protocol/stream_manager.h"
#include "storage/namespace_store.h"

namespace {
using namespace quarry;
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view kNamespace = "fuzz";
constexpr std::string_view kSeparator = "\n---\n";
constexpr size_t kMaxRequests = 8;

storage::NamespaceStore& Store() {
  static storage::NamespaceStore* store = [] {
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path dir = base / ("quarry-fuzz-hrana-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    storage::StoreOptions options;
    options.data_dir = dir;
    options.max_idle_connections_per_database = 2;
    options.connection.busy_timeout_ms = 300;
    auto opened = storage::NamespaceStore::Open(options);
    FUZZ_CHECK(opened.ok());
    // The folder goes when the process ends normally; after a crash it is left for a look.
    static fs::path cleanup = dir;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(cleanup, ec);
    });
    return std::move(opened).value().release();
  }();
  return *store;
}

void CheckJson(std::string_view text) {
  boost::system::error_code ec;
  json::parse(text, ec);
  FUZZ_CHECK(!ec);
}

std::string BatonOf(std::string_view response) {
  boost::system::error_code ec;
  json::value doc = json::parse(response, ec);
  if (ec || !doc.is_object()) {
    return {};
  }
  const json::value* baton = doc.as_object().if_contains("baton");
  return baton != nullptr && baton->is_string() ? std::string(baton->get_string()) : std::string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  storage::NamespaceStore& store = Store();
  FUZZ_CHECK(store.Create(kNamespace).ok());
  {
    protocol::StreamLimits limits;
    limits.idle_timeout = std::chrono::milliseconds(500);
    limits.transaction_timeout = std::chrono::milliseconds(200);
    limits.query_timeout = std::chrono::milliseconds(100);
    limits.max_stored_sql = 16;
    limits.max_sql_bytes = 64 << 10;
    protocol::StreamManager streams(limits);
    protocol::HranaService service([&store](std::string_view ns) { return store.Get(ns); },
                                   streams);
    std::string baton = "\"no-baton-yet\"";
    for (size_t n = 0; n < kMaxRequests && !input.empty(); ++n) {
      size_t end = input.find(kSeparator);
      std::string_view part = input.substr(0, end);
      input = end == std::string_view::npos ? std::string_view()
                                            : input.substr(end + kSeparator.size());
      if (part.empty()) {
        continue;
      }
      char op = part[0];
      std::string body(part.substr(1));
      for (size_t at = body.find("\"$baton\""); at != std::string::npos;
           at = body.find("\"$baton\"", at + baton.size())) {
        body.replace(at, 8, baton);
      }
      protocol::StreamOwner owner{std::string(kNamespace), op == 'p' || op == 'c'
                                                               ? auth::SqlAccess::kReadOnly
                                                               : auth::SqlAccess::kReadWrite};
      Result<std::string> out = Status(ErrorCode::kInternal, "not run");
      switch (op) {
        case 'P':
        case 'p':
          out = service.Pipeline(owner, body);
          break;
        case 'A': {
          std::promise<Result<std::string>> done;
          auto future = done.get_future();
          service.PipelineAsync(owner, body, [&done](Result<std::string> result) {
            done.set_value(std::move(result));
          });
          out = future.get();
          break;
        }
        case 'C':
        case 'c':
          out = service.Cursor(owner, body);
          break;
        case 'L':
          out = service.Legacy(owner, body);
          break;
        default:
          continue;
      }
      if (!out.ok()) {
        FUZZ_CHECK(out.status().code() != ErrorCode::kInternal);
        continue;
      }
      if (op == 'C' || op == 'c') {
        std::string_view lines = *out;
        std::string_view head = lines.substr(0, lines.find('\n'));
        std::string next = BatonOf(head);
        if (!next.empty()) {
          baton = json::serialize(json::value(next));
        }
        while (!lines.empty()) {
          size_t nl = lines.find('\n');
          FUZZ_CHECK(nl != std::string_view::npos);
          CheckJson(lines.substr(0, nl));
          lines.remove_prefix(nl + 1);
        }
      } else {
        CheckJson(*out);
        std::string next = BatonOf(*out);
        if (!next.empty()) {
          baton = json::serialize(json::value(next));
        }
      }
    }
  }
  FUZZ_CHECK(store.Delete(kNamespace).ok());
  return 0;
}
