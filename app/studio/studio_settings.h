// StudioSettings: what the Settings dialog chooses — the backend and Vulkan device, the number of
// compute threads and the language — kept in QSettings and applied at start-up (main.cpp) and on
// every change. Compare evaluates on the chosen backend and device (a Vulkan device opened by the
// job; the CPU, with a warning, when it cannot be); the other jobs run on the CPU in this version.
// The thread count is applied. OpenMP keeps its thread count per thread, and jobs run
// on Qt's thread pool, so a job calls use_studio_threads() in its worker before it computes;
// apply_compute_threads() also sets the calling thread's (as `lowbit --threads` does).
#pragma once

#include <QString>
#include <QStringList>

namespace lowbit {

struct StudioSettings {
  static constexpr char kBackendKey[] = "compute/backend";
  static constexpr char kDeviceKey[] = "compute/device";
  static constexpr char kThreadsKey[] = "compute/threads";

  QString backend = QStringLiteral("cpu");  // "cpu" or "vulkan" (the latter only in Vulkan builds)
  int device = 0;                           // a Vulkan device index, in gpu::list_devices() order
  int threads = 0;                          // 0: all cores
  bool threads_saved = false;               // false: the user never chose, OpenMP's default stays
  QString language;                         // "en" or "zh_CN" (saved_language())

  // The saved settings, with defaults for what is missing or invalid.
  static StudioSettings load();
};

// True in builds with the Vulkan backend (LOWBIT_VULKAN).
bool vulkan_in_build();
// The backends this build offers: {"cpu"} or {"cpu", "vulkan"}.
QStringList available_backends();

// Saves each choice and applies it (threads: here and in every job started afterwards).
void save_backend(const QString& backend);
void save_device(int index);
void save_threads(int threads);

// Sets the thread count of the calling thread and of the jobs started from now on (<= 0: all cores).
void apply_compute_threads(int threads);
// In a job's worker thread: applies the chosen thread count; does nothing until one was chosen.
void use_studio_threads();
// At start-up: the saved language and thread count.
void apply_saved_settings();

}  // namespace lowbit
