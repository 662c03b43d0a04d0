#pragma once

// HranaService: libSQL's Hrana protocol over HTTP, independent of the transport. It takes a
// request body and the owner the server resolved (namespace, access), and returns the
// response body, or a Status for the HTTP layer to report (400 for a malformed body, 404 for a
// missing namespace, ...). Thread-safe; each call blocks on SQLite, so call it from the
// database thread pool, never from a network thread.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/request.h"
#include "protocol/stream_manager.h"
#include "storage/database.h"

namespace quarry::protocol {

// Finds the open database of a namespace: the server's NamespaceStore, or a single local file.
using DatabaseResolver =
    std::function<Result<std::shared_ptr<storage::Database>>(std::string_view ns)>;

class HranaService {
 public:
  HranaService(DatabaseResolver resolve, StreamManager& streams)
      : resolve_(std::move(resolve)), streams_(streams) {}

  // A new stream of `owner` (Hrana over WebSocket's open_stream): a place within the stream
  // limits, then a connection of the namespace. Blocks on SQLite.
  Result<std::unique_ptr<Stream>> NewStream(const StreamOwner& owner);
  StreamManager& streams() { return streams_; }

  // POST /v2/pipeline and /v3/pipeline.
  Result<std::string> Pipeline(const StreamOwner& owner, std::string_view body);

  // The same, but may complete later on another thread: an autocommit write sent on its own
  // (`[execute, close]` without a baton, the shape clients send for `execute()`) joins its
  // database's group commit without holding a thread while the group commits. `done` is
  // called exactly once.
  using Completion = std::function<void(Result<std::string>)>;
  void PipelineAsync(const StreamOwner& owner, std::string_view body, Completion done);
  // POST /v3/cursor: newline-delimited JSON, first line {"baton","base_url"}, then entries.
  Result<std::string> Cursor(const StreamOwner& owner, std::string_view body);
  // POST / with {"statements": [...]}: runs all statements in one transaction.
  Result<std::string> Legacy(const StreamOwner& owner, std::string_view body);

 private:
  // The stream for a request: the parked one named by `baton`, or a new one.
  Result<std::unique_ptr<Stream>> OpenStream(const StreamOwner& owner,
                                             const std::optional<std::string>& baton);
  Result<std::string> RunPipeline(const StreamOwner& owner, const PipelineRequest& pipeline);
  // True when `pipeline` is a lone autocommit write that can go through group commit.
  bool IsLoneGroupableWrite(const StreamOwner& owner, const PipelineRequest& pipeline) const;
  // Parks the stream unless it was closed; returns the baton to send (null when closed).
  boost::json::value Finish(std::unique_ptr<Stream> stream);

  DatabaseResolver resolve_;
  StreamManager& streams_;
};

}  // namespace quarry::protocol
