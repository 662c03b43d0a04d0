#pragma once

// Webhooks: a namespace's committed changes on one model (optionally filtered by the data API's
// `where`), POSTed as JSON batches to a URL, in commit order, each batch retried with backoff
// until the receiver answers 2xx, and resumed after a restart from the last acknowledged
// sequence number (docs/realtime.md, "Webhooks").
//
// A hook is a realtime subscription with a service identity (policies do not apply; tables
// without a recorded schema can be named) whose outbox is a delivery thread: it reads the
// hub's events, cuts them into batches on transaction boundaries, signs each batch with the
// hook's secret (HMAC-SHA256 in the Quarry-Signature header) and records the acknowledged
// sequence number in <data>/ns/<name>/hooks/<id>.json (replaced atomically) before it sends
// the next batch. Delivery is at least once: a batch whose answer was lost is sent again, and
// its events' sequence numbers let the receiver drop what it has seen.
//
// While a receiver is down, the hook holds the events that arrived until the hub finds it too
// slow and resets it; once its held batches are acknowledged it resubscribes from the last
// acknowledged sequence and catches up from the change log, so nothing is skipped. When the
// change log no longer has what the hook still owes (past retention), the hook stops with that
// reason instead of skipping a change; `GET .../hooks/<id>` shows it.
//
// Thread-safe. One thread per hook (max_hooks bounds them).

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "realtime/hub.h"
#include "server/routes.h"
#include "storage/namespace_store.h"

namespace quarry::server {

struct WebhookOptions {
  // The wait after a failed delivery, doubling with each failure in a row up to retry_max.
  std::chrono::milliseconds retry_initial{1'000};
  std::chrono::milliseconds retry_max{300'000};
  // Connecting and the whole request, per attempt.
  std::chrono::milliseconds request_timeout{10'000};
  // Row changes per batch: a batch ends at the first transaction's end at or past this many
  // (so one transaction is never split).
  size_t max_batch_events = 500;
  size_t max_hooks = 100;
  // https receivers: a PEM file of certificate authorities to trust besides the system's store.
  std::string ca_file;
};

// What a hook is, as created.
struct HookDefinition {
  std::string id;
  std::string ns;
  std::string model;
  std::string url;
  boost::json::value where;  // null: every row
  std::string secret;
  int64_t created_at_ms = 0;
};

// A hook and how its delivery goes.
struct HookStatus {
  HookDefinition definition;
  uint64_t acked_seq = 0;  // the receiver acknowledged every change up to this sequence
  // "delivering" (up to date or sending), "retrying" (the last attempt failed, next at
  // next_attempt_ms), "stopped" (cannot go on without skipping changes: last_error says why).
  std::string state;
  std::string last_error;
  uint32_t failures = 0;  // failed attempts in a row
  int64_t last_success_ms = 0;
  int64_t next_attempt_ms = 0;
  size_t pending_events = 0;  // received from the hub, not yet acknowledged
};

struct CreateHookRequest {
  std::string model;
  std::string url;
  boost::json::value where;
  // Deliver changes after this sequence (within the change log's retention); none: the changes
  // committed after the hook is created.
  std::optional<uint64_t> since;
};

class Webhooks {
 public:
  // Starts the hooks recorded in every namespace's folder. `hub` and `store` must outlive it.
  static Result<std::unique_ptr<Webhooks>> Start(storage::NamespaceStore& store, realtime::Hub& hub,
                                                 WebhookOptions options);
  ~Webhooks();  // Stop()
  Webhooks(const Webhooks&) = delete;
  Webhooks& operator=(const Webhooks&) = delete;

  // kNamespaceNotFound, kInvalidArgument naming the field (url, model, where, since),
  // kResourceExhausted past max_hooks. The answer carries the secret; later ones do not need to.
  Result<HookStatus> Create(const std::string& ns, const CreateHookRequest& request);
  Result<std::vector<HookStatus>> List(const std::string& ns);
  // kNotFound when `ns` has no hook `id`.
  Result<HookStatus> Get(const std::string& ns, const std::string& id);
  Status Delete(const std::string& ns, const std::string& id);
  // The namespace was deleted or recreated: its hooks whose files are gone stop.
  void NamespaceChanged(const std::string& ns);
  // Ends every delivery thread (an in-flight request is abandoned after its timeout at most).
  void Stop();

 private:
  class Hook;
  Webhooks(storage::NamespaceStore& store, realtime::Hub& hub, WebhookOptions options);
  Status Load(const std::string& ns);

  storage::NamespaceStore& store_;
  realtime::Hub& hub_;
  const WebhookOptions options_;
  std::mutex mutex_;
  // By namespace, then id.
  std::unordered_map<std::string, std::unordered_map<std::string, std::shared_ptr<Hook>>>
      hooks_;             // GUARDED_BY(mutex_)
  size_t count_ = 0;      // GUARDED_BY(mutex_)
  bool stopped_ = false;  // GUARDED_BY(mutex_)
};

// The Quarry-Signature header of a batch: "t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" under the secret>".
std::string WebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body);

// The admin API's webhook routes (docs/http-api.md): POST and GET /namespaces/{ns}/hooks, GET and
// DELETE /namespaces/{ns}/hooks/{id}. `hooks` null (a server without a change log): every route
// says why there are none.
void AddHookRoutes(AdminRoutes& routes, Webhooks* hooks);

}  // namespace quarry::server
