#pragma once

// FUZZ_CHECK: a property a fuzz target asserts about the code under test. A failure prints
// the condition and aborts, which libFuzzer (and the replay driver) report as a crash. Kept
// on in every build type, unlike assert().

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
