#pragma once

// Runs the built `quarry` binary the way a user would, for integration tests.

#include <filesystem>
#include <string>
#include <vector>

namespace quarry::testing {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};

// Runs the built quarry binary in `cwd` with `stdin_text` on its standard input (never a
// TTY), without QUARRY_* variables from the environment and with HOME set to `cwd` (so a
// saved profile and the shell history belong to the test), under a 60 s timeout so a hang
// fails the test instead of blocking it.
CliResult RunCli(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                 const std::string& stdin_text = "");

}  // namespace quarry::testing
