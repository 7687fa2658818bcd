#include "core/tokenizer/unicode_nfc.h"

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tokenizer/utf8.h"

namespace lowbit::tok {

namespace {

// Hangul syllable arithmetic of the Unicode standard (section 3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

struct Tables {
  std::unordered_map<uint32_t, std::pair<uint32_t, uint32_t>> decomposition;
  std::unordered_map<uint64_t, uint32_t> composition;
  Tables() {
    decomposition.reserve(nfc_data::kDecompositionCount);
    for (size_t i = 0; i < nfc_data::kDecompositionCount; ++i) {
      const auto& d = nfc_data::kDecompositions[i];
      decomposition.emplace(d.cp, std::make_pair(d.first, d.second));
      if (d.composes) composition.emplace((uint64_t{d.first} << 32) | d.second, d.cp);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

uint8_t combining_class(uint32_t cp) {
  if (cp < 0x300) return 0;
  const auto* begin = nfc_data::kCombiningClasses;
  const auto* end = begin + nfc_data::kCombiningClassCount;
  const auto* it = std::upper_bound(begin, end, cp, [](uint32_t c, const nfc_data::CombiningClassRange& r) {
    return c < r.first;
  });
  if (it == begin) return 0;
  --it;
  return cp <= it->last ? it->ccc : 0;
}

void decompose(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  if (cp >= 0xC0) {
    const auto& d = tables().decomposition;
    const auto it = d.find(cp);
    if (it != d.end()) {
      decompose(it->second.first, out);
      if (it->second.second != 0) decompose(it->second.second, out);
      return;
    }
  }
  out.push_back(cp);
}

// Returns the primary composite of a + b, or 0.
uint32_t compose_pair(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount)
    return a + (b - kTBase);
  const auto& c = tables().composition;
  const auto it = c.find((uint64_t{a} << 32) | b);
  return it == c.end() ? 0 : it->second;
}

std::vector<uint32_t> canonical_decomposition(std::string_view s) {
  std::vector<uint32_t> cps;
  cps.reserve(s.size());
  for (size_t i = 0; i < s.size();) decompose(next_code_point(s, i), cps);
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < cps.size();) {
    if (combining_class(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && combining_class(cps[j]) != 0) ++j;
    if (j - i > 1)
      std::stable_sort(cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(j),
                       [](uint32_t x, uint32_t y) { return combining_class(x) < combining_class(y); });
    i = j;
  }
  return cps;
}

void canonical_composition(std::vector<uint32_t>& cps) {
  if (cps.empty()) return;
  size_t starter_pos = 0;
  uint32_t starter = cps[0];
  int last_class = combining_class(starter) == 0 ? 0 : 256;
  size_t out = 1;
  for (size_t i = 1; i < cps.size(); ++i) {
    const uint32_t ch = cps[i];
    const int ch_class = combining_class(ch);
    const uint32_t composite = compose_pair(starter, ch);
    if (composite != 0 && (last_class < ch_class || last_class == 0)) {
      cps[starter_pos] = composite;
      starter = composite;
      continue;
    }
    if (ch_class == 0) {
      starter_pos = out;
      starter = ch;
    }
    last_class = ch_class;
    cps[out++] = ch;
  }
  cps.resize(out);
}

// Text made only of code points below U+0300 is already in NFC and NFD (no decompositions
// that change it, no combining marks): its UTF-8 has no byte at or above 0xCC.
bool below_combining_range(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0xCC; });
}

std::string encode(const std::vector<uint32_t>& cps) {
  std::string out;
  out.reserve(cps.size() * 2);
  for (const uint32_t cp : cps) append_utf8(out, cp);
  return out;
}

}  // namespace

std::string nfd(std::string_view utf8) {
  if (below_combining_range(utf8)) {
    // Latin-1 letters such as é still decompose under NFD.
    bool has_latin1 = std::any_of(utf8.begin(), utf8.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    if (!has_latin1) return std::string(utf8);
  }
  return encode(canonical_decomposition(utf8));
}

std::string nfc(std::string_view utf8) {
  if (below_combining_range(utf8)) return std::string(utf8);
  auto cps = canonical_decomposition(utf8);
  canonical_composition(cps);
  return encode(cps);
}

}  // namespace lowbit::tok
