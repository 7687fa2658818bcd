// Shared by the libFuzzer targets of tests/fuzz: the checkpoint readers map files, so each input is
// written to one file in a private folder of this process (on /dev/shm when it exists, a tmpfs, so
// a write costs microseconds), removed when the process exits. Also the fixed text the tokenizer
// targets encode, chosen to reach every pre-tokenizer branch: letters, digits, punctuation, runs of
// spaces, newlines, a multi-byte character, an emoji and the usual special-token spellings.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace lowbit::fuzz {

inline constexpr std::string_view kSampleText =
    "Hello, world! It's 2024: ünïcödé  spaces\n\ttabs 12345 <s> </s> <|endoftext|> 漢字 🙂 a+b=c\r\n";

class FuzzDir {
 public:
  FuzzDir() {
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec)
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path(ec);
    path_ = base / ("lowbit-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_, ec);
  }
  ~FuzzDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  FuzzDir(const FuzzDir&) = delete;
  FuzzDir& operator=(const FuzzDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes the input to `name` in this process's folder (replacing the previous input) and returns
// its path. Aborts when the file cannot be written: a harness failure, not a finding.
inline std::filesystem::path write_input(const uint8_t* data, size_t size, const std::string& name) {
  static FuzzDir dir;
  const std::filesystem::path p = dir.path() / name;
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(p.c_str());
    std::abort();
  }
  return p;
}

// A property every input must keep; a violation is reported and aborts, so libFuzzer records it.
inline void require(bool ok, const char* property, const std::string& detail) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property violated: %s\n  %s\n", property, detail.c_str());
  std::abort();
}

// An Error must name the file it is about (STYLE.md "Errors").
inline void require_names(const std::string& message, const std::string& file) {
  require(message.find(file) != std::string::npos, "the error names the file", message);
}

}  // namespace lowbit::fuzz
