#include "common/blocking.h"

namespace quarry {
namespace {

thread_local const ScopedBlocking::Hooks* tls_hooks = nullptr;
thread_local int tls_depth = 0;

}  // namespace

void ScopedBlocking::InstallForThisThread(const Hooks* hooks) { tls_hooks = hooks; }

ScopedBlocking::ScopedBlocking() : hooks_(tls_depth++ == 0 ? tls_hooks : nullptr) {
  if (hooks_ != nullptr) {
    hooks_->begin(hooks_->arg);
  }
}

ScopedBlocking::~ScopedBlocking() {
  --tls_depth;
  if (hooks_ != nullptr) {
    hooks_->end(hooks_->arg);
  }
}

}  // namespace quarry
