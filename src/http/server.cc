#include "http/server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>
#include <vector>

#include "http/listener.h"
#include "http/shared_state.h"

namespace quarry::http {

namespace net = boost::asio;

namespace {

// One io_context per I/O thread, each told it has one thread (asio then skips some locking).
std::vector<std::unique_ptr<net::io_context>> MakeContexts(int threads) {
  std::vector<std::unique_ptr<net::io_context>> contexts;
  for (int i = 0; i < std::max(1, threads); ++i) {
    contexts.push_back(std::make_unique<net::io_context>(1));
  }
  return contexts;
}

std::vector<net::io_context*> Pointers(const std::vector<std::unique_ptr<net::io_context>>& all) {
  std::vector<net::io_context*> pointers;
  for (const auto& context : all) {
    pointers.push_back(context.get());
  }
  return pointers;
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options, Handler handler, UpgradeHandler upgrade)
      : contexts(MakeContexts(options.io_threads)), listener(Pointers(contexts), state) {
    state.options = std::move(options);
    state.handler = std::move(handler);
    state.upgrade = std::move(upgrade);
    for (const auto& context : contexts) {
      // A context with no connection yet must not return from run().
      work.push_back(net::make_work_guard(*context));
    }
  }
  SharedState state;
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  Listener listener;
};

Server::Server(ServerOptions options, Handler handler, UpgradeHandler upgrade)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(upgrade))) {}

Server::~Server() { Stop(); }

Status Server::Listen() {
  const ServerOptions& options = impl_->state.options;
  if (options.tls()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    options.tls_cert_file.empty()
                        ? "--tls-key needs --tls-cert (the certificate of that key)"
                        : "--tls-cert needs --tls-key (the certificate's private key)");
    }
    auto loaded = impl_->state.tls.Load(options.tls_cert_file, options.tls_key_file);
    if (!loaded.ok()) {
      return loaded.status();
    }
  }
  return impl_->listener.Listen();
}

Result<std::string> Server::ReloadTls() {
  const ServerOptions& options = impl_->state.options;
  if (!options.tls()) {
    return Status(ErrorCode::kInvalidArgument,
                  "no certificate to reload: the server was started without --tls-cert");
  }
  return impl_->state.tls.Load(options.tls_cert_file, options.tls_key_file);
}

uint16_t Server::port() const { return impl_->listener.port(); }

void Server::Run() {
  std::vector<std::thread> extra;
  for (size_t i = 1; i < impl_->contexts.size(); ++i) {
    extra.emplace_back([context = impl_->contexts[i].get()] { context->run(); });
  }
  impl_->contexts.front()->run();
  for (auto& t : extra) {
    t.join();
  }
}

void Server::StopAccepting() { impl_->listener.Close(); }

int Server::in_flight() const { return impl_->state.in_flight.load(); }

void Server::Stop() {
  impl_->listener.Close([impl = impl_.get()] {
    for (const auto& context : impl->contexts) {
      context->stop();
    }
  });
}

}  // namespace quarry::http
