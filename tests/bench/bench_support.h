// Shared by the benchmarks: a description of the machine a result was measured on (CPU model,
// cores, memory, OS, compiler), peak resident memory, and writing a result as JSON.
#pragma once

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace lowbit::bench {

inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

inline double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

inline double load_average() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1.0;
}

inline nlohmann::json machine() {
  utsname u{};
  uname(&u);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"cpu", cpu_model()},
          {"cores_online", sysconf(_SC_NPROCESSORS_ONLN)},
          {"memory_gib", static_cast<double>(pages) * static_cast<double>(page) / (1024.0 * 1024 * 1024)},
          {"os", std::string(u.sysname) + " " + u.release},
          {"compiler", std::string("gcc ") + __VERSION__},
          {"load_average_1min", load_average()},  // other work on a shared machine shows here
          {"date", date}};
}

inline void write_result(const std::string& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  std::printf("%s\nwritten to %s\n", j.dump(2).c_str(), path.c_str());
}

}  // namespace lowbit::bench
