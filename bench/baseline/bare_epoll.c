/*
 * bare_epoll: the per-core limit for Quarry's point-select benchmark (issue 8).
 *
 * One thread, one epoll loop, non-blocking sockets, HTTP/1.1 keep-alive, one prepared SQLite
 * statement (SELECT id, v FROM kv WHERE id = ?). For every POST it finds the id in the body
 * (the first "value":"<digits>" of the Hrana pipeline the wrk script sends), runs the
 * statement and answers a Hrana-shaped JSON pipeline response with that row's values, in the
 * same shape Quarry answers (cols, rows, affected_row_count, ...; query_duration_ms fixed at 0).
 * It does no JSON parsing, no routing, no auth and no streams: it is what the work costs when
 * nothing but the socket, the HTTP framing and SQLite is done, i.e. the floor to compare with.
 *
 * Build (bench/run.sh does this):
 *   gcc -O2 -o bare_epoll bare_epoll.c -lsqlite3
 * Run:
 *   bare_epoll --port 8082 --db FILE [--rows N]
 * With --rows N it (re)creates kv(id INTEGER PRIMARY KEY, v TEXT) holding ids 1..N with
 * values 'value-<id>' (the harness's seed) and an empty log table. Prints
 * "bare_epoll listening on 127.0.0.1:PORT" when ready. Listens on 127.0.0.1 only.
 *
 * A request whose body holds no integer value gets a Hrana error result (HTTP 200, as Quarry
 * answers a failed statement); an id with no row gets an empty rows array.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_CAP (64 * 1024)
#define OUT_CAP (64 * 1024)
#define MAX_EVENTS 256

struct conn {
  int fd;
  size_t in_len;
  size_t out_len, out_off;
  char in[IN_CAP];
  char out[OUT_CAP];
};

static sqlite3 *db;
static sqlite3_stmt *select_stmt;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "bare_epoll: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static void exec_sql(const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) die(sql, err);
}

/* Appends s (len n) to out as JSON string content (quotes not included). */
static size_t json_escape(char *out, size_t cap, const unsigned char *s, int n) {
  size_t o = 0;
  for (int i = 0; i < n && o + 6 < cap; i++) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c < 0x20) {
      o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
    } else {
      out[o++] = (char)c;
    }
  }
  return o;
}

/* Writes the HTTP response for one request body into c->out (appending, for pipelining). */
static void answer(struct conn *c, const char *body, size_t body_len) {
  static const char kKey[] = "\"value\":\"";
  char json[4096];
  size_t j = 0;
  const char *p = memmem(body, body_len, kKey, sizeof kKey - 1);
  long long id = 0;
  int have_id = 0;
  if (p) {
    p += sizeof kKey - 1;
    const char *end = body + body_len;
    int neg = 0;
    if (p < end && *p == '-') {
      neg = 1;
      p++;
    }
    while (p < end && *p >= '0' && *p <= '9') {
      id = id * 10 + (*p++ - '0');
      have_id = 1;
    }
    if (neg) id = -id;
  }
  if (!have_id) {
    j = (size_t)snprintf(json, sizeof json,
                         "{\"baton\":null,\"base_url\":null,\"results\":[{\"type\":\"error\","
                         "\"error\":{\"message\":\"no integer argument\",\"code\":"
                         "\"ARGS_INVALID\"}},{\"type\":\"ok\",\"response\":{\"type\":\"close\"}}]}");
  } else {
    sqlite3_bind_int64(select_stmt, 1, id);
    j = (size_t)snprintf(json, sizeof json,
                         "{\"baton\":null,\"base_url\":null,\"results\":[{\"type\":\"ok\","
                         "\"response\":{\"type\":\"execute\",\"result\":{\"cols\":[{\"name\":"
                         "\"id\",\"decltype\":\"INTEGER\"},{\"name\":\"v\",\"decltype\":"
                         "\"TEXT\"}],\"rows\":[");
    int rows = 0;
    while (sqlite3_step(select_stmt) == SQLITE_ROW) {
      const unsigned char *v = sqlite3_column_text(select_stmt, 1);
      int vn = sqlite3_column_bytes(select_stmt, 1);
      j += (size_t)snprintf(json + j, sizeof json - j,
                            "%s[{\"type\":\"integer\",\"value\":\"%lld\"},{\"type\":\"text\","
                            "\"value\":\"",
                            rows ? "," : "", (long long)sqlite3_column_int64(select_stmt, 0));
      j += json_escape(json + j, sizeof json - j - 64, v, vn);
      j += (size_t)snprintf(json + j, sizeof json - j, "\"}]");
      rows++;
    }
    sqlite3_reset(select_stmt);
    j += (size_t)snprintf(json + j, sizeof json - j,
                          "],\"affected_row_count\":0,\"last_insert_rowid\":null,\"rows_read\":%d,"
                          "\"rows_written\":0,\"query_duration_ms\":0}}},{\"type\":\"ok\","
                          "\"response\":{\"type\":\"close\"}}]}",
                          rows);
  }
  if (c->out_len + j + 256 > OUT_CAP) return; /* the client pipelines too far ahead: drop */
  c->out_len += (size_t)snprintf(c->out + c->out_len, OUT_CAP - c->out_len,
                                 "HTTP/1.1 200 OK\r\nServer: bare_epoll\r\nContent-Type: "
                                 "application/json\r\nContent-Length: %zu\r\n\r\n",
                                 j);
  memcpy(c->out + c->out_len, json, j);
  c->out_len += j;
}

