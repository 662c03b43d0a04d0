// The real `quarry serve` binary stopped with SIGTERM while clients are writing: it must exit 0
// with every acknowledged write on disk. (Regression: the listener was destroyed before the
// worker pool, so a shutdown under load crashed in a use-after-free.)

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "test_server.h"

namespace quarry::testing {
namespace {

// Starts `quarry serve` on an ephemeral loopback port; returns its pid and port.
pid_t StartServer(const std::filesystem::path& data, const std::filesystem::path& log, int* port) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(QUARRY_BIN, QUARRY_BIN, "serve", "--listen", "127.0.0.1:0", "--data", data.c_str(),
          "--no-auth", "--durable", static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t at = text.find("listening on 127.0.0.1:");
    if (at != std::string::npos) {
      *port = std::stoi(text.substr(at + 23));
      return pid;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

TEST(ShutdownIntegrationTest, SigtermUnderLoadExitsCleanlyAndKeepsAcknowledgedWrites) {
  TempDir dir;
  int port = 0;
  pid_t pid = StartServer(dir.path() / "data", dir.path() / "server.log", &port);
  ASSERT_GT(pid, 0) << "server did not start";
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  {
    auto setup = client::Client::Open(url, "");
    ASSERT_TRUE(setup.ok()) << setup.status().ToString();
    ASSERT_TRUE((*setup)->Execute("CREATE TABLE t(id INTEGER PRIMARY KEY, writer INTEGER)").ok());
  }

  std::atomic<int> acknowledged{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 16; ++w) {
    writers.emplace_back([&, w] {
      auto client = client::Client::Open(url, "");
      if (!client.ok()) {
        return;
      }
      while (!stop.load()) {
        auto result =
            (*client)->Execute("INSERT INTO t(writer) VALUES (" + std::to_string(w) + ")");
        if (!result.ok()) {
          return;  // the server went away mid-request: not acknowledged
        }
        acknowledged.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  stop.store(true);
  for (auto& t : writers) {
    t.join();
  }
  ASSERT_TRUE(WIFEXITED(status)) << "server died by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ASSERT_GT(acknowledged.load(), 0);

  // Every acknowledged insert is in the database.
  auto local =
      client::Client::Open("file:" + (dir.path() / "data/ns/default/data.db").string(), "");
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  auto count = (*local)->Execute("SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_GE(count->rows[0][0].integer, acknowledged.load());
}

}  // namespace
}  // namespace quarry::testing
