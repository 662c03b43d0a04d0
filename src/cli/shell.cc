// `quarry db shell`: SQL and dot commands against one database, interactively (libedit) or
// from stdin / -c.
//
// Interactive use follows sqlite3 and psql: Ctrl-C drops the line being typed (and a statement
// continued over several lines), or stops waiting for the statement that is running and opens
// a new session; Ctrl-D on an empty line leaves. History is written after every line, so it
// survives however the shell ends.

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <cwchar>

// clang-format off
#include <cstdio>
#include <editline/readline.h>
// clang-format on

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "cli/command.h"
#include "cli/connection_options.h"
#include "cli/csv.h"
#include "cli/result_printer.h"
#include "cli/sql_literal.h"
#include "cli/statement_splitter.h"
#include "client/client.h"
#include "client/url.h"
#include "common/sql_statement.h"

namespace quarry::cli {

namespace {

struct ShellOptions {
  ConnectionOptions connection;
  std::string name;
  std::string command;  // -c
  bool json = false;
};

constexpr const char* kHelp =
    "Enter SQL statements terminated by ';'. Ctrl-C cancels the line or the running\n"
    "statement; Ctrl-D or .quit leaves. Commands:\n"
    "  .tables                 list tables and views\n"
    "  .schema [TABLE]         show CREATE statements\n"
    "  .indexes [TABLE]        list indexes\n"
    "  .dump [TABLE]           the database (or one table) as SQL text\n"
    "  .read FILE              run the SQL and dot commands in FILE\n"
    "  .import FILE TABLE      insert CSV rows into TABLE (created from the header row\n"
    "                          when it does not exist)\n"
    "  .mode table|line|csv|json   output format (default table)\n"
    "  .timer on|off           print how long each statement took\n"
    "  .help                   this text\n"
    "  .quit, .exit            leave the shell\n";

// .read may nest, but not forever (a file that reads itself).
constexpr int kMaxReadDepth = 16;

// Rows per INSERT of .import and per SELECT of .dump: few round trips, small requests.
constexpr size_t kImportRowsPerStatement = 200;
constexpr int kDumpRowsPerQuery = 1000;
constexpr size_t kMaxParameters = 32766;

std::string Trim(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) {
    return "";
  }
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(start, end - start + 1));
}

// The words of a dot command; "..." or '...' keeps spaces in one word.
std::vector<std::string> SplitWords(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    if (i >= line.size()) {
      break;
    }
    std::string word;
    if (line[i] == '"' || line[i] == '\'') {
      char quote = line[i++];
      while (i < line.size() && line[i] != quote) {
        word += line[i++];
      }
      ++i;
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
        word += line[i++];
      }
    }
    words.push_back(std::move(word));
  }
  return words;
}

// SIGINT while an interactive shell runs: the handler records it and wakes a wait for a
// statement through a pipe. Installed without SA_RESTART, so libedit's read() returns and
// readline() gives up the line. One per process (a signal handler has no context argument).
class InterruptWatch {
 public:
  InterruptWatch() {
    if (pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
      fds_[0] = fds_[1] = -1;
    }
    write_fd_ = fds_[1];
    pending_ = 0;
    struct sigaction action {};
    action.sa_handler = &InterruptWatch::OnSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    sigaction(SIGINT, &action, &saved_);
  }
  ~InterruptWatch() {
    sigaction(SIGINT, &saved_, nullptr);
    write_fd_ = -1;
    for (int fd : fds_) {
      if (fd >= 0) {
        close(fd);
      }
    }
  }
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  // Whether Ctrl-C came since the last call; clears it.
  bool Take() {
    char buf[64];
    while (fds_[0] >= 0 && read(fds_[0], buf, sizeof(buf)) > 0) {
    }
    bool seen = pending_ != 0;
    pending_ = 0;
    return seen;
  }
  int fd() const { return fds_[0]; }

 private:
  static void OnSignal(int) {
    pending_ = 1;
    if (write_fd_ >= 0) {
      char byte = 1;
      [[maybe_unused]] ssize_t n = write(write_fd_, &byte, 1);
    }
  }

