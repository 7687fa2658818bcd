// A small command-line parser for `lowbit`: one command word, positional arguments, `--name value`
// options and `--flag` switches, each command declaring what it accepts so that a misspelt option is
// a usage error (exit 2) rather than silently ignored.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace lowbit::cli {

struct ArgSpec {
  std::set<std::string> options;   // take a value
  std::set<std::string> flags;     // take none
  std::set<std::string> multi;     // options that take one or more values (--layouts a b c)
};

class Args {
 public:
  // Parses argv after the command word. Returns an error message on failure.
  static std::optional<Args> parse(const std::vector<std::string>& argv, const ArgSpec& spec, std::string& error);

  const std::vector<std::string>& positional() const { return positional_; }
  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::vector<std::string> get_all(const std::string& name) const;
  // Integer/float option with a default; sets `error` when present but malformed.
  long long get_int(const std::string& name, long long fallback, std::string& error) const;
  double get_double(const std::string& name, double fallback, std::string& error) const;
  // An input is never opened for writing: a message when one of the `outputs` options names the same
  // file or folder (however it is spelt) as a positional argument or one of the `inputs` options, or
  // two outputs name one file; empty otherwise.
  std::string output_clash(const std::vector<std::string>& outputs, const std::vector<std::string>& inputs) const;

 private:
  std::vector<std::string> positional_;
  std::set<std::string> flags_;
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace lowbit::cli
