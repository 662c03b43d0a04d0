// `quarry db shell` against the real server, as the built binary: dot commands and output
// modes fed on stdin, and Ctrl-C and history on a pseudo-terminal, as a person types them.

#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_runner.h"
#include "test_server.h"

namespace quarry {
namespace {

using quarry::testing::CliResult;
using quarry::testing::RunCli;
using quarry::testing::TempDir;
using quarry::testing::TestServer;

class ShellIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    ASSERT_EQ(server_.Admin("POST", "/namespaces", R"({"name": "shop"})"), 201);
  }
  CliResult Shell(const std::string& stdin_text, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"db", "shell", "shop"};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const auto& flag : server_.CliFlags()) {
      args.push_back(flag);
    }
    return RunCli(args, work_.path(), stdin_text);
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(work_.path() / name, std::ios::binary) << text;
  }

  TestServer server_;
  TempDir work_;
};

TEST_F(ShellIntegrationTest, WritesReportRowsAffected) {
  auto result = Shell(
      "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\n"
      "INSERT INTO t(v) VALUES ('a'), ('b'), ('c');\n"
      "UPDATE t SET v = 'z' WHERE id > 1;\n"
      "DELETE FROM t WHERE id = 99;\n"
      "INSERT INTO t(v) VALUES ('d') RETURNING id;\n");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("(3 rows affected)\n(2 rows affected)\n(0 rows affected)\n"),
            std::string::npos)
      << result.output;
  // CREATE TABLE reports no count, and RETURNING prints its rows instead.
  EXPECT_EQ(result.output.find("(3 rows affected)"), 0u) << result.output;
  EXPECT_NE(result.output.find("  4\n(1 row)"), std::string::npos) << result.output;
}

TEST_F(ShellIntegrationTest, ModesCsvLineAndJsonNumbers) {
  auto result = Shell(
      ".mode csv\n"
      "SELECT 1 AS id, 'a,b' AS name, NULL AS n;\n"
      ".mode line\n"
      "SELECT 1 AS id, 'Ann' AS name;\n"
      ".mode json\n"
      "SELECT 1.5 AS x, 2.0 AS y, 3 AS z;\n"
      ".mode sideways\n");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("id,name,n\n1,\"a,b\",\n"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("  id = 1\nname = Ann\n"), std::string::npos) << result.output;
  // Regression: --json and .mode json wrote 1.5E0.
  EXPECT_NE(result.output.find("[{\"x\":1.5,\"y\":2.0,\"z\":3}]\n"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("Error: .mode takes table, line, csv or json"), std::string::npos);
}

TEST_F(ShellIntegrationTest, IndexesAndTimer) {
  auto result = Shell(
      "CREATE TABLE a(x); CREATE INDEX a_x ON a(x); CREATE TABLE b(y UNIQUE);\n"
      ".indexes a\n"
      ".indexes\n"
      ".timer on\n"
      "SELECT 1;\n"
      ".timer off\n"
      "SELECT 2;\n");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("a_x\na_x\nsqlite_autoindex_b_1\n"), std::string::npos)
      << result.output;
  size_t timed = result.output.find("Run Time: real ");
  EXPECT_NE(timed, std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("Run Time", timed + 1), std::string::npos) << result.output;
}

TEST_F(ShellIntegrationTest, DumpReadsBackIntoAnotherDatabase) {
  auto made = Shell(
      "CREATE TABLE items(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, price REAL, data "
      "BLOB, total REAL GENERATED ALWAYS AS (price * 2));\n"
      "CREATE INDEX items_name ON items(name);\n"
      "CREATE VIEW cheap AS SELECT * FROM items WHERE price < 2;\n"
      "INSERT INTO items(name, price, data) VALUES ('it''s', 1.5, x'00ff'), (NULL, 2.0, "
      "NULL), ('line\nbreak', -0.25, x'');\n"
      ".dump\n");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_NE(made.output.find("INSERT INTO \"items\"(\"id\",\"name\",\"price\",\"data\") "
                             "VALUES(1,'it''s',1.5,X'00ff');"),
            std::string::npos)
      << made.output;
  std::string dump = made.output.substr(made.output.find("PRAGMA foreign_keys=OFF;"));
  Write("shop.sql", dump);

  ASSERT_EQ(server_.Admin("POST", "/namespaces", R"({"name": "copy"})"), 201);
  auto loaded = RunCli({"db", "shell", "copy", "--url", server_.url(), "--data",
                        (server_.data_dir() / "data").string()},
                       work_.path(),
                       ".read shop.sql\n"
                       ".mode json\n"
                       "SELECT id, name, price, hex(data) AS data, total FROM items ORDER BY "
                       "id;\n"
                       "SELECT count(*) AS n FROM cheap;\n"
                       "SELECT seq FROM sqlite_sequence;\n"
                       ".indexes items\n");
  ASSERT_EQ(loaded.exit_code, 0) << loaded.output;
  EXPECT_NE(loaded.output.find(
                "[{\"id\":1,\"name\":\"it's\",\"price\":1.5,\"data\":\"00FF\",\"total\":3.0},"
                "{\"id\":2,\"name\":null,\"price\":2.0,\"data\":\"\",\"total\":4.0},"
                "{\"id\":3,\"name\":\"line\\nbreak\",\"price\":-0.25,\"data\":\"\",\"total\":-0.5}"
                "]"),
            std::string::npos)
      << loaded.output;
  EXPECT_NE(loaded.output.find("[{\"n\":2}]"), std::string::npos) << loaded.output;
  EXPECT_NE(loaded.output.find("[{\"seq\":3}]"), std::string::npos) << loaded.output;
  EXPECT_NE(loaded.output.find("items_name"), std::string::npos) << loaded.output;

  auto missing = Shell(".read no-such-file.sql\n");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("cannot open no-such-file.sql"), std::string::npos);
}

