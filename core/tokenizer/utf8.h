// UTF-8 helpers shared by the tokenizers: strict validation (the byte offset of the first bad
// byte), code point iteration, lossy decoding as Rust's String::from_utf8_lossy does it (each
// maximal ill-formed subpart becomes U+FFFD), and GPT-2's byte-level alphabet that maps each of
// the 256 byte values to a printable code point (and back).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lowbit::tok {

// Offset of the first byte that does not belong to a well-formed UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF are ill-formed), or nullopt when all is valid.
std::optional<size_t> find_invalid_utf8(std::string_view s);

// Length of the sequence a lead byte starts (1 for a stray continuation byte, as llama.cpp does).
inline size_t utf8_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Decodes the code point at s[i] of valid UTF-8 and advances i past it.
uint32_t next_code_point(std::string_view s, size_t& i);
void append_utf8(std::string& out, uint32_t cp);

// Bytes → text, replacing each maximal ill-formed subpart with U+FFFD.
std::string utf8_lossy(std::string_view bytes);

// GPT-2 byte-level alphabet: byte b → UTF-8 of its printable stand-in.
const std::array<std::string, 256>& byte_level_alphabet();
// The byte a byte-level code point stands for, or -1.
int byte_level_byte(uint32_t cp);
// Maps every byte of `s` through the byte-level alphabet.
std::string byte_level_encode(std::string_view s);

// Rust's char::is_whitespace (the Unicode White_Space property).
bool is_unicode_whitespace(uint32_t cp);

}  // namespace lowbit::tok
