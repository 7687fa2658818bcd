#include "app/cli/args.h"

#include <charconv>
#include <filesystem>
#include <stdexcept>

namespace lowbit::cli {

std::optional<Args> Args::parse(const std::vector<std::string>& argv, const ArgSpec& spec, std::string& error) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s.size() > 2 && s.rfind("--", 0) == 0) {
      std::string name = s.substr(2);
      std::optional<std::string> inline_value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      if (spec.flags.count(name)) {
        if (inline_value) { error = "--" + name + " takes no value"; return std::nullopt; }
        a.flags_.insert(name);
      } else if (spec.multi.count(name)) {
        auto& v = a.values_[name];
        if (inline_value) v.push_back(*inline_value);
        while (i + 1 < argv.size() && argv[i + 1].rfind("--", 0) != 0) v.push_back(argv[++i]);
        if (v.empty()) { error = "--" + name + " needs at least one value"; return std::nullopt; }
      } else if (spec.options.count(name)) {
        if (inline_value) {
          a.values_[name] = {*inline_value};
        } else {
          if (i + 1 >= argv.size()) { error = "--" + name + " needs a value"; return std::nullopt; }
          if (argv[i + 1].size() > 2 && argv[i + 1].rfind("--", 0) == 0) {  // another option, not a value
            error = "--" + name + " needs a value (" + argv[i + 1] + " follows it)";
            return std::nullopt;
          }
          a.values_[name] = {argv[++i]};
        }
      } else {
        error = "unknown option --" + name;
        return std::nullopt;
      }
    } else {
      a.positional_.push_back(s);
    }
  }
  return a;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.front();
}

std::vector<std::string> Args::get_all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

long long Args::get_int(const std::string& name, long long fallback, std::string& error) const {
  auto v = get(name);
  if (!v) return fallback;
  long long out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size()) {
    error = "--" + name + " expects an integer, got '" + *v + "'";
    return fallback;
  }
  return out;
}

double Args::get_double(const std::string& name, double fallback, std::string& error) const {
  auto v = get(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    const double d = std::stod(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing");
    return d;
  } catch (const std::exception&) {
    error = "--" + name + " expects a number, got '" + *v + "'";
    return fallback;
  }
}

std::string Args::output_clash(const std::vector<std::string>& outputs, const std::vector<std::string>& inputs) const {
  std::vector<std::pair<std::string, std::string>> named;  // (how it was given, path)
  for (const std::string& p : positional_) named.emplace_back("input", p);
  for (const std::string& name : inputs)
    for (const std::string& p : get_all(name)) named.emplace_back("--" + name, p);
  for (const std::string& name : outputs) {
    const auto out = get(name);
    if (!out || out->empty()) continue;
    for (const auto& [what, p] : named) {
      std::error_code ec, ec1, ec2;
      const bool same = (std::filesystem::equivalent(*out, p, ec) && !ec) ||
                        std::filesystem::weakly_canonical(*out, ec1) == std::filesystem::weakly_canonical(p, ec2);
      if (same && !ec1 && !ec2)
        return *out + ": --" + name + " names the " + (what == "input" ? "input " + p : what + " file " + p) +
               "; refusing to overwrite it";
    }
    named.emplace_back("--" + name, *out);
  }
  return {};
}

}  // namespace lowbit::cli