TEST_F(ShellIntegrationTest, ImportCsvCreatesOrFillsATable) {
  Write("people.csv", "name,city\r\nAnn,\"Oslo, NO\"\r\n\"Bo \"\"B\"\"\",\"two\nlines\"\r\n");
  auto created = Shell(".import people.csv people\n.mode json\nSELECT * FROM people;\n");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("Imported 2 rows into people."), std::string::npos)
      << created.output;
  EXPECT_NE(created.output.find("[{\"name\":\"Ann\",\"city\":\"Oslo, NO\"},"
                                "{\"name\":\"Bo \\\"B\\\"\",\"city\":\"two\\nlines\"}]"),
            std::string::npos)
      << created.output;

  // Into an existing table every record is a row; values take the column's affinity.
  Write("nums.csv", "1,one\n2,two\n");
  auto filled = Shell(
      "CREATE TABLE nums(n INTEGER, word TEXT);\n"
      ".import nums.csv nums\n"
      "SELECT typeof(n) AS t, sum(n) AS s FROM nums;\n");
  ASSERT_EQ(filled.exit_code, 0) << filled.output;
  EXPECT_NE(filled.output.find("Imported 2 rows into nums."), std::string::npos);
  EXPECT_NE(filled.output.find(" integer | 3\n"), std::string::npos) << filled.output;

  // A ragged record imports nothing, and says where it is.
  Write("ragged.csv", "3,three\n4\n");
  auto ragged = Shell(".import ragged.csv nums\nSELECT count(*) AS c FROM nums;\n");
  EXPECT_EQ(ragged.exit_code, 1) << ragged.output;
  EXPECT_NE(ragged.output.find("ragged.csv:2: expected 2 columns, found 1; nothing was imported"),
            std::string::npos)
      << ragged.output;
  auto count = Shell(".mode csv\nSELECT count(*) AS c FROM nums;\n");
  EXPECT_NE(count.output.find("c\n2\n"), std::string::npos) << count.output;
}

bool IsPoll(long number) {
#ifdef SYS_poll
  if (number == SYS_poll) {
    return true;
  }
#endif
  return number == SYS_ppoll;
}

// The shell on a pseudo-terminal: what a person at a keyboard gets.
class PtyShell {
 public:
  PtyShell(const std::vector<std::string>& args, const std::filesystem::path& home) {
    pid_ = forkpty(&fd_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      setenv("HOME", home.c_str(), 1);
      unsetenv("XDG_CONFIG_HOME");
      unsetenv("QUARRY_URL");
      unsetenv("QUARRY_TOKEN");
      unsetenv("QUARRY_DATA");
      setenv("TERM", "dumb", 1);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(QUARRY_BIN));
      for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
      }
      argv.push_back(nullptr);
      execv(QUARRY_BIN, argv.data());
      _exit(127);
    }
  }
  ~PtyShell() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) {
      close(fd_);
    }
  }

  void Type(const std::string& keys) {
    ASSERT_EQ(write(fd_, keys.data(), keys.size()), ssize_t(keys.size()));
  }

  // Reads until `text` has appeared in the output since the last call (true), or the shell
  // ends or 30 s pass (false: a hang fails the test instead of blocking it).
  bool WaitFor(const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (true) {
      size_t at = output_.find(text, consumed_);
      if (at != std::string::npos) {
        consumed_ = at + text.size();
        return true;
      }
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0) {
        return false;
      }
      pollfd p = {fd_, POLLIN, 0};
      if (poll(&p, 1, left) <= 0) {
        continue;
      }
      char buf[4096];
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) {
        return false;
      }
      output_.append(buf, static_cast<size_t>(n));
    }
  }

  // Waits (up to 30 s, reading output meanwhile) until the shell's main thread is blocked in
  // poll(): at a prompt, for a key (libedit has set the terminal up by then, so what is typed
  // goes to it), or after a statement was entered, for its result. Keys typed before that
  // may reach the terminal while it is still in cooked mode, where Ctrl-C and Ctrl-D act on
  // the kernel's line buffer instead of the shell.
  bool WaitUntilWaiting() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in("/proc/" + std::to_string(pid_) + "/syscall");
      long number = -1;
      in >> number;
      if (IsPoll(number)) {
        return true;
      }
      pollfd p = {fd_, POLLIN, 0};
      if (poll(&p, 1, 10) > 0) {
        char buf[4096];
        ssize_t n = read(fd_, buf, sizeof(buf));
        if (n <= 0) {
          return false;
        }
        output_.append(buf, static_cast<size_t>(n));
      }
    }
    return false;
  }

  // The exit status once the shell ends (within 30 s), else -1.
  int Wait() {
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      WaitFor("\x01never\x01");  // drains output until the pty closes
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    return -1;
  }

  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string output_;
  size_t consumed_ = 0;
};