  static inline volatile sig_atomic_t pending_ = 0;
  static inline volatile int write_fd_ = -1;
  int fds_[2] = {-1, -1};
  struct sigaction saved_ {};
};

// A client and the stream its statements share, so BEGIN ... COMMIT typed over several lines
// runs in one transaction. Shared with the thread running a statement; a session given up by
// Ctrl-C stays with that thread until the server answers, then closes its stream (the server
// rolls back a transaction left open on it).
struct Session {
  std::unique_ptr<client::Client> client;
  client::Stream stream;
  explicit Session(std::unique_ptr<client::Client> c)
      : client(std::move(c)), stream(client->OpenStream()) {}
};

// One statement handed to a worker thread: the result, and an eventfd it signals when done.
struct Call {
  std::optional<Result<client::ResultSet>> result;
  std::atomic<bool> done{false};
  int event_fd = eventfd(0, EFD_CLOEXEC);
  ~Call() {
    if (event_fd >= 0) {
      close(event_fd);
    }
  }
};

// The watch GetcOrInterrupt reads (libedit's getc hook takes no context argument).
InterruptWatch* line_watch = nullptr;

// libedit's character source while the shell is interactive: the next character typed, decoded
// under the locale (libedit takes the returned value as a wide character), or -1, which ends
// the line, at end of input or when Ctrl-C came. Waiting on the interrupt pipe as well as the
// terminal catches a Ctrl-C that came before libedit started to read, which a read() alone
// would sleep through.
int GetcOrInterrupt(FILE* in) {
  int fd = fileno(in);
  std::mbstate_t state{};
  while (true) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {line_watch->fd(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;  // the handler has written to the pipe: the next poll sees it
      }
      return -1;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      return -1;
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
      continue;
    }
    char byte;
    ssize_t n = read(fd, &byte, 1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return -1;
    }
    wchar_t wide;
    size_t used = std::mbrtowc(&wide, &byte, 1, &state);
    if (used == static_cast<size_t>(-2)) {
      continue;  // more bytes of this character to come
    }
    if (used == static_cast<size_t>(-1)) {
      return static_cast<unsigned char>(byte);  // not valid here: the byte as it is
    }
    return static_cast<int>(wide);
  }
}

class Shell;
int RunScript(Shell& shell, std::istream& in, int depth);

class Shell {
 public:
  using Connect = std::function<Result<std::unique_ptr<client::Client>>()>;

  Shell(Connect connect, std::unique_ptr<client::Client> client, OutputMode mode)
      : connect_(std::move(connect)),
        session_(std::make_shared<Session>(std::move(client))),
        mode_(mode) {}

  bool quit() const { return quit_; }
  // Whether a statement given up with Ctrl-C still has a thread waiting on the server.
  bool abandoned_work() const { return *running_ > 0; }

  // From now on, statements run on a worker thread that Ctrl-C (seen through `watch`) can stop
  // waiting for. `watch` must outlive the shell's use.
  void SetInterruptWatch(InterruptWatch* watch) { watch_ = watch; }

  // Runs one statement and prints its result, or "Error: ..." on stderr; false on error.
  bool RunSql(const std::string& sql) {
    auto start = std::chrono::steady_clock::now();
    auto result = Execute(client::Statement(sql));
    if (!result) {
      return false;
    }
    if (!result->ok()) {
      PrintError(result->status());
      return false;
    }
    const client::ResultSet& rs = **result;
    std::cout << FormatResult(rs, mode_);
    std::string keyword = sql::FirstKeyword(sql);
    bool counted = keyword == "INSERT" || keyword == "UPDATE" || keyword == "DELETE" ||
                   keyword == "REPLACE" || keyword == "WITH";
    if (rs.columns.empty() && counted &&
        (mode_ == OutputMode::kTable || mode_ == OutputMode::kLine)) {
      std::cout << "(" << rs.rows_affected << (rs.rows_affected == 1 ? " row" : " rows")
                << " affected)\n";
    }
    if (timer_) {
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      char buf[64];
      std::snprintf(buf, sizeof(buf), "Run Time: real %.3f\n", seconds);
      std::cout << buf;
    }
    std::cout << std::flush;
    return true;
  }

