#pragma once

// Helpers for the tests of the generators behind `quarry types` and `quarry jsonschema`: the
// schemas in src/cli/testdata and their expected outputs beside them.
//
// QUARRY_CLI_TEST_BLESS=1 rewrites an expected output file with the actual output instead of
// comparing (review the diff before committing it).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "schema/binder.h"
#include "schema/loader.h"

namespace quarry::cli::testing {

inline const std::filesystem::path kTestData = QUARRY_CLI_TESTDATA;

// The bound schema of testdata file `name`; a test failure (and an empty schema) when it does
// not bind.
inline schema::Schema LoadTestSchema(const std::string& name) {
  Result<schema::Schema> bound =
      schema::LoadAndBindSchema((kTestData / name).string(), schema::DiskFileReader());
  EXPECT_TRUE(bound.ok()) << bound.status().message();
  return bound.ok() ? *bound : schema::Schema{};
}

// Expects `actual` to equal testdata file `name` (or rewrites the file in bless mode).
inline void ExpectMatchesFile(const std::string& actual, const std::string& name) {
  std::filesystem::path path = kTestData / name;
  if (std::getenv("QUARRY_CLI_TEST_BLESS") != nullptr) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing expected output " << path
                  << " (run with QUARRY_CLI_TEST_BLESS=1 to write it)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str())
      << "differs from " << path << " (QUARRY_CLI_TEST_BLESS=1 rewrites it)";
}

}  // namespace quarry::cli::testing
