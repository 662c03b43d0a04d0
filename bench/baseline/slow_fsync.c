/*
 * slow_fsync: an LD_PRELOAD shim that makes every fsync/fdatasync take at least
 * SLOW_FSYNC_MS milliseconds (default 10), to stand for a slow disk (network storage, a busy
 * SSD) in the benchmark of reads' p99 while a durable writer runs (issue 8). The real call is
 * made first, then the calling thread sleeps for the rest of the delay; only that thread waits,
 * as with a real slow flush.
 *
 * Build (bench/run.sh does this):
 *   gcc -O2 -shared -fPIC -o slow_fsync.so slow_fsync.c -ldl
 * Use:
 *   SLOW_FSYNC_MS=10 LD_PRELOAD=./slow_fsync.so quarry serve ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static long delay_ns(void) {
  static long ns = -1;
  if (ns < 0) {
    const char *s = getenv("SLOW_FSYNC_MS");
    double ms = s ? atof(s) : 10.0;
    ns = ms > 0 ? (long)(ms * 1e6) : 0;
  }
  return ns;
}

static void wait_rest(const struct timespec *start) {
  long ns = delay_ns();
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long spent = (now.tv_sec - start->tv_sec) * 1000000000L + (now.tv_nsec - start->tv_nsec);
  if (spent >= ns) return;
  long left = ns - spent;
  struct timespec t = {left / 1000000000L, left % 1000000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int r = real(fd);
  wait_rest(&start);
  return r;
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int r = real(fd);
  wait_rest(&start);
  return r;
}
