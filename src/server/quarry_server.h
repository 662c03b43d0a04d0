#pragma once

// QuarryServer: wires the engine to the transport. It owns the data folder (NamespaceStore),
// the signing key and the external issuer (--jwks), the token verifier, the Hrana streams, the
// database thread pool and the HTTP listener, and routes each request: namespace resolution,
// token check, then Hrana or the admin API. WebSocket upgrades on the same paths go to
// HranaWebSockets; /v1/realtime upgrades and /v1/changes event streams go to realtime
// (RealtimeEndpoint over realtime::Hub, which sees every committed change).
//
// Network threads parse and route, and answer lone reads on an open namespace with a token
// verified before (within --inline-read-budget-us); everything else that touches SQLite or
// verifies a token runs on the worker pool (lone autocommit writes batched into one group).

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "auth/external_issuer.h"
#include "auth/key_pair.h"
#include "auth/token_cache.h"
#include "common/status.h"
#include "common/thread_pool.h"
#include "http/server.h"
#include "protocol/hrana_service.h"
#include "protocol/stream_manager.h"
#include "realtime/hub.h"
#include "server/admin_api.h"
#include "server/config.h"
#include "server/data_api.h"
#include "server/hrana_websocket.h"
#include "server/realtime_endpoint.h"
#include "server/router.h"
#include "server/routes.h"
#include "server/schema_changes.h"
#include "server/schema_registry.h"
#include "server/webhooks.h"
#include "storage/namespace_store.h"

namespace quarry::server {

class QuarryServer {
 public:
  // Opens the data folder and key; does not listen yet.
  static Result<std::unique_ptr<QuarryServer>> Create(ServerConfig config);
  ~QuarryServer();

  Status Listen();
  uint16_t port() const { return http_->port(); }
  // Lone reads answered on the network thread that received them (for tests and diagnostics).
  uint64_t inline_reads() const { return hrana_->inline_reads(); }
  // With TLS, re-reads the certificate and key files for connections accepted from now on
  // (see http::Server::ReloadTls); what `quarry serve` does on SIGHUP. Any thread.
  Result<std::string> ReloadTls() { return http_->ReloadTls(); }
  // Serves until Stop(); blocks.
  void Run();
  // Stops accepting, waits up to `grace` for requests in flight to be answered, then ends
  // Run(). Any thread.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  storage::NamespaceStore& store() { return *store_; }
  // One pass of stream expiry (idle streams, write transactions held too long), as the
  // background thread does every 100 ms; for tests that run the server on a ManualClock.
  void ExpireStreamsNow() { streams_->ExpireNow(); }
  const auth::KeyPair& key() const { return *key_; }
  // Notified whenever a namespace's schema may have changed (see schema_changes.h);
  // config.on_schema_change is its first listener.
  SchemaChanges& schema_changes() { return schema_changes_; }
  // The external issuer of --jwks; nullptr when none is configured.
  auth::ExternalIssuer* external_issuer() { return external_.get(); }

 private:
  explicit QuarryServer(ServerConfig config);
  void Handle(http::Request&& request, http::Responder respond);
  // Routes a request; answers through `respond`, possibly later from another thread.
  void Dispatch(const http::Request& request, const http::Responder& respond);
  // Fills namespace_routes_.
  void AddRoutes();
  // The namespace and access a Hrana request may use, from its token: a service token's (a user
  // token is refused, see RequireServiceToken).
  Result<protocol::StreamOwner> Admit(const http::Request& request, const Route& route);
  // The stream owner of a request whose token gave `claims`: refuses user tokens and
  // namespaces the token does not cover.
  Result<protocol::StreamOwner> OwnerFor(const auth::Claims& claims, const http::Request& request,
                                         const Route& route);
  // On the network thread: serves a Hrana pipeline whose token was verified before, running a
  // lone read there and now (HranaService::PipelineFromNetwork) and anything else on the
  // workers. False (nothing done) for any other request, or when a check would have to block
  // or fail: the caller then hands it to the workers as usual.
  bool TryServeFromNetwork(const http::Request& request, const http::Responder& respond);

  // The routes under a namespace (after "/db/<name>" or the namespace header / host is
  // resolved); `needs_token`: the request is admitted (token, namespace, access) first.
  struct NamespaceRoute {
    bool needs_token = true;
    std::function<void(const http::Request&, const protocol::StreamOwner&, const http::Responder&)>
        run;
  };

  const ServerConfig config_;
  // What the store's databases hand their committed changes to: the hub, and the embedder's
  // observer (config.change_observer) if any.
  class ChangeFanout : public storage::ChangeObserver {
   public:
    void OnCommit(const storage::CommittedChanges& committed) override {
      if (realtime::Hub* hub = hub_.load()) {
        hub->OnCommit(committed);
      }
      if (also_ != nullptr) {
        also_->OnCommit(committed);
      }
    }
    std::atomic<realtime::Hub*> hub_{nullptr};
    storage::ChangeObserver* also_ = nullptr;
  };
  ChangeFanout fanout_;
  Router<NamespaceRoute> namespace_routes_;
  std::unique_ptr<storage::NamespaceStore> store_;
  SchemaChanges schema_changes_;
  std::unique_ptr<auth::KeyPair> key_;
  std::unique_ptr<auth::ExternalIssuer> external_;
  std::unique_ptr<auth::TokenCache> tokens_;
  std::unique_ptr<AdminApi> admin_;
  std::unique_ptr<protocol::StreamManager> streams_;
  std::unique_ptr<protocol::HranaService> hrana_;
  std::unique_ptr<SchemaRegistry> schemas_;
  std::unique_ptr<DataApi> data_api_;
  // The data API's routes, under a namespace: /v1/query, /v1/transaction, /v1/{model}/{op}.
  Router<DataApi::Kind> data_routes_;
  std::unique_ptr<ThreadPool> workers_;
  // Lone autocommit writes the network threads hand over wait here for one worker task, which
  // runs all that arrived meanwhile as one group commit (storage::Database::GroupBatch): on one
  // CPU, a task per write would commit each alone.
  void SubmitWrite(std::function<void()> task);
  void RunWriteBatch();
  std::mutex write_batch_mutex_;
  std::vector<std::function<void()>> write_batch_;  // GUARDED_BY(write_batch_mutex_)
  bool write_batch_scheduled_ = false;              // GUARDED_BY(write_batch_mutex_)
  // The pool as WebSocket sessions reach it: null once the pool is gone (teardown), when their
  // last tasks (releasing streams) run inline instead.
  std::atomic<ThreadPool*> socket_pool_{nullptr};
  std::unique_ptr<HranaWebSockets> websockets_;
  std::unique_ptr<realtime::Hub> hub_;
  std::unique_ptr<Webhooks> webhooks_;
  std::unique_ptr<RealtimeEndpoint> realtime_;
  std::unique_ptr<http::Server> http_;
};

// `quarry serve`: runs a server until SIGINT/SIGTERM; returns the process exit code.
int ServeMain(const ServerConfig& config);

}  // namespace quarry::server