  // Runs a dot command (the whole line, starting with '.'); false on error.
  bool RunDot(const std::string& line, int depth) {
    std::vector<std::string> words = SplitWords(line);
    std::string command = words.empty() ? "" : words[0];
    std::string arg = words.size() > 1 ? words[1] : "";
    if (command == ".quit" || command == ".exit") {
      quit_ = true;
      return true;
    }
    if (command == ".help") {
      std::cout << kHelp;
      return true;
    }
    if (command == ".mode") {
      if (arg == "json") {
        mode_ = OutputMode::kJson;
      } else if (arg == "table") {
        mode_ = OutputMode::kTable;
      } else if (arg == "csv") {
        mode_ = OutputMode::kCsv;
      } else if (arg == "line") {
        mode_ = OutputMode::kLine;
      } else {
        std::cerr << "Error: .mode takes table, line, csv or json\n";
        return false;
      }
      return true;
    }
    if (command == ".timer") {
      if (arg != "on" && arg != "off") {
        std::cerr << "Error: .timer takes on or off\n";
        return false;
      }
      timer_ = arg == "on";
      return true;
    }
    if (command == ".tables") {
      return PrintColumn(client::Statement(
          "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE "
          "'sqlite_%' ORDER BY name"));
    }
    if (command == ".indexes" || command == ".indices") {
      client::Statement stmt("SELECT name FROM sqlite_schema WHERE type = 'index'" +
                             std::string(arg.empty() ? "" : " AND tbl_name = ?") +
                             " ORDER BY name");
      if (!arg.empty()) {
        stmt.args.push_back(client::Text(arg));
      }
      return PrintColumn(stmt);
    }
    if (command == ".schema") {
      client::Statement stmt(
          "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'" +
          std::string(arg.empty() ? "" : " AND tbl_name = ?") +
          " ORDER BY tbl_name, type DESC, name");
      if (!arg.empty()) {
        stmt.args.push_back(client::Text(arg));
      }
      auto rs = Query(stmt);
      if (!rs) {
        return false;
      }
      for (const auto& row : rs->rows) {
        std::cout << CellText(row[0]) << ";\n";
      }
      return true;
    }
    if (command == ".dump") {
      return Dump(arg);
    }
    if (command == ".read") {
      if (words.size() != 2) {
        std::cerr << "Error: usage: .read FILE\n";
        return false;
      }
      if (depth >= kMaxReadDepth) {
        std::cerr << "Error: .read nested more than " << kMaxReadDepth << " deep\n";
        return false;
      }
      std::ifstream in(arg);
      if (!in) {
        std::cerr << "Error: cannot open " << arg << ": " << std::strerror(errno) << "\n";
        return false;
      }
      return RunScript(*this, in, depth + 1) == 0;
    }
    if (command == ".import") {
      if (words.size() != 3) {
        std::cerr << "Error: usage: .import FILE TABLE\n";
        return false;
      }
      return Import(words[1], words[2]);
    }
    std::cerr << "Error: unknown command " << command << " (try .help)\n";
    return false;
  }

 private:
  // Runs `stmt` on the session; nullopt when Ctrl-C stopped the wait (already reported).
  std::optional<Result<client::ResultSet>> Execute(const client::Statement& stmt) {
    if (watch_ == nullptr) {
      return ExecuteOn(*session_, stmt);
    }
    auto call = std::make_shared<Call>();
    bool in_transaction = !session_->stream.autocommit();
    ++*running_;
    std::thread([session = session_, call, stmt, running = running_] {
      call->result = ExecuteOn(*session, stmt);
      call->done.store(true, std::memory_order_release);
      uint64_t one = 1;
      [[maybe_unused]] ssize_t n = write(call->event_fd, &one, sizeof(one));
      --*running;
    }).detach();
    while (!call->done.load(std::memory_order_acquire)) {
      pollfd fds[2] = {{call->event_fd, POLLIN, 0}, {watch_->fd(), POLLIN, 0}};
      poll(fds, 2, -1);
      if (watch_->Take()) {
        Abandon(in_transaction);
        return std::nullopt;
      }
    }
    return std::move(call->result);
  }

