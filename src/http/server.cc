#include "http/server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>
#include <vector>

#include "http/listener.h"
#include "http/shared_state.h"

namespace quarry::http {

struct Server::Impl {
  Impl(ServerOptions options, Handler handler, UpgradeHandler upgrade) : listener(ioc, state) {
    state.options = std::move(options);
    state.handler = std::move(handler);
    state.upgrade = std::move(upgrade);
  }
  SharedState state;
  boost::asio::io_context ioc;
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
  for (int i = 1; i < impl_->state.options.io_threads; ++i) {
    extra.emplace_back([this] { impl_->ioc.run(); });
  }
  impl_->ioc.run();
  for (auto& t : extra) {
    t.join();
  }
}

void Server::StopAccepting() { impl_->listener.Close(); }

int Server::in_flight() const { return impl_->state.in_flight.load(); }

void Server::Stop() {
  impl_->listener.Close([impl = impl_.get()] { impl->ioc.stop(); });
}

}  // namespace quarry::http
