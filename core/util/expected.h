// Expected<T>: the result of an operation that can fail in an expected way (a bad file, an
// unsupported dtype, no Vulkan device). It carries either a value or an Error{code, message}.
// Shaped like C++23 std::expected (value(), error(), operator bool, has_value()) so that moving to
// the standard type is a rename. Messages name the file, the tensor, the offset, what was expected
// and what was found. Bugs are not Errors: they abort through LB_CHECK (core/util/check.h).
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/util/check.h"

namespace lowbit {

enum class ErrorCode {
  Io,               // a file cannot be opened, read, mapped or written
  Format,           // a file is damaged or not what it claims to be
  Unsupported,      // a valid input the project does not handle (architecture, dtype, type)
  InvalidArgument,  // a caller's option or argument is wrong
  Cancelled,        // the user cancelled the job
  OutOfMemory,      // an allocation (host or device) failed
  Device,           // the GPU failed (device lost, driver error)
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::Format;
  std::string message;
};

// Wrapper that makes `return Unexpected{...}` unambiguous, as std::unexpected does.
struct Unexpected {
  Error error;
};

inline Unexpected make_error(ErrorCode code, std::string message) {
  return Unexpected{Error{code, std::move(message)}};
}

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Expected(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT
  template <class U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Unexpected>)
  Expected(U&& value) : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    LB_CHECK(has_value(), "Expected::value() on an error: " + std::get<1>(v_).message);
    return std::get<0>(v_);
  }
  const T& value() const& {
    LB_CHECK(has_value(), "Expected::value() on an error: " + std::get<1>(v_).message);
    return std::get<0>(v_);
  }
  T&& value() && {
    LB_CHECK(has_value(), "Expected::value() on an error: " + std::get<1>(v_).message);
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    LB_CHECK(!has_value(), "Expected::error() on a value");
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Unexpected u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const { LB_CHECK(ok_, "Expected<void>::value() on an error: " + error_.message); }
  const Error& error() const {
    LB_CHECK(!ok_, "Expected::error() on a value");
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace lowbit

// Propagates the error of an Expected expression, otherwise yields nothing (for Expected<void>).
#define LB_TRY_VOID(expr)                                   \
  do {                                                      \
    auto lb_try_result_ = (expr);                           \
    if (!lb_try_result_) return ::lowbit::Unexpected{lb_try_result_.error()}; \
  } while (0)

// Binds the value of an Expected expression to `decl`, or returns its error.
#define LB_CONCAT_INNER(a, b) a##b
#define LB_CONCAT(a, b) LB_CONCAT_INNER(a, b)
#define LB_TRY_ASSIGN(decl, expr) LB_TRY_ASSIGN_IMPL(LB_CONCAT(lb_try_, __LINE__), decl, expr)
#define LB_TRY_ASSIGN_IMPL(tmp, decl, expr)                    \
  auto tmp = (expr);                                           \
  if (!tmp) return ::lowbit::Unexpected{tmp.error()};          \
  decl = std::move(tmp).value()
