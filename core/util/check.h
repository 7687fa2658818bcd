// LB_CHECK: the one way a bug stops the program. It prints the file, the line, the failed
// condition and a message, then aborts. Expected failures (bad input, missing device) use
// Expected<T> instead (core/util/expected.h); LB_CHECK is for broken invariants only.
#pragma once

#include <string>

namespace lowbit::detail {
[[noreturn]] void check_failed(const char* file, int line, const char* condition, const std::string& message);
}  // namespace lowbit::detail

#define LB_CHECK(cond, msg)                                                     \
  do {                                                                          \
    if (!(cond)) [[unlikely]]                                                   \
      ::lowbit::detail::check_failed(__FILE__, __LINE__, #cond, (msg));         \
  } while (0)
