// Helpers of the tokenizer tests: reading ../shared files, hashing id lists the way the reference
// files do (a JSON list with ", " separators), and comparing id lists with a report of the first
// mismatch and the tokens around it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/io/mapped_file.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/sha256.h"
#include "test_support.h"

namespace lowbit::test {

inline std::string ids_to_json(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(ids[i]);
  }
  return s + "]";
}

inline std::string ids_sha256(const std::vector<int32_t>& ids) { return sha256_hex(ids_to_json(ids)); }

inline std::string read_shared(const std::string& rel) {
  auto text = read_text_file(shared_dir() / rel);
  EXPECT_TRUE(text.has_value()) << (text ? "" : text.error().message);
  return text ? *text : std::string();
}

// The tokens around position i, for failure messages.
inline std::string context(const std::vector<int32_t>& ids, size_t i, const Tokenizer* tok) {
  std::string s;
  const size_t from = i >= 4 ? i - 4 : 0, to = std::min(ids.size(), i + 5);
  for (size_t k = from; k < to; ++k) {
    s += k == i ? " >>" : " ";
    s += std::to_string(ids[k]);
    if (tok) {
      s += '\'';
      s += tok->token_text(ids[k]);
      s += '\'';
    }
  }
  return s;
}

inline ::testing::AssertionResult same_ids(const std::vector<int32_t>& got, const std::vector<int32_t>& want,
                                           const Tokenizer* tok = nullptr) {
  const size_t n = std::min(got.size(), want.size());
  size_t i = 0;
  while (i < n && got[i] == want[i]) ++i;
  if (i == n && got.size() == want.size()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "ids differ at index " << i << " (got " << got.size() << " ids, want "
                                       << want.size() << ")\n  got: " << context(got, i, tok)
                                       << "\n want: " << context(want, i, tok);
}

}  // namespace lowbit::test
