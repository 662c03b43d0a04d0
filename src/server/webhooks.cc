#include "server/webhooks.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <thread>

#include "auth/hmac.h"
#include "client/http_connection.h"
#include "common/base64.h"
#include "common/files.h"
#include "common/json_text.h"
#include "common/random.h"
#include "server/http_target.h"

namespace quarry::server {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxHookFileBytes = 1 << 20;
constexpr size_t kMaxUrlBytes = 2048;
constexpr std::string_view kHookFileSuffix = ".json";

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

fs::path HooksDir(const fs::path& data_dir, const std::string& ns) {
  return data_dir / "ns" / ns / "hooks";
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

Status Invalid(std::string_view field, std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::string(field) + ": " + std::move(message))
      .WithPath(std::string(field));
}

// Where a hook's batches go.
Result<HttpTarget> ParseTarget(std::string_view url) {
  Result<HttpTarget> target = ParseHttpTarget(url, kMaxUrlBytes);
  if (!target.ok()) {
    return Invalid("url", target.status().message());
  }
  return target;
}

json::object DefinitionJson(const HookDefinition& def) {
  return json::object{{"id", def.id},       {"namespace", def.ns},
                      {"model", def.model}, {"url", def.url},
                      {"where", def.where}, {"created_at_ms", def.created_at_ms}};
}

Result<HookDefinition> DefinitionFromJson(const json::object& object, const std::string& ns,
                                          uint64_t& acked) {
  HookDefinition def;
  def.ns = ns;
  const json::value* id = object.if_contains("id");
  const json::value* model = object.if_contains("model");
  const json::value* url = object.if_contains("url");
  const json::value* secret = object.if_contains("secret");
  const json::value* created = object.if_contains("created_at_ms");
  const json::value* seq = object.if_contains("acked_seq");
  if (id == nullptr || !id->is_string() || model == nullptr || !model->is_string() ||
      url == nullptr || !url->is_string() || secret == nullptr || !secret->is_string() ||
      created == nullptr || !created->is_int64() || seq == nullptr ||
      !(seq->is_uint64() || (seq->is_int64() && seq->get_int64() >= 0))) {
    return Status(ErrorCode::kInternal,
                  "expected id, model, url, secret, created_at_ms and acked_seq");
  }
  def.id = std::string(id->get_string());
  def.model = std::string(model->get_string());
  def.url = std::string(url->get_string());
  def.secret = std::string(secret->get_string());
  def.created_at_ms = created->get_int64();
  if (const json::value* where = object.if_contains("where")) {
    def.where = *where;
  }
  acked = seq->to_number<uint64_t>();
  return def;
}

}  // namespace

std::string WebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  std::string stamp = std::to_string(unix_seconds);
  std::string signed_text = stamp + ".";
  signed_text += body;
  return "t=" + stamp + ",v1=" + Hex(auth::HmacSha256(secret, signed_text));
}

// One hook: its definition, the events the hub handed it, and the thread that delivers them.
class Webhooks::Hook {
 public:
  Hook(HookDefinition definition, uint64_t acked, fs::path file, HttpTarget target,
       realtime::Hub& hub, const WebhookOptions& options)
      : definition_(std::move(definition)),
        file_(std::move(file)),
        target_(std::move(target)),
        hub_(hub),
        options_(options),
        state_(std::make_shared<State>()) {
    state_->acked = acked;
  }
  ~Hook() { Stop(); }

  const HookDefinition& definition() const { return definition_; }
  const fs::path& file() const { return file_; }

