// SHA-256 (FIPS 180-4) of a byte string, as lowercase hex. Used to compare long outputs (token
// id lists, file contents) with published digests without storing the outputs themselves.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace lowbit {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  std::array<uint8_t, 32> digest();  // finishes the hash; call once
  std::string hex_digest();          // finishes the hash; call once

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);

}  // namespace lowbit
