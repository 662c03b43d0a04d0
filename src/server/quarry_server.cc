#include "server/quarry_server.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <thread>

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

}  // namespace

QuarryServer::QuarryServer(ServerConfig config) : config_(std::move(config)) {}

QuarryServer::~QuarryServer() {
  // Workers first: their queued tasks finish against a live engine and post their responses
  // to the (stopped, still existing) I/O loop. Then the listener, which drops those.
  workers_.reset();
  http_.reset();
  hrana_.reset();
  tokens_.reset();
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
  QUARRY_ASSIGN_OR_RETURN(server->store_, storage::NamespaceStore::Open(store_options));
  QUARRY_ASSIGN_OR_RETURN(auth::KeyPair key,
                          auth::KeyPair::LoadOrCreate(server->store_->keys_dir()));
  server->key_ = std::make_unique<auth::KeyPair>(std::move(key));
  server->tokens_ = std::make_unique<auth::TokenCache>(*server->key_);

  protocol::StreamLimits limits;
  limits.idle_timeout = cfg.stream_idle_timeout;
  limits.transaction_timeout = cfg.transaction_timeout;
  limits.query_timeout = cfg.query_timeout;
  limits.max_result_bytes = cfg.max_result_bytes;
  limits.max_streams = cfg.max_streams;
  server->streams_ = std::make_unique<protocol::StreamManager>(limits);
  storage::NamespaceStore* store = server->store_.get();
  server->hrana_ = std::make_unique<protocol::HranaService>(
      [store](std::string_view ns) { return store->Get(ns); }, *server->streams_);
  server->workers_ = std::make_unique<ThreadPool>(cfg.worker_threads);

  http::ServerOptions http_options;
  http_options.address = cfg.listen_address;
  http_options.port = cfg.listen_port;
  http_options.max_body_bytes = cfg.max_body_bytes;
  http_options.io_threads = cfg.io_threads;
  QuarryServer* self = server.get();
  server->http_ = std::make_unique<http::Server>(
      http_options, [self](http::Request request, http::Responder respond) {
        self->Handle(std::move(request), std::move(respond));
      });
  return server;
}

Status QuarryServer::Listen() { return http_->Listen(); }
void QuarryServer::Run() { http_->Run(); }
void QuarryServer::Stop(std::chrono::milliseconds grace) {
  http_->StopAccepting();
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  http_->Stop();
}

void QuarryServer::Handle(http::Request request, http::Responder respond) {
  if (request.method == "GET" && request.path == "/health") {
    respond(TextResponse(200, ""));
    return;
  }
  in_flight_.fetch_add(1);
  auto shared = std::make_shared<http::Request>(std::move(request));
  workers_->Submit([this, shared, respond = std::move(respond)]() mutable {
    http::Responder finish = [this, respond = std::move(respond)](http::Response response) {
      respond(std::move(response));
      in_flight_.fetch_sub(1);
    };
    try {
      Dispatch(*shared, finish);
    } catch (const std::exception& e) {
      spdlog::error("request {} {} failed: {}", shared->method, shared->path, e.what());
      finish(ErrorResponse(Status(ErrorCode::kInternal, "internal error")));
    }
  });
}

void QuarryServer::Dispatch(const http::Request& request, const http::Responder& respond) {
  const std::string& method = request.method;
  const std::string& path = request.path;
  if (method == "GET" && path == "/version") {
    respond(TextResponse(200, std::string(kVersion)));
    return;
  }
  if (Status origin = CheckNoAuthOrigin(request, config_); !origin.ok()) {
    respond(ErrorResponse(origin));
    return;
  }
  if (path.starts_with("/admin/v1")) {
    auto claims = Authenticate(request, config_, *tokens_);
    respond(claims.ok()
                ? HandleAdmin(request, std::string_view(path).substr(9), *claims, *store_, *key_)
                : ErrorResponse(claims.status()));
    return;
  }
  auto route = ResolveRoute(request, config_);
  if (!route.ok()) {
    respond(ErrorResponse(route.status()));
    return;
  }
  const std::string& target = route->path;
  if (method == "GET" && (target == "/v2" || target == "/v3")) {
    // Version probes need no token, as with sqld.
    respond(TextResponse(200, "Hello, this is Quarry's Hrana over HTTP API " + target.substr(1)));
    return;
  }
  auto owner = Admit(request, *route);
  if (!owner.ok()) {
    respond(ErrorResponse(owner.status()));
    return;
  }
  if (method != "POST") {
    respond(ErrorResponse(Status(ErrorCode::kNotFound, "no route " + method + " " + path)));
    return;
  }
  if (target == "/v2/pipeline" || target == "/v3/pipeline") {
    hrana_->PipelineAsync(*owner, request.body, [respond](Result<std::string> body) {
      respond(body.ok() ? JsonResponse(200, std::move(*body)) : ErrorResponse(body.status()));
    });
    return;
  }
  Result<std::string> body = Status(ErrorCode::kNotFound, "no route POST " + path);
  std::string content_type = "application/json";
  if (target == "/v3/cursor") {
    body = hrana_->Cursor(*owner, request.body);
    content_type = "text/plain";
  } else if (target == "/" || target.empty()) {
    body = hrana_->Legacy(*owner, request.body);
  }
  if (!body.ok()) {
    respond(ErrorResponse(body.status()));
    return;
  }
  http::Response response = JsonResponse(200, std::move(*body));
  response.content_type = content_type;
  respond(std::move(response));
}

Result<protocol::StreamOwner> QuarryServer::Admit(const http::Request& request,
                                                  const Route& route) {
  QUARRY_ASSIGN_OR_RETURN(auth::Claims claims, Authenticate(request, config_, *tokens_));
  if (!claims.Covers(route.ns)) {
    return Status(ErrorCode::kForbidden,
                  "the token does not grant access to namespace '" + route.ns + "'");
  }
  return protocol::StreamOwner{
      route.ns, claims.CanWrite() ? auth::SqlAccess::kReadWrite : auth::SqlAccess::kReadOnly};
}

int ServeMain(const ServerConfig& config) {
  // SIGINT/SIGTERM are taken by a dedicated thread with sigwait, so stopping runs as ordinary
  // code rather than inside a signal handler. Threads started below inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

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
  std::thread signal_thread([running, stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    if (signal != 0) {
      running->Stop();
    }
  });
  std::cout << "quarry: listening on " << config.listen_address << ":" << running->port()
            << " (data folder " << config.data_dir.string()
            << (config.no_auth ? ", auth disabled" : "") << ")" << std::endl;
  running->Run();
  // Wake the signal thread if Run() ended for another reason.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  std::cout << "quarry: stopped" << std::endl;
  return 0;
}

}  // namespace quarry::server