  // Removes the hook's file, for good: an acknowledgement in flight does not write it back.
  Status RemoveFile() {
    std::lock_guard lock(file_mutex_);
    std::error_code ec;
    fs::remove(file_, ec);
    if (ec) {
      return Status(ErrorCode::kInternal, "cannot remove " + file_.string() + ": " + ec.message());
    }
    deleted_ = true;  // only now: a hook whose file stays keeps recording
    return Status::Ok();
  }
  // The namespace went (its folder with the file): nothing is written for it any more.
  void Forget() {
    std::lock_guard lock(file_mutex_);
    deleted_ = true;
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  // Asks the thread to end; Join waits for it.
  void RequestStop() {
    {
      std::lock_guard lock(state_->mutex);
      state_->stop = true;
    }
    state_->wake.notify_all();
  }
  void Stop() {
    RequestStop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  HookStatus Snapshot() {
    HookStatus status;
    status.definition = definition_;
    std::lock_guard lock(state_->mutex);
    status.acked_seq = state_->acked;
    status.state = state_->stopped ? "stopped" : state_->failures > 0 ? "retrying" : "delivering";
    status.last_error = state_->last_error;
    status.failures = state_->failures;
    status.last_success_ms = state_->last_success_ms;
    status.next_attempt_ms = state_->failures > 0 ? state_->next_attempt_ms : 0;
    status.pending_events = state_->events.size();
    return status;
  }

  // The file's contents for an acknowledged sequence number.
  std::string FileContents(uint64_t acked) const {
    json::object object = DefinitionJson(definition_);
    object.erase("namespace");  // the folder says it
    object["secret"] = definition_.secret;
    object["acked_seq"] = acked;
    return json::serialize(object) + "\n";
  }

 private:
  struct Event {
    std::string message;  // the hub's change message
    uint64_t ends = 0;    // the transaction's sequence number when this is its last change
  };
  enum class Subscription { kNone, kWaiting, kLive, kEnded };
  // Shared with the hub's outboxes, which may outlive the hook.
  struct State {
    std::mutex mutex;
    std::condition_variable wake;
    // The subscription events are taken from; older outboxes' messages are dropped.
    uint64_t generation = 0;
    Subscription subscription = Subscription::kNone;
    bool progressed = false;  // a whole transaction arrived since subscribing
    bool ended_by_error = false;
    std::string ended_reason;
    std::string ended_code;  // a reset's code
    // The hub's latest progress mark: every transaction up to it was handled for this
    // subscription, so once nothing is held the hook may record it as acknowledged.
    uint64_t progress = 0;
    // Set once the log cannot give what the hook owes: it stops after delivering what it holds.
    std::string gone_reason;
    std::deque<Event> events;
    size_t bytes = 0;
    size_t whole = 0;  // transactions complete in `events`
    uint64_t acked = 0;
    bool stop = false;
    bool stopped = false;  // cannot go on without skipping changes
    std::string last_error;
    uint32_t failures = 0;
    int64_t last_success_ms = 0;
    int64_t next_attempt_ms = 0;
  };

  class Outbox : public realtime::Outbox {
   public:
    Outbox(std::shared_ptr<State> state, uint64_t generation)
        : state_(std::move(state)), generation_(generation) {}
    void Send(std::string_view type, uint64_t seq, std::string message) override {
      State& s = *state_;
      std::lock_guard lock(s.mutex);
      if (s.generation != generation_) {
        return;
      }
      if (type == "change") {
        s.bytes += message.size();
        s.events.push_back(Event{std::move(message), seq});
        if (seq != 0) {
          ++s.whole;
          s.progressed = true;
          s.wake.notify_all();
        }
      } else if (type == "progress") {
        s.progress = std::max(s.progress, seq);
        s.wake.notify_all();
      } else if (type == "subscribed") {
        if (s.subscription == Subscription::kWaiting) {
          s.subscription = Subscription::kLive;
          if (s.whole == 0) {
            s.failures = 0;  // the failures were the subscription's, and it is back
            s.last_error.clear();
          }
        }
      } else if (type == "reset" || type == "error") {
        End(s, type == "error", Field(message, "reason"), Field(message, "code"));
      }
    }
    size_t QueuedBytes() const override {
      std::lock_guard lock(state_->mutex);
      return state_->bytes;
    }
    void Close(std::string reason) override {
      std::lock_guard lock(state_->mutex);
      if (state_->generation == generation_) {
        End(*state_, true, std::move(reason), "");
      }
    }

   private:
    static void End(State& s, bool error, std::string reason, std::string code) {
      s.subscription = Subscription::kEnded;
      s.ended_by_error = error;
      s.ended_reason = std::move(reason);
      s.ended_code = std::move(code);
      s.wake.notify_all();
    }
    // A reset's `field` ("reason", "code"); for "reason", an error's message.
    static std::string Field(const std::string& message, std::string_view field) {
      boost::system::error_code ec;
      json::value parsed = json::parse(message, ec);
      if (!ec && parsed.is_object()) {
        if (const json::value* value = parsed.get_object().if_contains(field);
            value && value->is_string()) {
          return std::string(value->get_string());
        }
        if (field != "reason") {
          return "";
        }
        if (const json::value* error = parsed.get_object().if_contains("error");
            error && error->is_object()) {
          if (const json::value* text = error->get_object().if_contains("message");
              text && text->is_string()) {
            return std::string(text->get_string());
          }
        }
      }
      return message;
    }

    std::shared_ptr<State> state_;
    const uint64_t generation_;
  };

  void Run() {
    client::HttpOptions http_options;
    http_options.connect_timeout = options_.request_timeout;
    http_options.request_timeout = options_.request_timeout;
    http_options.ca_file = options_.ca_file;
    client::HttpConnection http(target_.host, target_.port, target_.origin, http_options);
    uint64_t connection = 0;
    State& s = *state_;
    std::unique_lock lock(s.mutex);
    while (!s.stop) {
      if (s.subscription == Subscription::kEnded) {
        DropPartialTransaction(s);
        s.subscription = Subscription::kNone;
        if (s.ended_code == "CHANGES_GONE") {
          // The log cannot give what the hook still owes: what it holds goes out, then it stops.
          s.gone_reason = s.ended_reason;
        } else if (!s.progressed && !Backoff(lock, s, s.ended_reason)) {
          break;
        }
        continue;
      }
      if (s.subscription == Subscription::kNone && s.whole == 0 && !s.gone_reason.empty()) {
        s.stopped = true;
        s.last_error = s.gone_reason;
        spdlog::error("webhook {} of namespace '{}' stopped: {}", definition_.id, definition_.ns,
                      s.gone_reason);
        s.wake.wait(lock, [&] { return s.stop; });
        break;
      }
      if (s.subscription == Subscription::kNone && s.whole == 0) {
        // Nothing held: (re)subscribe from the last acknowledged change.
        s.events.clear();
        s.bytes = 0;
        s.subscription = Subscription::kWaiting;
        s.progressed = false;
        s.progress = 0;
        uint64_t generation = ++s.generation;
        realtime::SubscribeRequest request;
        request.id = definition_.id;
        request.model = definition_.model;
        request.where = definition_.where;
        request.since = s.acked;
        lock.unlock();
        if (connection != 0) {
          hub_.Disconnect(connection);
        }
        connection = hub_.Connect(definition_.ns, query::Identity::Service(false),
                                  std::make_shared<Outbox>(state_, generation));
        hub_.Subscribe(connection, std::move(request));
        lock.lock();
        continue;
      }
      if (s.whole == 0 && s.events.empty() && s.progress > s.acked) {
        RecordProgress(lock, s);
        continue;
      }
      if (s.whole == 0) {
        s.wake.wait(lock, [&] {
          return s.stop || s.whole > 0 || s.subscription == Subscription::kEnded ||
                 (s.events.empty() && s.progress > s.acked);
        });
        continue;
      }
      Deliver(lock, s, http);
    }
    lock.unlock();
    if (connection != 0) {
      hub_.Disconnect(connection);
    }
  }

  // A reset or error may end the events in the middle of a transaction: its start is owed again.
  static void DropPartialTransaction(State& s) {
    while (!s.events.empty() && s.events.back().ends == 0) {
      s.bytes -= s.events.back().message.size();
      s.events.pop_back();
    }
  }

  // Sends one batch (whole transactions from the front) until acknowledged or stopping.
  void Deliver(std::unique_lock<std::mutex>& lock, State& s, client::HttpConnection& http) {
    // Whole transactions from the front, as many as fit in the batch size; one transaction
    // bigger than that goes alone.
    size_t count = 0;
    size_t transactions = 0;
    uint64_t last = 0;
    for (size_t i = 0; i < s.events.size(); ++i) {
      if (s.events[i].ends != 0) {
        if (transactions > 0 && i + 1 > options_.max_batch_events) {
          break;
        }
        count = i + 1;
        ++transactions;
        last = s.events[i].ends;
      }
    }
    std::string events;
    for (size_t i = 0; i < count; ++i) {
      if (i > 0) {
        events += ',';
      }
      events += s.events[i].message;
    }
    std::string body = "{\"hook\":" + JsonString(definition_.id) +
                       ",\"namespace\":" + JsonString(definition_.ns) +
                       ",\"model\":" + JsonString(definition_.model) +
                       ",\"last_seq\":" + std::to_string(last) + ",\"events\":[" + events + "]}";
    lock.unlock();
    int64_t now_ms = WallMs();
    client::HttpHeaders headers = {
        {"Quarry-Hook", definition_.id},
        {"Quarry-Signature", WebhookSignature(definition_.secret, now_ms / 1000, body)},
        {"User-Agent", "quarry-webhooks/0.1"}};
    auto response = http.Send("POST", target_.target, body, "", "application/json", headers);
    std::string failure;
    if (!response.ok()) {
      failure = response.status().message();
    } else if (response->status < 200 || response->status > 299) {
      std::string excerpt = response->body.substr(0, 200);
      failure = target_.origin + " answered " + std::to_string(response->status) +
                (excerpt.empty() ? "" : ": " + excerpt);
    }
    // Acknowledged but not recorded: sent again after a restart, which the receiver's check of
    // sequence numbers absorbs.
    Status saved = failure.empty() ? Record(last) : Status::Ok();
    lock.lock();
    if (!failure.empty()) {
      Backoff(lock, s, failure);
      return;
    }
    for (size_t i = 0; i < count; ++i) {
      s.bytes -= s.events.front().message.size();
      s.events.pop_front();
    }
    s.whole -= transactions;
    s.acked = last;
    s.failures = 0;
    s.last_error = saved.ok() ? "" : saved.message();
    s.last_success_ms = now_ms;
  }

  // Nothing is held and the hub says every transaction up to s.progress was handled: records
  // that as acknowledged, so a quiet hook's resume point keeps up with the log's retention.
  void RecordProgress(std::unique_lock<std::mutex>& lock, State& s) {
    uint64_t progress = s.progress;
    uint64_t generation = s.generation;
    lock.unlock();
    Status saved = Record(progress);
    lock.lock();
    if (!saved.ok()) {
      s.last_error = saved.message();
      s.progress = s.acked;  // tried again at the next mark
      return;
    }
    if (s.generation == generation && s.acked < progress) {
      s.acked = progress;
    }
  }

  // Writes the file with `acked` (atomically), unless the hook was deleted meanwhile.
  Status Record(uint64_t acked) {
    std::lock_guard lock(file_mutex_);
    if (deleted_) {
      return Status::Ok();
    }
    Status saved = ReplaceFile(file_, FileContents(acked), 0600);
    if (!saved.ok()) {
      spdlog::error("webhook {}: cannot record the acknowledged sequence {}: {}", definition_.id,
                    acked, saved.message());
      return Status(saved.code(), "cannot record the acknowledged sequence " +
                                      std::to_string(acked) + ": " + saved.message());
    }
    return Status::Ok();
  }

  // Counts a failure and waits before the next attempt; false when stopping.
  bool Backoff(std::unique_lock<std::mutex>& lock, State& s, const std::string& reason) {
    ++s.failures;
    s.last_error = reason;
    auto delay = options_.retry_initial;
    for (uint32_t i = 1; i < s.failures && delay < options_.retry_max; ++i) {
      delay *= 2;
    }
    delay = std::min(delay, options_.retry_max);
    s.next_attempt_ms = WallMs() + delay.count();
    if (s.failures == 1 || s.failures % 10 == 0) {
      spdlog::warn("webhook {} of namespace '{}': attempt {} failed ({}); next in {} ms",
                   definition_.id, definition_.ns, s.failures, reason, delay.count());
    }
    return !s.wake.wait_for(lock, delay, [&] { return s.stop; });
  }

  const HookDefinition definition_;
  const fs::path file_;
  const HttpTarget target_;
  realtime::Hub& hub_;
  const WebhookOptions& options_;
  std::shared_ptr<State> state_;
  std::mutex file_mutex_;
  bool deleted_ = false;  // GUARDED_BY(file_mutex_)
  std::thread thread_;
};

Webhooks::Webhooks(storage::NamespaceStore& store, realtime::Hub& hub, WebhookOptions options)
    : store_(store), hub_(hub), options_(std::move(options)) {}

Webhooks::~Webhooks() { Stop(); }

Result<std::unique_ptr<Webhooks>> Webhooks::Start(storage::NamespaceStore& store,
                                                  realtime::Hub& hub, WebhookOptions options) {
  std::unique_ptr<Webhooks> hooks(new Webhooks(store, hub, std::move(options)));
  for (const auto& info : store.List()) {
    QUARRY_RETURN_IF_ERROR(hooks->Load(info.name));
  }
  return hooks;
}

Status Webhooks::Load(const std::string& ns) {
  fs::path dir = HooksDir(store_.data_dir(), ns);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::Ok();
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    std::string name = path.filename().string();
    if (name.find(".tmp-") != std::string::npos) {
      std::error_code ignored;
      fs::remove(path, ignored);  // a write that a crash interrupted
      continue;
    }
    if (path.extension() != kHookFileSuffix) {
      continue;
    }
    auto contents = ReadSmallFile(path, kMaxHookFileBytes, "hook file");
    if (!contents.ok()) {
      return contents.status();
    }
    boost::system::error_code parse_error;
    json::value parsed = json::parse(*contents, parse_error);
    uint64_t acked = 0;
    Result<HookDefinition> def =
        parse_error || !parsed.is_object()
            ? Result<HookDefinition>(Status(ErrorCode::kInternal, "not a JSON object"))
            : DefinitionFromJson(parsed.get_object(), ns, acked);
    Result<HttpTarget> target = def.ok() ? ParseTarget(def->url) : Result<HttpTarget>(def.status());
    if (!target.ok()) {
      return Status(ErrorCode::kInternal, "hook file " + path.string() + ": " +
                                              target.status().message() +
                                              " (fix or remove the file)");
    }
    auto hook =
        std::make_shared<Hook>(std::move(*def), acked, path, std::move(*target), hub_, options_);
    std::lock_guard lock(mutex_);
    hooks_[ns][hook->definition().id] = hook;
    ++count_;
    hook->Start();
  }
  if (ec) {
    return Status(ErrorCode::kInternal, "cannot list " + dir.string() + ": " + ec.message());
  }
  return Status::Ok();
}

Result<HookStatus> Webhooks::Create(const std::string& ns, const CreateHookRequest& request) {
  QUARRY_ASSIGN_OR_RETURN(HttpTarget target, ParseTarget(request.url));
  if (request.model.empty()) {
    return Invalid("model",
                   "must name a model (or, for a table without a recorded schema, a "
                   "table)");
  }
  if (!request.where.is_null() && !request.where.is_object()) {
    return Invalid("where", "expected an object (the data API's where)");
  }
  if (!store_.Exists(ns)) {
    return Status(ErrorCode::kNamespaceNotFound, "namespace '" + ns + "' does not exist");
  }
  realtime::SubscribeRequest check;
  check.id = "hook";
  check.model = request.model;
  check.where = request.where;
  QUARRY_RETURN_IF_ERROR(hub_.Check(ns, query::Identity::Service(false), check));
  QUARRY_ASSIGN_OR_RETURN(realtime::Hub::LogRange range, hub_.Range(ns));
  uint64_t since = request.since.value_or(range.last);
  if (since > range.last) {
    return Invalid("since", std::to_string(since) +
                                " is ahead of this namespace's newest change (" +
                                std::to_string(range.last) + ")");
  }
  if (since + 1 < range.first) {
    return Invalid("since", "changes after " + std::to_string(since) +
                                " are past the change log's retention (the oldest kept is " +
                                std::to_string(range.first) + ")");
  }

  HookDefinition def;
  def.id = "hook_" + Base64UrlEncode(RandomBytes(9));
  def.ns = ns;
  def.model = request.model;
  def.url = request.url;
  def.where = request.where;
  def.secret = "whsec_" + RandomToken();
  def.created_at_ms = WallMs();
  fs::path dir = HooksDir(store_.data_dir(), ns);
  fs::path file = dir / (def.id + std::string(kHookFileSuffix));

  std::lock_guard lock(mutex_);
  if (stopped_) {
    return Status(ErrorCode::kUnavailable, "the server is stopping");
  }
  if (count_ >= options_.max_hooks) {
    return Status(ErrorCode::kTooManyStreams,
                  "the server has " + std::to_string(count_) +
                      " webhooks, its limit (--max-hooks); delete one first");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Status(ErrorCode::kInternal, "cannot create " + dir.string() + ": " + ec.message());
  }
  auto hook = std::make_shared<Hook>(def, since, file, std::move(target), hub_, options_);
  QUARRY_ASSIGN_OR_RETURN(Created created, CreateFileOnce(file, hook->FileContents(since), 0600));
  if (created != Created::kCreated) {
    return Status(ErrorCode::kInternal, "hook id " + def.id + " collided; try again");
  }
  hooks_[ns][def.id] = hook;
  ++count_;
  hook->Start();
  return hook->Snapshot();
}

Result<std::vector<HookStatus>> Webhooks::List(const std::string& ns) {
  if (!store_.Exists(ns)) {
    return Status(ErrorCode::kNamespaceNotFound, "namespace '" + ns + "' does not exist");
  }
  std::vector<HookStatus> out;
  std::lock_guard lock(mutex_);
  if (auto found = hooks_.find(ns); found != hooks_.end()) {
    for (const auto& [id, hook] : found->second) {
      out.push_back(hook->Snapshot());
    }
  }
  std::sort(out.begin(), out.end(), [](const HookStatus& a, const HookStatus& b) {
    return a.definition.created_at_ms != b.definition.created_at_ms
               ? a.definition.created_at_ms < b.definition.created_at_ms
               : a.definition.id < b.definition.id;
  });
  return out;
}

Result<HookStatus> Webhooks::Get(const std::string& ns, const std::string& id) {
  std::lock_guard lock(mutex_);
  if (auto found = hooks_.find(ns); found != hooks_.end()) {
    if (auto hook = found->second.find(id); hook != found->second.end()) {
      return hook->second->Snapshot();
    }
  }
  return Status(ErrorCode::kNotFound, "namespace '" + ns + "' has no webhook '" + id + "'");
}

Status Webhooks::Delete(const std::string& ns, const std::string& id) {
  std::shared_ptr<Hook> hook;
  {
    std::lock_guard lock(mutex_);
    auto found = hooks_.find(ns);
    if (found == hooks_.end() || found->second.count(id) == 0) {
      return Status(ErrorCode::kNotFound, "namespace '" + ns + "' has no webhook '" + id + "'");
    }
    hook = found->second[id];
    QUARRY_RETURN_IF_ERROR(hook->RemoveFile());
    found->second.erase(id);
    --count_;
  }
  QUARRY_RETURN_IF_ERROR(SyncDirectory(hook->file().parent_path()));
  // Joined outside the lock: an attempt in flight ends within the request timeout.
  hook->Stop();
  return Status::Ok();
}

void Webhooks::NamespaceChanged(const std::string& ns) {
  std::vector<std::shared_ptr<Hook>> gone;
  {
    std::lock_guard lock(mutex_);
    auto found = hooks_.find(ns);
    if (found == hooks_.end()) {
      return;
    }
    const bool exists = store_.Exists(ns);
    for (auto it = found->second.begin(); it != found->second.end();) {
      std::error_code ec;
      if (!exists || !fs::exists(it->second->file(), ec)) {
        it->second->Forget();
        gone.push_back(it->second);
        it = found->second.erase(it);
        --count_;
      } else {
        ++it;
      }
    }
  }
  for (auto& hook : gone) {
    hook->RequestStop();
  }
  for (auto& hook : gone) {
    hook->Stop();
  }
}

void Webhooks::Stop() {
  std::vector<std::shared_ptr<Hook>> all;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (auto& [ns, hooks] : hooks_) {
      for (auto& [id, hook] : hooks) {
        all.push_back(hook);
      }
    }
    hooks_.clear();
    count_ = 0;
  }
  for (auto& hook : all) {
    hook->RequestStop();
  }
  for (auto& hook : all) {
    hook->Stop();
  }
}