  // Gives up waiting for the running statement: its thread keeps the old session until the
  // server answers; the shell goes on with a new one.
  void Abandon(bool in_transaction) {
    std::cerr << "\nInterrupted: stopped waiting for the statement (the server may still "
                 "finish it, or stop it at its query time limit)"
              << (in_transaction ? "; the open transaction is abandoned and will be rolled back"
                                 : "")
              << ".\n";
    auto client = connect_();
    if (!client.ok()) {
      std::cerr << "Error: reconnecting: " << client.status().message() << "\n";
      return;
    }
    session_ = std::make_shared<Session>(std::move(*client));
  }

  static Result<client::ResultSet> ExecuteOn(Session& session, const client::Statement& stmt) {
    if (!session.stream.open()) {
      session.stream = session.client->OpenStream();
    }
    bool was_autocommit = session.stream.autocommit();
    auto result = session.stream.Execute(stmt);
    if (!result.ok() && result.status().code() == ErrorCode::kStreamExpired) {
      session.stream = session.client->OpenStream();
      if (was_autocommit) {
        // Nothing was pending on the expired session: run the statement on a new one.
        return session.stream.Execute(stmt);
      }
      return Status(ErrorCode::kStreamExpired,
                    result.status().message() +
                        " (the session was idle too long; its open transaction was rolled back)");
    }
    return result;
  }

  // Runs `stmt`, printing any error; nullopt on error or interruption.
  std::optional<client::ResultSet> Query(const client::Statement& stmt) {
    auto result = Execute(stmt);
    if (!result) {
      return std::nullopt;
    }
    if (!result->ok()) {
      PrintError(result->status());
      return std::nullopt;
    }
    return std::move(**result);
  }

  bool PrintColumn(const client::Statement& stmt) {
    auto rs = Query(stmt);
    if (!rs) {
      return false;
    }
    for (const auto& row : rs->rows) {
      std::cout << CellText(row[0]) << "\n";
    }
    return true;
  }

  // Runs `body` in a transaction of its own unless the user has one open (then inside it).
  // COMMIT when `body` succeeds, else ROLLBACK.
  bool InTransaction(const std::function<bool()>& body) {
    bool own = session_->stream.autocommit();
    if (own && !Query(client::Statement("BEGIN"))) {
      return false;
    }
    const Session* began_on = session_.get();
    bool ok = body();
    if (own && session_.get() == began_on) {  // else Ctrl-C abandoned it with its transaction
      ok = Query(client::Statement(ok ? "COMMIT" : "ROLLBACK")).has_value() && ok;
    }
    return ok;
  }

  // .dump: what sqlite3's .dump writes, read from one snapshot (a read transaction). Virtual
  // tables are written as CREATE VIRTUAL TABLE and their rows, their shadow tables skipped.
  bool Dump(const std::string& table) {
    std::string out = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n";
    bool ok = InTransaction([&] {
      client::Statement tables(
          "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL AND "
          "name NOT LIKE 'sqlite_%'" +
          std::string(table.empty() ? "" : " AND name = ?") + " ORDER BY rowid");
      if (!table.empty()) {
        tables.args.push_back(client::Text(table));
      }
      auto rs = Query(tables);
      if (!rs) {
        return false;
      }
      std::vector<std::string> virtual_tables;
      for (const auto& row : rs->rows) {
        std::string sql = CellText(row[1]);
        if (sql::FirstKeyword(sql) == "CREATE" && sql.find("VIRTUAL") != std::string::npos &&
            sql.find("VIRTUAL") < sql.find('(')) {
          virtual_tables.push_back(CellText(row[0]) + "_");
        }
      }
      for (const auto& row : rs->rows) {
        std::string name = CellText(row[0]);
        bool shadow = false;
        for (const auto& prefix : virtual_tables) {
          shadow = shadow || name.starts_with(prefix);
        }
        if (shadow) {
          continue;
        }
        out += CellText(row[1]) + ";\n";
        if (!DumpRows(name, out)) {
          return false;
        }
      }
      if (table.empty()) {
        auto seq = Query(
            client::Statement("SELECT name FROM sqlite_schema WHERE name = 'sqlite_sequence'"));
        if (!seq) {
          return false;
        }
        if (!seq->rows.empty()) {
          out += "DELETE FROM sqlite_sequence;\n";
          if (!DumpRows("sqlite_sequence", out)) {
            return false;
          }
        }
      }
      client::Statement rest(
          "SELECT sql FROM sqlite_schema WHERE type IN ('index', 'trigger', 'view') AND sql IS "
          "NOT NULL" +
          std::string(table.empty() ? "" : " AND tbl_name = ?") + " ORDER BY rowid");
      if (!table.empty()) {
        rest.args.push_back(client::Text(table));
      }
      auto others = Query(rest);
      if (!others) {
        return false;
      }
      for (const auto& row : others->rows) {
        out += CellText(row[0]) + ";\n";
      }
      return true;
    });
    if (!ok) {
      return false;
    }
    std::cout << out << "COMMIT;\n" << std::flush;
    return true;
  }

