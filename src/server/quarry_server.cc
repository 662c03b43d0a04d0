#include "server/quarry_server.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>
#include <thread>

#include "auth/hmac.h"
#include "client/http_connection.h"
#include "common/cpus.h"
#include "schema/recorded_schema.h"
#include "server/jwks_source.h"
#include "server/routes.h"

namespace quarry::server {

namespace {

constexpr std::string_view kVersion = "quarry 0.1.0";

http::Response TextResponse(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

Status RealtimeOff() {
  return Status(ErrorCode::kUnavailable,
                "realtime is off on this server: it was started with --no-change-log");
}

http::Response ProtobufResponse(std::string body) {
  http::Response response;
  response.content_type = "application/x-protobuf";
  response.body = std::move(body);
  return response;
}

}  // namespace

QuarryServer::QuarryServer(ServerConfig config) : config_(std::move(config)) { AddRoutes(); }

QuarryServer::~QuarryServer() {
  // Workers first: their queued tasks finish against a live engine and post their responses
  // to the (stopped, still existing) I/O loop. Then the listener, which drops those (and the
  // WebSockets, whose streams are then released inline).
  socket_pool_.store(nullptr);
  workers_.reset();
  webhooks_.reset();  // their threads use the hub
  if (hub_) {
    hub_->Stop();  // no event is handed to the transport from here on
  }
  http_.reset();
  websockets_.reset();
  realtime_.reset();
  fanout_.hub_.store(nullptr);
  hub_.reset();
  hrana_.reset();
  admin_.reset();
  tokens_.reset();
  external_.reset();
  streams_.reset();
  store_.reset();
}

Result<std::unique_ptr<QuarryServer>> QuarryServer::Create(ServerConfig config) {
  QUARRY_RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<QuarryServer> server(new QuarryServer(std::move(config)));
  const ServerConfig& cfg = server->config_;

  storage::StoreOptions store_options;
  store_options.data_dir = cfg.data_dir;
  store_options.max_open_databases = cfg.max_open_databases;
  store_options.connection.durability =
      cfg.durable ? storage::Durability::kFull : storage::Durability::kNormal;
  store_options.connection.busy_timeout_ms =
      static_cast<int>(cfg.transaction_timeout.count() * 2 + 1000);
  store_options.connection.access_rules = auth::InstallClientRules;
  server->fanout_.also_ = cfg.change_observer;
  if (cfg.change_log || cfg.change_observer != nullptr) {
    store_options.change_observer = &server->fanout_;
  }
  store_options.connection.slow_query_ms = cfg.slow_query_ms;
  store_options.connection.max_value_bytes = static_cast<int>(cfg.max_value_bytes);
  store_options.connection.max_sql_bytes =
      static_cast<int>(std::min<size_t>(cfg.max_body_bytes, 1'000'000'000));
  store_options.max_connections_per_database = cfg.max_connections_per_namespace;
  QUARRY_ASSIGN_OR_RETURN(server->store_, storage::NamespaceStore::Open(store_options));
  QUARRY_ASSIGN_OR_RETURN(auth::KeyPair key,
                          auth::KeyPair::LoadOrCreate(server->store_->keys_dir()));
  server->key_ = std::make_unique<auth::KeyPair>(std::move(key));
  if (!cfg.ca_file.empty()) {
    // Refused now rather than at the first webhook delivery or key set fetch.
    if (Status trusted = client::CheckCaFile(cfg.ca_file); !trusted.ok()) {
      return Status(trusted.code(), "--ca-file: " + trusted.message());
    }
  }
  if (!cfg.jwks.empty()) {
    QUARRY_ASSIGN_OR_RETURN(auth::JwksFetcher fetch, JwksFetcherFor(cfg.jwks, cfg.ca_file));
    auth::ExternalIssuerOptions issuer;
    issuer.issuer = cfg.jwt_issuer;
    issuer.audience = cfg.jwt_audience;
    issuer.namespaces_claim = cfg.jwt_namespaces_claim;
    issuer.source = cfg.jwks;
    Result<std::unique_ptr<auth::ExternalIssuer>> external =
        auth::ExternalIssuer::Create(std::move(issuer), std::move(fetch));
    if (!external.ok()) {
      return Status(external.status().code(), "--jwks: " + external.status().message());
    }
    server->external_ = std::move(*external);
  }
  server->tokens_ = std::make_unique<auth::TokenCache>(*server->key_, server->external_.get());
  server->schema_changes_.Subscribe(cfg.on_schema_change);

  protocol::StreamLimits limits;
  limits.idle_timeout = cfg.stream_idle_timeout;
  limits.transaction_timeout = cfg.transaction_timeout;
  limits.query_timeout = cfg.query_timeout;
  limits.max_result_bytes = cfg.max_result_bytes;
  limits.max_streams = cfg.max_streams;
  limits.max_streams_per_namespace = cfg.max_streams_per_namespace;
  limits.max_streams_per_token = cfg.max_streams_per_token;
  limits.max_response_bytes = cfg.max_response_bytes;
  server->streams_ = std::make_unique<protocol::StreamManager>(limits, *cfg.stream_clock);
  storage::NamespaceStore* store = server->store_.get();
  server->hrana_ = std::make_unique<protocol::HranaService>(
      [store](std::string_view ns) { return store->Get(ns); }, *server->streams_,
      [store](std::string_view ns) { return store->GetIfOpen(ns); });
  server->workers_ = std::make_unique<ThreadPool>(cfg.worker_threads);
  server->socket_pool_.store(server->workers_.get());
  server->schemas_ = std::make_unique<SchemaRegistry>(
      *server->store_, [](sqlite3* db) { return schema::LoadRecordedSchema(db); });
  SchemaRegistry* schemas = server->schemas_.get();
  server->schema_changes_.Subscribe([schemas](const std::string& ns) { schemas->Invalidate(ns); });
  server->data_api_ = std::make_unique<DataApi>(
      *server->store_, *server->schemas_,
      auth::Sha256("quarry data-api cursors\n" + server->key_->PrivateKeyPem()), *cfg.stream_clock,
      cfg.max_result_bytes);

  realtime::HubOptions hub_options;
  hub_options.data_dir = cfg.data_dir;
  hub_options.log.max_age = cfg.changes_retention;
  hub_options.log.max_transactions = cfg.changes_max_transactions;
  hub_options.log.segment_bytes = cfg.changes_segment_bytes;
  hub_options.max_queued_bytes = cfg.realtime_max_queued_bytes;
  hub_options.progress_interval = cfg.realtime_progress_interval;
  hub_options.max_subscriptions_per_connection = cfg.realtime_max_subscriptions_per_connection;
  if (cfg.change_log) {
    server->hub_ = std::make_unique<realtime::Hub>(
        *server->store_,
        [schemas](const std::string& ns,
                  storage::Connection& conn) -> Result<realtime::ServedModels> {
          QUARRY_ASSIGN_OR_RETURN(std::shared_ptr<const ServedSchema> served,
                                  schemas->Get(ns, conn));
          realtime::ServedModels models;
          models.schema = &served->schema;
          models.recorded = served->recorded;
          models.generation = served->generation;
          models.keep = std::move(served);
          return models;
        },
        hub_options);
    server->fanout_.hub_.store(server->hub_.get());
    realtime::Hub* hub = server->hub_.get();
    server->schema_changes_.Subscribe([hub](const std::string& ns) { hub->NamespaceChanged(ns); });
    WebhookOptions hook_options;
    hook_options.max_hooks = cfg.max_hooks;
    hook_options.request_timeout = cfg.webhook_timeout;
    hook_options.retry_initial = cfg.webhook_retry_initial;
    hook_options.retry_max = cfg.webhook_retry_max;
    hook_options.ca_file = cfg.ca_file;
    QUARRY_ASSIGN_OR_RETURN(server->webhooks_,
                            Webhooks::Start(*server->store_, *hub, std::move(hook_options)));
    Webhooks* hooks = server->webhooks_.get();
    server->schema_changes_.Subscribe(
        [hooks](const std::string& ns) { hooks->NamespaceChanged(ns); });
  }
  server->admin_ = std::make_unique<AdminApi>(*server->store_, *server->key_,
                                              server->schema_changes_, server->webhooks_.get());

  http::ServerOptions http_options;
  http_options.address = cfg.listen_address;
  http_options.port = cfg.listen_port;
  http_options.max_body_bytes = cfg.max_body_bytes;
  http_options.io_threads = cfg.io_threads > 0 ? cfg.io_threads : static_cast<int>(UsableCpus());
  http_options.tls_cert_file = cfg.tls_cert_file;
  http_options.tls_key_file = cfg.tls_key_file;
  QuarryServer* self = server.get();
  server->websockets_ = std::make_unique<HranaWebSockets>(
      server->config_, *server->hrana_, *server->tokens_,
      [self](std::function<void()> task) {
        if (ThreadPool* pool = self->socket_pool_.load()) {
          pool->Submit(std::move(task));
        } else {
          task();
        }
      },
      *cfg.stream_clock);
  if (server->hub_) {
    server->realtime_ = std::make_unique<RealtimeEndpoint>(
        server->config_, *server->hub_, *server->tokens_, [self](std::function<void()> task) {
          if (ThreadPool* pool = self->socket_pool_.load()) {
            pool->Submit(std::move(task));
          } else {
            task();
          }
        });
  }
  server->http_ = std::make_unique<http::Server>(
      http_options,
      [self](http::Request&& request, http::Responder respond) {
        self->Handle(std::move(request), std::move(respond));
      },
      [self](const http::Request& request) {
        if (auto route = ResolveRoute(request, self->config_);
            route.ok() && route->path == RealtimeEndpoint::kWebSocketPath) {
          if (!self->realtime_) {
            http::Upgrade refused;
            refused.refusal = ErrorResponse(RealtimeOff());
            return refused;
          }
          return self->realtime_->Upgrade(request, *route);
        }
        return self->websockets_->Upgrade(request);
      });
  return server;
}

Status QuarryServer::Listen() { return http_->Listen(); }
void QuarryServer::Run() { http_->Run(); }
void QuarryServer::Stop(std::chrono::milliseconds grace) {
  http_->StopAccepting();
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (http_->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  http_->Stop();
}

void QuarryServer::Handle(http::Request&& request, http::Responder respond) {
  if (request.method == "GET" && request.path == "/health") {
    respond(TextResponse(200, ""));
    return;
  }
  if (spdlog::should_log(spdlog::level::info)) {
    // One line per request, written when it is answered.
    auto route = ResolveRoute(request, config_);
    respond = [method = request.method, path = request.path,
               ns = route.ok() && !request.path.starts_with("/admin/") ? route->ns : "-",
               start = std::chrono::steady_clock::now(),
               respond = std::move(respond)](http::Response response) {
      spdlog::info(
          "{} {} ns={} status={} {:.1f}ms", method, path, ns, response.status,
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      respond(std::move(response));
    };
  }
  if (config_.inline_read_budget.count() > 0 && TryServeFromNetwork(request, respond)) {
    return;
  }
  auto shared = std::make_shared<http::Request>(std::move(request));
  workers_->Submit([this, shared, respond = std::move(respond)]() mutable {
    try {
      Dispatch(*shared, respond);
    } catch (const std::exception& e) {
      // The transport keeps only the first answer, so this is safe after Dispatch answered.
      spdlog::error("request {} {} failed: {}", shared->method, shared->path, e.what());
      respond(ErrorResponse(Status(ErrorCode::kInternal, "internal error")));
    }
  });
}

void QuarryServer::AddRoutes() {
  data_routes_.Add("POST", "/v1/query", DataApi::Kind::kQuery);
  data_routes_.Add("POST", "/v1/transaction", DataApi::Kind::kTransaction);
  data_routes_.Add("POST", "/v1/{model}/{op}", DataApi::Kind::kOperation);
  // Version probes need no token, as with sqld.
  for (const char* version : {"/v2", "/v3"}) {
    namespace_routes_.Add(
        "GET", version,
        {.needs_token = false,
         .run = [version](const http::Request&, const protocol::StreamOwner&,
                          const http::Responder& respond) {
           respond(TextResponse(
               200, std::string("Hello, this is Quarry's Hrana over HTTP API ") + (version + 1)));
         }});
  }
  for (const char* pipeline : {"/v2/pipeline", "/v3/pipeline"}) {
    namespace_routes_.Add(
        "POST", pipeline,
        {.needs_token = true,
         .run = [this](const http::Request& request, const protocol::StreamOwner& owner,
                       const http::Responder& respond) {
           hrana_->PipelineAsync(owner, request.body, [respond](Result<std::string> body) {
             respond(body.ok() ? JsonResponse(200, std::move(*body))
                               : ErrorResponse(body.status()));
           });
         }});
  }
  namespace_routes_.Add(
      "POST", "/v3/cursor",
      {.needs_token = true,
       .run = [this](const http::Request& request, const protocol::StreamOwner& owner,
                     const http::Responder& respond) {
         Result<std::string> body = hrana_->Cursor(owner, request.body);
         if (!body.ok()) {
           respond(ErrorResponse(body.status()));
           return;
         }
         http::Response response = JsonResponse(200, std::move(*body));
         response.content_type = "text/plain";
         respond(std::move(response));
       }});
  // Hrana 3 with protobuf: the same service and routes as /v3, another encoding. Errors of the
  // HTTP request itself (a malformed body, a refused token) are JSON bodies, as libSQL's
  // clients read them whatever the encoding.
  namespace_routes_.Add(
      "GET", "/v3-protobuf",
      {.needs_token = false,
       .run = [](const http::Request&, const protocol::StreamOwner&,
                 const http::Responder& respond) {
         respond(TextResponse(200, "Hello, this is Quarry's Hrana over HTTP API 3 (protobuf)"));
       }});
  namespace_routes_.Add(
      "POST", "/v3-protobuf/pipeline",
      {.needs_token = true,
       .run = [this](const http::Request& request, const protocol::StreamOwner& owner,
                     const http::Responder& respond) {
         hrana_->PipelineAsync(
             owner, request.body,
             [respond](Result<std::string> body) {
               respond(body.ok() ? ProtobufResponse(std::move(*body))
                                 : ErrorResponse(body.status()));
             },
             protocol::Encoding::kProtobuf);
       }});
  namespace_routes_.Add(
      "POST", "/v3-protobuf/cursor",
      {.needs_token = true,
       .run = [this](const http::Request& request, const protocol::StreamOwner& owner,
                     const http::Responder& respond) {
         Result<std::string> body =
             hrana_->Cursor(owner, request.body, protocol::Encoding::kProtobuf);
         respond(body.ok() ? ProtobufResponse(std::move(*body)) : ErrorResponse(body.status()));
       }});
  namespace_routes_.Add(
      "POST", "/",
      {.needs_token = true,
       .run = [this](const http::Request& request, const protocol::StreamOwner& owner,
                     const http::Responder& respond) {
         Result<std::string> body = hrana_->Legacy(owner, request.body);
         respond(body.ok() ? JsonResponse(200, std::move(*body)) : ErrorResponse(body.status()));
       }});
}

void QuarryServer::Dispatch(const http::Request& request, const http::Responder& respond) {
  const std::string& path = request.path;
  if (request.method == "GET" && path == "/version") {
    respond(TextResponse(200, std::string(kVersion)));
    return;
  }
  if (Status origin = CheckNoAuthOrigin(request, config_); !origin.ok()) {
    respond(ErrorResponse(origin));
    return;
  }
  if (path.starts_with("/admin/v1")) {
    auto claims = Authenticate(request, config_, *tokens_);
    respond(claims.ok() ? admin_->Handle(request, std::string_view(path).substr(9), *claims)
                        : ErrorResponse(claims.status()));
    return;
  }
  auto route = ResolveRoute(request, config_);
  if (!route.ok()) {
    respond(ErrorResponse(route.status()));
    return;
  }
  if (route->path == RealtimeEndpoint::kEventsPath && request.method == "GET") {
    if (!realtime_) {
      respond(ErrorResponse(RealtimeOff()));
      return;
    }
    realtime_->ServeEvents(request, *route, respond);
    return;
  }
  if (route->path.starts_with("/v1/")) {
    auto data_route = data_routes_.Find(request.method, route->path);
    if (!data_route.ok()) {
      respond(DataErrorResponse(data_route.status()));
      return;
    }
    auto claims = Authenticate(request, config_, *tokens_);
    if (!claims.ok()) {
      respond(DataErrorResponse(claims.status()));
      return;
    }
    if (!claims->Covers(route->ns)) {
      respond(DataErrorResponse(
          Status(ErrorCode::kForbidden,
                 "the token does not grant access to namespace '" + route->ns + "'")));
      return;
    }
    respond(data_api_->Handle(*data_route->handler, request, route->ns, *claims,
                              data_route->params.Get("model"), data_route->params.Get("op")));
    return;
  }
  auto found = namespace_routes_.Find(request.method, route->path);
  if (!found.ok()) {
    respond(ErrorResponse(found.status()));
    return;
  }
  protocol::StreamOwner owner;
  if (found->handler->needs_token) {
    auto admitted = Admit(request, *route);
    if (!admitted.ok()) {
      respond(ErrorResponse(admitted.status()));
      return;
    }
    owner = std::move(*admitted);
  }
  found->handler->run(request, owner, respond);
}

bool QuarryServer::TryServeFromNetwork(const http::Request& request,
                                       const http::Responder& respond) {
  if (request.method != "POST" || !request.path.ends_with("/pipeline")) {
    return false;
  }
  auto route = ResolveRoute(request, config_);
  if (!route.ok()) {
    return false;
  }
  protocol::Encoding encoding = protocol::Encoding::kJson;
  if (route->path == "/v3-protobuf/pipeline") {
    encoding = protocol::Encoding::kProtobuf;
  } else if (route->path != "/v2/pipeline" && route->path != "/v3/pipeline") {
    return false;
  }
  if (!CheckNoAuthOrigin(request, config_).ok()) {
    return false;
  }
  // Only a token verified before: verifying one may fetch an issuer's keys.
  std::optional<Result<auth::Claims>> claims = AuthenticateCached(request, config_, *tokens_);
  if (!claims || !claims->ok()) {
    return false;  // the workers' path answers the failure as it always has
  }
  auto owner = OwnerFor(**claims, request, *route);
  if (!owner.ok()) {
    return false;
  }
  auto answer = [encoding](Result<std::string> body) {
    if (!body.ok()) {
      return ErrorResponse(body.status());
    }
    return encoding == protocol::Encoding::kProtobuf ? ProtobufResponse(std::move(*body))
                                                     : JsonResponse(200, std::move(*body));
  };
  protocol::HranaService::FromNetwork served =
      hrana_->PipelineFromNetwork(*owner, request.body, encoding, config_.inline_read_budget);
  if (served.answer) {
    respond(answer(std::move(*served.answer)));
    return true;
  }
  bool lone_write = hrana_->IsLoneGroupableWrite(*owner, served.pipeline);
  std::function<void()> task = [this, owner = std::move(*owner),
                                pipeline = std::move(served.pipeline), encoding, answer, respond,
                                method = request.method, path = request.path]() mutable {
    try {
      hrana_->RunDecodedPipelineAsync(
          owner, std::move(pipeline), encoding,
          [answer, respond](Result<std::string> body) { respond(answer(std::move(body))); });
    } catch (const std::exception& e) {
      // As Handle does: only a first answer is written, so this is safe after one.
      spdlog::error("request {} {} failed: {}", method, path, e.what());
      respond(ErrorResponse(Status(ErrorCode::kInternal, "internal error")));
    }
  };
  if (lone_write) {
    SubmitWrite(std::move(task));
  } else {
    workers_->Submit(std::move(task));
  }
  return true;
}

void QuarryServer::SubmitWrite(std::function<void()> task) {
  {
    std::lock_guard lock(write_batch_mutex_);
    write_batch_.push_back(std::move(task));
    if (write_batch_scheduled_) {
      return;  // the task already scheduled takes this one too
    }
    write_batch_scheduled_ = true;
  }
  workers_->Submit([this] { RunWriteBatch(); });
}

void QuarryServer::RunWriteBatch() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(write_batch_mutex_);
    batch.swap(write_batch_);
    write_batch_scheduled_ = false;
  }
  // Each write only queues itself for its database's next group here; the groups run when
  // the batch ends. A task's failure is answered by the task (it catches), never stops others.
  storage::Database::GroupBatch group;
  for (auto& task : batch) {
    task();
  }
}

Result<protocol::StreamOwner> QuarryServer::Admit(const http::Request& request,
                                                  const Route& route) {
  QUARRY_ASSIGN_OR_RETURN(auth::Claims claims, Authenticate(request, config_, *tokens_));
  return OwnerFor(claims, request, route);
}

Result<protocol::StreamOwner> QuarryServer::OwnerFor(const auth::Claims& claims,
                                                     const http::Request& request,
                                                     const Route& route) {
  QUARRY_RETURN_IF_ERROR(
      RequireServiceToken(claims, "raw SQL needs a service token (ro, rw or admin)"));
  if (!claims.Covers(route.ns)) {
    return Status(ErrorCode::kForbidden,
                  "the token does not grant access to namespace '" + route.ns + "'");
  }
  protocol::StreamOwner owner{
      route.ns, claims.CanWrite() ? auth::SqlAccess::kReadWrite : auth::SqlAccess::kReadOnly};
  // Streams are counted, and continued, per credential: the token's digest stands for it.
  auto header = request.Header("authorization");
  owner.token_id = header ? std::to_string(std::hash<std::string_view>()(*header)) : "no-auth";
  return owner;
}

int ServeMain(const ServerConfig& config) {
  // SIGINT/SIGTERM (stop) and SIGHUP (re-read the TLS files) are taken by a dedicated thread
  // with sigwait, so they run as ordinary code rather than inside a signal handler. Threads
  // started below inherit the mask.
  sigset_t handled_signals;
  sigemptyset(&handled_signals);
  sigaddset(&handled_signals, SIGINT);
  sigaddset(&handled_signals, SIGTERM);
  sigaddset(&handled_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &handled_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Process-wide SQLite settings of the real server: a bound on SQLite's whole heap (statements
  // past it fail with SQLITE_NOMEM instead of growing the process), and temporary files (sorts
  // that spill, see PRAGMA temp_store) inside the data folder.
  if (config.max_sqlite_memory != 0) {
    sqlite3_hard_heap_limit64(static_cast<sqlite3_int64>(config.max_sqlite_memory));
  }
  {
    std::error_code ec;
    std::filesystem::path tmp = config.data_dir / "tmp";
    std::filesystem::create_directories(tmp, ec);
    if (!ec) {
      sqlite3_temp_directory = sqlite3_mprintf("%s", std::filesystem::absolute(tmp).c_str());
    }
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  auto server = QuarryServer::Create(config);
  if (!server.ok()) {
    std::cerr << "quarry serve: " << server.status().message() << "\n";
    return 1;
  }
  Status listening = (*server)->Listen();
  if (!listening.ok()) {
    std::cerr << "quarry serve: " << listening.message() << "\n";
    return 1;
  }
  QuarryServer* running = server->get();
  std::thread signal_thread([running, handled_signals, tls = !config.tls_cert_file.empty()] {
    while (true) {
      int signal = 0;
      if (sigwait(&handled_signals, &signal) != 0) {
        continue;
      }
      if (signal != SIGHUP) {
        running->Stop();
        return;
      }
      if (!tls) {
        spdlog::info("SIGHUP: nothing to reload (no --tls-cert)");
        continue;
      }
      // A renewed certificate: new connections get it; a bad file keeps the old one.
      auto reloaded = running->ReloadTls();
      if (reloaded.ok()) {
        spdlog::info("SIGHUP: TLS certificate reloaded: {}", *reloaded);
      } else {
        spdlog::error("SIGHUP: TLS certificate not reloaded, still serving the previous one: {}",
                      reloaded.status().message());
      }
    }
  });
  std::cout << "quarry: listening on " << config.listen_address << ":" << running->port() << " ("
            << (config.tls_cert_file.empty() ? "" : "HTTPS and WSS only, ") << "data folder "
            << config.data_dir.string() << (config.no_auth ? ", auth disabled" : "")
            << (config.jwks.empty() ? "" : ", user tokens of issuer " + config.jwt_issuer) << ")"
            << std::endl;
  running->Run();
  // Wake the signal thread if Run() ended for another reason.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  std::cout << "quarry: stopped" << std::endl;
  return 0;
}

}  // namespace quarry::server
