#include "cli_runner.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>

namespace quarry::testing {

namespace {

std::string Quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

}  // namespace

CliResult RunCli(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                 const std::string& stdin_text) {
  std::filesystem::path input = cwd / ".stdin";
  std::ofstream(input) << stdin_text;
  // HOME is the working folder, so the saved profile and the shell's history are the test's.
  std::string command = "cd " + Quote(cwd.string()) + " && env -u QUARRY_URL -u QUARRY_TOKEN " +
                        "-u QUARRY_DATA -u XDG_CONFIG_HOME HOME=" + Quote(cwd.string()) +
                        " timeout 60 " + Quote(QUARRY_BIN);
  for (const auto& arg : args) {
    command += " " + Quote(arg);
  }
  command += " < " + Quote(input.string()) + " 2>&1";
  CliResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    result.output.append(buf, n);
  }
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace quarry::testing
