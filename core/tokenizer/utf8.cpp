#include "core/tokenizer/utf8.h"

namespace lowbit::tok {

namespace {

// What a lead byte starts (Table 3-7 of the Unicode standard, well-formed UTF-8 byte sequences):
// the sequence's length n (2 to 4) and the range [lo, hi] its second byte must fall in; false for a
// byte that starts no multi-byte sequence.
struct Lead {
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
};

bool lead_byte(unsigned char c, Lead& lead) {
  if (c >= 0xC2 && c <= 0xDF) {
    lead.n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    lead.n = 3;
    if (c == 0xE0) lead.lo = 0xA0;
    if (c == 0xED) lead.hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    lead.n = 4;
    if (c == 0xF0) lead.lo = 0x90;
    if (c == 0xF4) lead.hi = 0x8F;
  } else {
    return false;
  }
  return true;
}

// Length of the well-formed sequence at s[i], or 0 when the bytes there are ill-formed.
size_t well_formed_len(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  if (b(i) < 0x80) return 1;
  Lead lead;
  if (!lead_byte(b(i), lead)) return 0;
  if (i + 1 >= s.size() || b(i + 1) < lead.lo || b(i + 1) > lead.hi) return 0;
  for (size_t k = 2; k < lead.n; ++k)
    if (i + k >= s.size() || (b(i + k) & 0xC0) != 0x80) return 0;
  return lead.n;
}

// Length of the maximal subpart of an ill-formed sequence at s[i] (at least 1): the longest
// prefix of a well-formed sequence that is present, as U+FFFD substitution practice defines it.
size_t maximal_subpart(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  Lead lead;
  if (!lead_byte(b(i), lead)) return 1;
  size_t k = 1;
  if (i + k < s.size() && b(i + k) >= lead.lo && b(i + k) <= lead.hi) {
    ++k;
    while (k < lead.n && i + k < s.size() && (b(i + k) & 0xC0) == 0x80) ++k;
  }
  return k;
}

}  // namespace

std::optional<size_t> find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = well_formed_len(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

uint32_t next_code_point(std::string_view s, size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t n = utf8_len(c);
  if (n == 1 || i + n > s.size()) {
    ++i;
    return c;
  }
  uint32_t cp = n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const size_t n = well_formed_len(bytes, i);
    if (n > 0) {
      out.append(bytes.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      i += maximal_subpart(bytes, i);
    }
  }
  return out;
}

namespace {

struct ByteLevelTables {
  std::array<std::string, 256> encode;
  std::array<int, 324> decode{};  // code points up to 256 + 67
  ByteLevelTables() {
    decode.fill(-1);
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      const uint32_t cp = printable ? b : 256 + extra++;
      append_utf8(encode[b], cp);
      decode[cp] = static_cast<int>(b);
    }
  }
};

const ByteLevelTables& byte_level_tables() {
  static const ByteLevelTables tables;
  return tables;
}

}  // namespace

const std::array<std::string, 256>& byte_level_alphabet() { return byte_level_tables().encode; }

int byte_level_byte(uint32_t cp) {
  const auto& d = byte_level_tables().decode;
  return cp < d.size() ? d[cp] : -1;
}

std::string byte_level_encode(std::string_view s) {
  const auto& enc = byte_level_alphabet();
  std::string out;
  out.reserve(s.size() * 2);
  for (const char c : s) out.append(enc[static_cast<unsigned char>(c)]);
  return out;
}

bool is_unicode_whitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

}  // namespace lowbit::tok
