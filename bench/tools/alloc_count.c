/*
 * alloc_count: an LD_PRELOAD shim counting a process's heap allocations, for bench/PROFILE.md's
 * allocations-per-request figures. Every call of malloc, calloc, realloc, posix_memalign,
 * aligned_alloc and memalign (C++'s operator new goes through malloc in libstdc++) adds one
 * to a counter, and free of a non-null pointer to another; a thread writes
 *   "<allocations> <frees> <bytes requested>"
 * to $ALLOC_COUNT_FILE (default /tmp/alloc_count.<pid>) every 100 ms. Read it before and
 * after a measured load and divide the difference by the requests served.
 *
 * Build and use:
 *   gcc -O2 -shared -fPIC -o alloc_count.so bench/tools/alloc_count.c -ldl -lpthread
 *   LD_PRELOAD=$PWD/alloc_count.so quarry serve ...
 *
 * The real functions are found with dlsym(RTLD_NEXT); while dlsym itself allocates (glibc's
 * dlsym may call calloc) a small static arena serves those calls.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_ulong n_alloc, n_free, n_bytes;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

static char boot_arena[65536];
static size_t boot_used;
static int resolving;

static void *boot_alloc(size_t n) {
  size_t at = (boot_used + 15) & ~(size_t)15;
  if (at + n > sizeof boot_arena) return NULL;
  boot_used = at + n;
  return boot_arena + at;
}
static int is_boot(void *p) {
  return (char *)p >= boot_arena && (char *)p < boot_arena + sizeof boot_arena;
}

static void resolve(void) {
  if (real_malloc || resolving) return;
  resolving = 1;
  real_calloc = dlsym(RTLD_NEXT, "calloc");
  real_malloc = dlsym(RTLD_NEXT, "malloc");
  real_realloc = dlsym(RTLD_NEXT, "realloc");
  real_free = dlsym(RTLD_NEXT, "free");
  real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
  real_memalign = dlsym(RTLD_NEXT, "memalign");
  resolving = 0;
}

static void count(size_t n) {
  atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&n_bytes, n, memory_order_relaxed);
}

void *malloc(size_t n) {
  resolve();
  if (!real_malloc) return boot_alloc(n);
  count(n);
  return real_malloc(n);
}
void *calloc(size_t a, size_t b) {
  resolve();
  if (!real_calloc) return boot_alloc(a * b); /* static arena: already zero */
  count(a * b);
  return real_calloc(a, b);
}
void *realloc(void *p, size_t n) {
  resolve();
  if (is_boot(p)) {
    void *q = malloc(n);
    if (q) memcpy(q, p, n);
    return q;
  }
  count(n);
  return real_realloc(p, n);
}
void free(void *p) {
  if (!p || is_boot(p)) return;
  resolve();
  atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
  real_free(p);
}
int posix_memalign(void **out, size_t align, size_t n) {
  resolve();
  count(n);
  return real_posix_memalign(out, align, n);
}
void *aligned_alloc(size_t align, size_t n) {
  resolve();
  count(n);
  return real_aligned_alloc(align, n);
}
void *memalign(size_t align, size_t n) {
  resolve();
  count(n);
  return real_memalign(align, n);
}

static void *reporter(void *arg) {
  (void)arg;
  char path[256];
  const char *f = getenv("ALLOC_COUNT_FILE");
  if (f && *f) {
    snprintf(path, sizeof path, "%s", f);
  } else {
    snprintf(path, sizeof path, "/tmp/alloc_count.%d", (int)getpid());
  }
  char tmp[300];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  for (;;) {
    FILE *out = fopen(tmp, "w");
    if (out) {
      fprintf(out, "%lu %lu %lu\n", atomic_load(&n_alloc), atomic_load(&n_free),
              atomic_load(&n_bytes));
      fclose(out);
      rename(tmp, path);
    }
    struct timespec t = {0, 100 * 1000 * 1000};
    nanosleep(&t, NULL);
  }
  return NULL;
}

__attribute__((constructor)) static void start(void) {
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_create(&t, &attr, reporter, NULL);
}