/* Case-insensitive search for "content-length:" inside the header block. */
static long content_length(const char *head, size_t n) {
  static const char kName[] = "content-length:";
  size_t k = sizeof kName - 1;
  for (size_t i = 0; i + k <= n; i++) {
    if (strncasecmp(head + i, kName, k) == 0) {
      return strtol(head + i + k, NULL, 10);
    }
  }
  return 0;
}

/* Answers every complete request in c->in; returns -1 when the connection must close. */
static int process(struct conn *c) {
  size_t off = 0;
  while (off < c->in_len) {
    const char *start = c->in + off;
    const char *hend = memmem(start, c->in_len - off, "\r\n\r\n", 4);
    if (!hend) break;
    size_t head_len = (size_t)(hend - start) + 4;
    long body_len = content_length(start, head_len);
    if (body_len < 0 || head_len + (size_t)body_len > IN_CAP) return -1;
    if (off + head_len + (size_t)body_len > c->in_len) break;
    answer(c, start + head_len, (size_t)body_len);
    off += head_len + (size_t)body_len;
  }
  if (off > 0) {
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
  }
  return c->in_len == IN_CAP ? -1 : 0;
}

static int flush_out(struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 1;
      if (errno == EINTR) continue;
      return -1;
    }
    c->out_off += (size_t)w;
  }
  c->out_off = c->out_len = 0;
  return 0;
}

int main(int argc, char **argv) {
  int port = 8082;
  long rows = -1;
  const char *db_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
      db_path = argv[++i];
    } else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
      rows = atol(argv[++i]);
    } else {
      fprintf(stderr, "usage: bare_epoll --port N --db FILE [--rows N]\n");
      return 2;
    }
  }
  if (!db_path) die("--db is required", NULL);
  signal(SIGPIPE, SIG_IGN);

  if (sqlite3_open(db_path, &db) != SQLITE_OK) die("cannot open", db_path);
  exec_sql("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
  if (rows >= 0) {
    char seed[512];
    snprintf(seed, sizeof seed,
             "DROP TABLE IF EXISTS kv; DROP TABLE IF EXISTS log;"
             "CREATE TABLE kv(id INTEGER PRIMARY KEY, v TEXT);"
             "CREATE TABLE log(id INTEGER PRIMARY KEY, v TEXT);"
             "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<%ld) "
             "INSERT INTO kv SELECT x, 'value-'||x FROM c",
             rows);
    exec_sql(seed);
  }
  if (sqlite3_prepare_v3(db, "SELECT id, v FROM kv WHERE id = ?", -1, SQLITE_PREPARE_PERSISTENT,
                         &select_stmt, NULL) != SQLITE_OK) {
    die("prepare", sqlite3_errmsg(db));
  }

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind", strerror(errno));
  if (listen(lfd, 1024) < 0) die("listen", strerror(errno));

  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  printf("bare_epoll listening on 127.0.0.1:%d db=%s\n", port, db_path);
  fflush(stdout);

  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c == NULL) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = calloc(1, sizeof *nc);
          if (!nc) {
            close(fd);
            continue;
          }
          nc->fd = fd;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      int closing = 0;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        /* Level-triggered: one read per wake-up; epoll reports what is left. */
        ssize_t r = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        if (r > 0) {
          c->in_len += (size_t)r;
          if (process(c) < 0) closing = 1;
        } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          closing = 1;
        }
      }
      if (!closing && c->out_len > 0) {
        int f = flush_out(c);
        if (f < 0) {
          closing = 1;
        } else {
          struct epoll_event cev = {.events = f ? (EPOLLIN | EPOLLOUT) : EPOLLIN, .data.ptr = c};
          if (f || (events[i].events & EPOLLOUT)) epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
        }
      } else if (!closing && (events[i].events & EPOLLOUT)) {
        struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
      }
      if (closing) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        free(c);
      }
    }
  }
}
