#include "core/util/check.h"

#include <cstdio>
#include <cstdlib>

#include "core/util/expected.h"

namespace lowbit {

namespace detail {
void check_failed(const char* file, int line, const char* condition, const std::string& message) {
  std::fprintf(stderr, "lowbit: internal error at %s:%d: check `%s` failed: %s\n", file, line, condition,
               message.c_str());
  std::fflush(stderr);
  std::abort();
}
}  // namespace detail

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::Io: return "I/O error";
    case ErrorCode::Format: return "format error";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::InvalidArgument: return "invalid argument";
    case ErrorCode::Cancelled: return "cancelled";
    case ErrorCode::OutOfMemory: return "out of memory";
    case ErrorCode::Device: return "device error";
  }
  return "error";
}

}  // namespace lowbit