  // Appends an INSERT per row of `table`, naming the columns when some are generated (which
  // an INSERT must leave out).
  bool DumpRows(const std::string& table, std::string& out) {
    client::Statement columns(
        "SELECT name, hidden FROM pragma_table_xinfo(?) WHERE hidden IN (0, 2, 3) ORDER BY cid");
    columns.args.push_back(client::Text(table));
    auto info = Query(columns);
    if (!info) {
      return false;
    }
    std::string list;
    bool generated = false;
    for (const auto& row : info->rows) {
      if (row[1].type == client::Value::Type::kInteger && row[1].integer != 0) {
        generated = true;
        continue;
      }
      list += (list.empty() ? "" : ",") + QuoteIdentifier(CellText(row[0]));
    }
    std::string target = QuoteIdentifier(table) + (generated ? "(" + list + ")" : "");
    for (int offset = 0;; offset += kDumpRowsPerQuery) {
      auto rs = Query(client::Statement("SELECT " + list + " FROM " + QuoteIdentifier(table) +
                                        " LIMIT " + std::to_string(kDumpRowsPerQuery) + " OFFSET " +
                                        std::to_string(offset)));
      if (!rs) {
        return false;
      }
      for (const auto& row : rs->rows) {
        out += "INSERT INTO " + target + " VALUES(";
        for (size_t c = 0; c < row.size(); ++c) {
          out += (c ? "," : "") + SqlLiteral(row[c]);
        }
        out += ");\n";
      }
      if (rs->rows.size() < static_cast<size_t>(kDumpRowsPerQuery)) {
        return true;
      }
    }
  }

