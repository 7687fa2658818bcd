#include "app/studio/studio_settings.h"

#include <QSettings>
#include <QStringList>
#include <algorithm>
#include <atomic>

#include "app/studio/language.h"
#include "core/model/forward.h"

namespace lowbit {

namespace {

// -1: never chosen (OpenMP's own default, OMP_NUM_THREADS included, stays in force).
std::atomic<int> g_threads{-1};

}  // namespace

StudioSettings StudioSettings::load() {
  const QSettings settings;
  StudioSettings s;
  const QString backend = settings.value(QLatin1String(kBackendKey)).toString();
  if (available_backends().contains(backend)) s.backend = backend;
  s.device = std::max(0, settings.value(QLatin1String(kDeviceKey), 0).toInt());
  s.threads_saved = settings.contains(QLatin1String(kThreadsKey));
  s.threads = std::max(0, settings.value(QLatin1String(kThreadsKey), 0).toInt());
  s.language = saved_language();
  return s;
}

bool vulkan_in_build() {
#ifdef LOWBIT_HAVE_VULKAN
  return true;
#else
  return false;
#endif
}

QStringList available_backends() {
  QStringList b{QStringLiteral("cpu")};
  if (vulkan_in_build()) b << QStringLiteral("vulkan");
  return b;
}

void save_backend(const QString& backend) {
  if (available_backends().contains(backend)) QSettings().setValue(QLatin1String(StudioSettings::kBackendKey), backend);
}

void save_device(int index) { QSettings().setValue(QLatin1String(StudioSettings::kDeviceKey), std::max(0, index)); }

void save_threads(int threads) {
  threads = std::max(0, threads);
  QSettings().setValue(QLatin1String(StudioSettings::kThreadsKey), threads);
  apply_compute_threads(threads);
}

void apply_compute_threads(int threads) {
  g_threads = std::max(0, threads);
  set_compute_threads(threads);
}

void use_studio_threads() {
  const int threads = g_threads;
  if (threads >= 0) set_compute_threads(threads);
}

void apply_saved_settings() {
  const StudioSettings s = StudioSettings::load();
  set_language(s.language);
  if (s.threads_saved) apply_compute_threads(s.threads);
}

}  // namespace lowbit