namespace {

json::object StatusJson(const HookStatus& status) {
  json::object object = DefinitionJson(status.definition);
  object["acked_seq"] = status.acked_seq;
  object["state"] = status.state;
  object["failures"] = status.failures;
  object["last_error"] =
      status.last_error.empty() ? json::value(nullptr) : json::value(status.last_error);
  object["last_success_ms"] =
      status.last_success_ms == 0 ? json::value(nullptr) : json::value(status.last_success_ms);
  object["next_attempt_ms"] =
      status.next_attempt_ms == 0 ? json::value(nullptr) : json::value(status.next_attempt_ms);
  object["pending_events"] = status.pending_events;
  return object;
}

Result<CreateHookRequest> ParseCreate(const json::object& body) {
  CreateHookRequest request;
  for (const auto& [key, value] : body) {
    if (key == "model" || key == "url") {
      if (!value.is_string()) {
        return Invalid(key, "expected a string");
      }
      (key == "model" ? request.model : request.url) = std::string(value.get_string());
    } else if (key == "where") {
      request.where = value;
    } else if (key == "since") {
      if (!(value.is_uint64() || (value.is_int64() && value.get_int64() >= 0))) {
        return Invalid("since", "expected a sequence number (an integer >= 0)");
      }
      request.since = value.to_number<uint64_t>();
    } else {
      return Invalid(key, "unknown field; expected model, url, where or since");
    }
  }
  if (request.url.empty()) {
    return Invalid("url", "required: where to POST the changes");
  }
  return request;
}

}  // namespace