  // .import: CSV rows into `table`, in one transaction. A table that does not exist is created
  // from the header row (every column TEXT, as sqlite3 does); into an existing table every
  // record is a row.
  bool Import(const std::string& file, const std::string& table) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "Error: cannot open " << file << ": " << std::strerror(errno) << "\n";
      return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string csv = text.str();
    CsvReader reader(csv);
    size_t imported = 0;
    bool ok = InTransaction([&] {
      client::Statement exists("SELECT count(*) FROM pragma_table_info(?)");
      exists.args.push_back(client::Text(table));
      auto rs = Query(exists);
      if (!rs) {
        return false;
      }
      size_t width = static_cast<size_t>(rs->rows[0][0].integer);
      if (width == 0) {
        auto header = reader.Next();
        if (!header.ok() || !*header) {
          std::cerr << "Error: " << file << ": "
                    << (header.ok() ? "empty file, no header row to create " + table + " from"
                                    : header.status().message())
                    << "\n";
          return false;
        }
        std::string create = "CREATE TABLE " + QuoteIdentifier(table) + "(";
        for (size_t c = 0; c < (*header)->size(); ++c) {
          create += (c ? ", " : "") + QuoteIdentifier((**header)[c]) + " TEXT";
        }
        if (!Query(client::Statement(create + ")"))) {
          return false;
        }
        width = (*header)->size();
      }
      std::string row_marks = "(" + std::string(width * 2 - 1, '?') + ")";
      for (size_t i = 2; i + 1 < row_marks.size(); i += 2) {
        row_marks[i] = ',';
      }
      // SQLite takes at most 32766 parameters per statement.
      size_t rows_per_statement =
          std::max<size_t>(1, std::min(kImportRowsPerStatement, kMaxParameters / width));
      client::Statement insert("");
      size_t rows = 0;
      auto flush = [&] {
        if (rows == 0) {
          return true;
        }
        std::string sql = "INSERT INTO " + QuoteIdentifier(table) + " VALUES ";
        for (size_t r = 0; r < rows; ++r) {
          sql += (r ? "," : "") + row_marks;
        }
        insert.sql = sql;
        bool done = Query(insert).has_value();
        imported += rows;
        insert.args.clear();
        rows = 0;
        return done;
      };
      while (true) {
        auto record = reader.Next();
        if (!record.ok()) {
          std::cerr << "Error: " << file << ": " << record.status().message()
                    << "; nothing was imported\n";
          return false;
        }
        if (!*record) {
          break;
        }
        if ((*record)->size() != width) {
          std::cerr << "Error: " << file << ":" << reader.line() << ": expected " << width
                    << (width == 1 ? " column" : " columns") << ", found " << (*record)->size()
                    << "; nothing was imported\n";
          return false;
        }
        for (auto& field : **record) {
          insert.args.push_back(client::Text(std::move(field)));
        }
        if (++rows == rows_per_statement && !flush()) {
          return false;
        }
      }
      return flush();
    });
    if (ok) {
      std::cout << "Imported " << imported << (imported == 1 ? " row" : " rows") << " into "
                << table << ".\n";
    }
    return ok;
  }

  void PrintError(const Status& status) {
    std::cerr << "Error: " << WithCredentialHint(status.message());
    if (status.code() == ErrorCode::kSqlite) {
      std::cerr << " (" << status.WireCode() << ")";
    }
    std::cerr << "\n";
  }

  Connect connect_;
  std::shared_ptr<Session> session_;
  OutputMode mode_;
  InterruptWatch* watch_ = nullptr;
  std::shared_ptr<std::atomic<int>> running_ = std::make_shared<std::atomic<int>>(0);
  bool timer_ = false;
  bool quit_ = false;
};

// Feeds `in` line by line; stops at the first error. Returns the exit code.
int RunScript(Shell& shell, std::istream& in, int depth) {
  StatementSplitter splitter;
  std::string line;
  while (!shell.quit() && std::getline(in, line)) {
    if (!splitter.HasPending() && Trim(line).starts_with(".")) {
      if (!shell.RunDot(Trim(line), depth)) {
        return 1;
      }
      continue;
    }
    splitter.Append(line);
    splitter.Append("\n");
    for (const auto& stmt : splitter.TakeComplete()) {
      if (!shell.RunSql(stmt)) {
        return 1;
      }
    }
  }
  if (!shell.quit() && splitter.HasPending()) {
    if (!shell.RunSql(splitter.TakeRest())) {
      return 1;
    }
  }
  return 0;
}

std::string HistoryPath() {
  const char* home = std::getenv("HOME");
  return home != nullptr ? std::string(home) + "/.quarry_history" : std::string();
}