// Regression: Ctrl-C ended the shell (libedit re-raised SIGINT), losing the session, and the
// history of everything typed, since history was written only at a clean exit.
TEST(ShellPtyTest, CtrlCCancelsTheLineOrTheStatementNotTheShell) {
  // The endless statement below ends at the server's query time limit, after the test has
  // interrupted it; a short limit only keeps the server's shutdown short.
  TestServer server(
      [](server::ServerConfig& config) { config.query_timeout = std::chrono::seconds(10); });
  ASSERT_TRUE(server.ok()) << server.error();
  ASSERT_EQ(server.Admin("POST", "/namespaces", R"({"name": "shop"})"), 201);
  TempDir work;
  std::vector<std::string> args = {"db", "shell", "shop"};
  for (const auto& flag : server.CliFlags()) {
    args.push_back(flag);
  }
  PtyShell shell(args, work.path());
  ASSERT_TRUE(shell.WaitFor("shop> ")) << shell.output();
  ASSERT_TRUE(shell.WaitUntilWaiting());

  // A half-typed statement, continued on a second line, then Ctrl-C: both lines are dropped.
  shell.Type("SELECT 'dropped',\r");
  ASSERT_TRUE(shell.WaitFor("...> ")) << shell.output();
  ASSERT_TRUE(shell.WaitUntilWaiting());
  shell.Type("'still dropped'\x03");
  ASSERT_TRUE(shell.WaitFor("^C")) << shell.output();
  ASSERT_TRUE(shell.WaitFor("shop> ")) << shell.output();
  ASSERT_TRUE(shell.WaitUntilWaiting());
  shell.Type("SELECT 40 + 2 AS answer;\r");
  ASSERT_TRUE(shell.WaitFor("42")) << shell.output();
  EXPECT_EQ(shell.output().find("dropped |"), std::string::npos) << shell.output();
  ASSERT_TRUE(shell.WaitFor("shop> ")) << shell.output();
  ASSERT_TRUE(shell.WaitUntilWaiting());

  // A statement that never ends on its own: Ctrl-C stops waiting, the shell carries on.
  shell.Type(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM "
      "c;\r");
  ASSERT_TRUE(shell.WaitFor("FROM c;\r\n")) << shell.output();
  ASSERT_TRUE(shell.WaitUntilWaiting()) << shell.output();
  shell.Type("\x03");
  ASSERT_TRUE(shell.WaitFor("Interrupted")) << shell.output();
  ASSERT_TRUE(shell.WaitFor("shop> ")) << shell.output();
  ASSERT_TRUE(shell.WaitUntilWaiting());
  shell.Type("SELECT 'alive' AS still;\r");
  ASSERT_TRUE(shell.WaitFor("(1 row)")) << shell.output();

  // The history is on disk before the shell ends, however it ends.
  std::ifstream history(work.path() / ".quarry_history");
  std::stringstream file;
  file << history.rdbuf();
  // libedit's history file escapes spaces as \040.
  std::string saved = file.str();
  for (size_t at; (at = saved.find("\\040")) != std::string::npos;) {
    saved.replace(at, 4, " ");
  }
  EXPECT_NE(saved.find("SELECT 40 + 2 AS answer;"), std::string::npos) << saved;
  EXPECT_NE(saved.find("SELECT 'alive' AS still;"), std::string::npos) << saved;

  ASSERT_TRUE(shell.WaitFor("shop> ")) << shell.output();
  ASSERT_TRUE(shell.WaitUntilWaiting());
  shell.Type("\x04");
  EXPECT_EQ(shell.Wait(), 0) << shell.output();
}

}  // namespace
}  // namespace quarry
