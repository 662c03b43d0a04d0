#pragma once

// HranaService: libSQL's Hrana protocol over HTTP, independent of the transport. It takes a
// request body and the owner the server resolved (namespace, access), and returns the
// response body, or a Status for the HTTP layer to report (400 for a malformed body, 404 for a
// missing namespace, ...). Thread-safe; each call blocks on SQLite, so call it from the
// database thread pool, never from a network thread -- except PipelineFromNetwork, made for one.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/request.h"
#include "protocol/response.h"
#include "protocol/stream_manager.h"
#include "storage/database.h"

namespace quarry::protocol {

// Finds the open database of a namespace: the server's NamespaceStore, or a single local file.
using DatabaseResolver =
    std::function<Result<std::shared_ptr<storage::Database>>(std::string_view ns)>;

// The database of a namespace only when it is open now (null otherwise): what a caller that must
// not block may use (opening a database does file I/O).
using OpenDatabaseFinder = std::function<std::shared_ptr<storage::Database>(std::string_view ns)>;

// How a request body and its answer are encoded: Hrana's JSON (`/v2`, `/v3`) or protobuf
// (`/v3-protobuf`). Both run the same code; only decoding and encoding differ.
enum class Encoding { kJson, kProtobuf };

class HranaService {
 public:
  HranaService(DatabaseResolver resolve, StreamManager& streams, OpenDatabaseFinder find_open = {})
      : resolve_(std::move(resolve)), streams_(streams), find_open_(std::move(find_open)) {}

  // A new stream of `owner` (Hrana over WebSocket's open_stream): a place within the stream
  // limits on the namespace's database. A lending stream (see stream.h): it borrows a
  // connection per lone read until it runs anything else. Blocks on opening the database.
  Result<std::unique_ptr<Stream>> NewStream(const StreamOwner& owner);
  StreamManager& streams() { return streams_; }

  // POST /v2/pipeline, /v3/pipeline (JSON) and /v3-protobuf/pipeline (protobuf).
  Result<std::string> Pipeline(const StreamOwner& owner, std::string_view body,
                               Encoding encoding = Encoding::kJson);

  // The same, but may complete later on another thread: an autocommit write sent on its own
  // (`[execute, close]` without a baton, the shape clients send for `execute()`) joins its
  // database's group commit without holding a thread while the group commits. `done` is
  // called exactly once.
  using Completion = std::function<void(Result<std::string>)>;
  void PipelineAsync(const StreamOwner& owner, std::string_view body, Completion done,
                     Encoding encoding = Encoding::kJson);
  // POST /v3/cursor: newline-delimited JSON, first line {"baton","base_url"}, then entries.
  // POST /v3-protobuf/cursor: length-delimited messages, a CursorRespBody then CursorEntry's.
  Result<std::string> Cursor(const StreamOwner& owner, std::string_view body,
                             Encoding encoding = Encoding::kJson);
  // POST / with {"statements": [...]}: runs all statements in one transaction.
  Result<std::string> Legacy(const StreamOwner& owner, std::string_view body);

  // The same work on decoded requests, for any transport and encoding. RunPipeline opens the
  // stream (or takes the one of the baton), runs every request and parks or closes the stream;
  // RunPipelineAsync may take the group commit path as PipelineAsync does.
  Result<PipelineResponse> RunPipeline(const StreamOwner& owner, const PipelineRequest& pipeline);
  using PipelineCompletion = std::function<void(Result<PipelineResponse>)>;
  void RunPipelineAsync(const StreamOwner& owner, PipelineRequest pipeline,
                        PipelineCompletion done);
  // Runs `pipeline` on the calling thread when that cannot block it for long: a lone read
  // (`[execute, close]` of one SELECT, without a baton, the shape clients send for a query) on a
  // namespace that is open with an idle connection, finishing within `budget` (SQLite's progress
  // handler interrupts it past that). nullopt when it is not such a read, or ran past the
  // budget: a read has no effects, so the caller then runs it as usual (on the pool).
  std::optional<Result<PipelineResponse>> TryRunInlineRead(const StreamOwner& owner,
                                                           const PipelineRequest& pipeline,
                                                           std::chrono::microseconds budget);
  // How many reads TryRunInlineRead served.
  uint64_t inline_reads() const { return inline_reads_.load(std::memory_order_relaxed); }
  // The first half of PipelineAsync, for a network thread: decodes `body` there and serves a
  // lone read that TryRunInlineRead runs within `budget`. `answer` is then set (the encoded
  // response, or the decoding error); otherwise `pipeline` holds the decoded request, for the
  // caller to hand to the worker pool and RunDecodedPipelineAsync.
  struct FromNetwork {
    std::optional<Result<std::string>> answer;
    PipelineRequest pipeline;
  };
  FromNetwork PipelineFromNetwork(const StreamOwner& owner, std::string_view body,
                                  Encoding encoding, std::chrono::microseconds budget);
  // True when `pipeline` is a lone autocommit write that can go through group commit.
  bool IsLoneGroupableWrite(const StreamOwner& owner, const PipelineRequest& pipeline) const;
  // The rest of PipelineAsync for a pipeline PipelineFromNetwork decoded but did not serve.
  void RunDecodedPipelineAsync(const StreamOwner& owner, PipelineRequest pipeline,
                               Encoding encoding, Completion done);
  // Runs a cursor's batch, handing each entry to `entries` as it is produced.
  Result<CursorHead> RunCursor(const StreamOwner& owner, const CursorRequest& cursor,
                               CursorEntryWriter& entries);

 private:
  // The stream for a request: the parked one named by `baton`, or a new one.
  Result<std::unique_ptr<Stream>> OpenStream(const StreamOwner& owner,
                                             const std::optional<std::string>& baton);
  // Runs every request of `pipeline` on `stream`, in order (after a close, the rest fail).
  static PipelineResponse RunRequests(Stream& stream, const PipelineRequest& pipeline);
  // Parks the stream unless it was closed; returns the baton to send (none when closed).
  std::optional<std::string> Finish(std::unique_ptr<Stream> stream);

  DatabaseResolver resolve_;
  StreamManager& streams_;
  OpenDatabaseFinder find_open_;
  std::atomic<uint64_t> inline_reads_{0};
};

}  // namespace quarry::protocol