int RunInteractive(Shell& shell, const std::string& label) {
  // Set before anything calls into libedit: its first call (read_history included) sets it up.
  // libedit's own SIGINT handler would re-raise the signal and end the process.
  rl_catch_signals = 0;
  InterruptWatch watch;
  line_watch = &watch;
  rl_getc_function = GetcOrInterrupt;
  shell.SetInterruptWatch(&watch);
  std::string history = HistoryPath();
  if (!history.empty()) {
    read_history(history.c_str());
  }
  stifle_history(2000);
  std::cout << "Connected to " << label << ". Enter .help for help, .quit to leave.\n";
  StatementSplitter splitter;
  std::string prompt = label + "> ";
  std::string continuation = std::string(label.size() > 3 ? label.size() - 3 : 0, ' ') + "...> ";
  while (!shell.quit()) {
    watch.Take();
    char* raw = readline(splitter.HasPending() ? continuation.c_str() : prompt.c_str());
    if (raw == nullptr) {
      if (watch.Take()) {
        // Ctrl-C: drop the line, and the statement it continued.
        std::cout << "^C\n" << std::flush;
        splitter = StatementSplitter();
        continue;
      }
      std::cout << "\n";
      break;
    }
    // A Ctrl-C that came as the line was entered is dropped, not left to cancel its statement:
    // the user sees the statement start and may press it again.
    watch.Take();
    std::string line(raw);
    std::free(raw);
    if (!Trim(line).empty()) {
      add_history(line.c_str());
      if (!history.empty()) {
        write_history(history.c_str());
      }
    }
    if (!splitter.HasPending() && Trim(line).starts_with(".")) {
      shell.RunDot(Trim(line), 0);
      continue;
    }
    splitter.Append(line);
    splitter.Append("\n");
    for (const auto& stmt : splitter.TakeComplete()) {
      shell.RunSql(stmt);
    }
  }
  return 0;
}

int RunShell(const ShellOptions& options) {
  auto base = client::ParseClientUrl(options.connection.url);
  if (!base.ok()) {
    std::cerr << "quarry db shell: " << base.status().message() << "\n";
    return 2;
  }
  std::string url;
  std::string label;
  if (base->kind == client::ClientUrl::Kind::kFile) {
    url = base->ToString();
    label = std::filesystem::path(base->file_path).filename().string();
  } else if (!options.name.empty()) {
    url = base->Origin() + "/db/" + options.name;
    label = options.name;
  } else if (!base->ns.empty()) {
    url = base->ToString();
    label = base->ns;
  } else {
    std::cerr << "quarry db shell: name the database (quarry db shell NAME), or pass --url "
                 "file:PATH for a local file\n";
    return 2;
  }
  std::string token;
  if (base->kind == client::ClientUrl::Kind::kHttp) {
    auto resolved = ResolveAdminToken(options.connection);
    if (!resolved.ok()) {
      std::cerr << "quarry db shell: " << resolved.status().message() << "\n";
      return 1;
    }
    token = *resolved;
  }
  client::ClientOptions client_options{.http = HttpOptionsOf(options.connection)};
  Shell::Connect connect = [url, token, client_options] {
    return client::Client::Open(url, token, client_options);
  };
  auto client = connect();
  if (!client.ok()) {
    std::cerr << "quarry db shell: " << client.status().message() << "\n";
    return 1;
  }
  Shell shell(connect, std::move(*client), options.json ? OutputMode::kJson : OutputMode::kTable);
  int code = 0;
  if (!options.command.empty()) {
    std::istringstream in(options.command);
    code = RunScript(shell, in, 0);
  } else if (isatty(STDIN_FILENO) == 0) {
    code = RunScript(shell, std::cin, 0);
  } else {
    code = RunInteractive(shell, label);
  }
  if (shell.abandoned_work()) {
    // A statement given up with Ctrl-C still has a thread waiting on the server: leave
    // without running destructors under it.
    std::cout << std::flush;
    std::cerr << std::flush;
    std::_Exit(code);
  }
  return code;
}

}  // namespace

void RegisterShellCommand(CLI::App& db, ExitCode& exit_code) {
  auto* cmd = db.add_subcommand(
      "shell",
      "Interactive SQL shell on a database (reads SQL from stdin when it is not a terminal)");
  auto options = std::make_shared<ShellOptions>();
  cmd->add_option("NAME", options->name, "Database name (omit with --url file:PATH)");
  cmd->add_option("-c,--command", options->command,
                  "Run these SQL statements (and dot commands) and exit");
  cmd->add_flag("--json", options->json, "Start in JSON output mode");
  AddConnectionOptions(cmd, options->connection);
  cmd->callback([options, &exit_code] { exit_code.value = RunShell(*options); });
}

}  // namespace quarry::cli
