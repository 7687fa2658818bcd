// Helpers shared by the tests: where ../shared and the built binaries are, and a skip that says why.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

// Defaults compiled in by tests/CMakeLists.txt; the environment variables override them.
#ifndef LOWBIT_TEST_SHARED_DIR
#define LOWBIT_TEST_SHARED_DIR "../shared"
#endif
#ifndef LOWBIT_TEST_SOURCE_DIR
#define LOWBIT_TEST_SOURCE_DIR "."
#endif
#ifndef LOWBIT_TEST_BIN_DIR
#define LOWBIT_TEST_BIN_DIR "build/bin"
#endif

namespace lowbit::test {

inline std::filesystem::path shared_dir() {
  const char* s = std::getenv("LOWBIT_SHARED");
  return s ? std::filesystem::path(s) : std::filesystem::path(LOWBIT_TEST_SHARED_DIR);
}
inline std::filesystem::path source_dir() {
  const char* s = std::getenv("LOWBIT_SOURCE_DIR");
  return s ? std::filesystem::path(s) : std::filesystem::path(LOWBIT_TEST_SOURCE_DIR);
}
inline std::filesystem::path bin_dir() {
  const char* s = std::getenv("LOWBIT_BIN_DIR");
  return s ? std::filesystem::path(s) : std::filesystem::path(LOWBIT_TEST_BIN_DIR);
}

}  // namespace lowbit::test

// Skips the current test with a message when a file or folder of ../shared is missing.
#define LOWBIT_REQUIRE_SHARED(rel)                                                              \
  do {                                                                                          \
    if (!std::filesystem::exists(::lowbit::test::shared_dir() / (rel)))                         \
      GTEST_SKIP() << "../shared/" << (rel) << " is absent; this known-answer test needs it";   \
  } while (0)
