#include <filesystem>

#include "client/transport.h"
#include "protocol/hrana_service.h"
#include "protocol/stream_manager.h"
#include "storage/connection.h"
#include "storage/database.h"
#include "storage/namespace_name.h"

namespace quarry::client {

namespace {

// The engine on one local file: the same HranaService as the server, with a resolver that
// knows exactly one database and serves it whatever namespace is asked for.
class LocalTransport : public Transport {
 public:
  LocalTransport(std::string url, std::shared_ptr<storage::Database> db)
      : url_(std::move(url)),
        db_(std::move(db)),
        streams_(protocol::StreamLimits{}),
        service_([db = db_](
                     std::string_view) -> Result<std::shared_ptr<storage::Database>> { return db; },
                 streams_) {}

  Result<std::string> Pipeline(std::string_view body) override {
    protocol::StreamOwner owner{std::string(storage::kDefaultNamespace),
                                auth::SqlAccess::kReadWrite};
    return service_.Pipeline(owner, body);
  }

  std::string Describe() const override { return url_; }

 private:
  std::string url_;
  std::shared_ptr<storage::Database> db_;
  protocol::StreamManager streams_;
  protocol::HranaService service_;
};

}  // namespace

Result<std::unique_ptr<Transport>> MakeLocalTransport(const ClientUrl& url) {
  std::filesystem::path path(url.file_path);
  storage::ConnectionOptions options;
  // Creates the file (and checks it is a database we can open) before serving it.
  auto first = storage::Connection::Open(path, options, /*create=*/true);
  if (!first.ok()) {
    return Status(first.status().code(),
                  "cannot open " + url.ToString() + ": " + first.status().message(),
                  first.status().sqlite_code());
  }
  first->reset();
  auto db = std::make_shared<storage::Database>(std::string(storage::kDefaultNamespace), path,
                                                options, /*max_idle_connections=*/4);
  return std::unique_ptr<Transport>(std::make_unique<LocalTransport>(url.ToString(), db));
}

}  // namespace quarry::client