void AddHookRoutes(AdminRoutes& routes, Webhooks* hooks) {
  auto unavailable = [] {
    return ErrorResponse(Status(ErrorCode::kConflict,
                                "webhooks need the change log, and this server runs with "
                                "--no-change-log"));
  };
  routes.Add("POST", "/namespaces/{ns}/hooks",
             [hooks, unavailable](const http::Request& request, const PathParams& params) {
               if (hooks == nullptr) {
                 return unavailable();
               }
               auto body = ParseObjectBody(request);
               if (!body.ok()) {
                 return ErrorResponse(body.status());
               }
               auto create = ParseCreate(*body);
               if (!create.ok()) {
                 return ErrorResponse(create.status());
               }
               auto created = hooks->Create(params.Get("ns"), *create);
               if (!created.ok()) {
                 return ErrorResponse(created.status());
               }
               json::object answer = StatusJson(*created);
               answer["secret"] = created->definition.secret;
               return JsonResponse(201, answer);
             });
  routes.Add("GET", "/namespaces/{ns}/hooks",
             [hooks, unavailable](const http::Request&, const PathParams& params) {
               if (hooks == nullptr) {
                 return unavailable();
               }
               auto list = hooks->List(params.Get("ns"));
               if (!list.ok()) {
                 return ErrorResponse(list.status());
               }
               json::array out;
               for (const HookStatus& status : *list) {
                 out.push_back(StatusJson(status));
               }
               return JsonResponse(200, json::object{{"hooks", std::move(out)}});
             });
  routes.Add("GET", "/namespaces/{ns}/hooks/{id}",
             [hooks, unavailable](const http::Request&, const PathParams& params) {
               if (hooks == nullptr) {
                 return unavailable();
               }
               auto status = hooks->Get(params.Get("ns"), params.Get("id"));
               if (!status.ok()) {
                 return ErrorResponse(status.status());
               }
               return JsonResponse(200, StatusJson(*status));
             });
  routes.Add("DELETE", "/namespaces/{ns}/hooks/{id}",
             [hooks, unavailable](const http::Request&, const PathParams& params) {
               if (hooks == nullptr) {
                 return unavailable();
               }
               Status deleted = hooks->Delete(params.Get("ns"), params.Get("id"));
               if (!deleted.ok()) {
                 return ErrorResponse(deleted);
               }
               return JsonResponse(200, json::object{{"deleted", params.Get("id")}});
             });
}

}  // namespace quarry::server
