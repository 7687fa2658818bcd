// What the studio's Qt tests share: where the demo model is (resources/demo of the source tree, else
// find_demo_model()) and opening it in a window.
#pragma once

#include <QDir>
#include <QFileInfo>
#include <QSignalSpy>
#include <QString>

#include "app/studio/main_window.h"
#include "app/studio/studio_paths.h"

namespace lowbit::test {

inline QString demo_model() {
  const QString source = qEnvironmentVariable("LOWBIT_SOURCE_DIR");
  const QString in_source = QDir(source).filePath(QStringLiteral("resources/demo"));
  if (!source.isEmpty() && QFileInfo::exists(QDir(in_source).filePath(QStringLiteral("model.safetensors")))) return in_source;
  return find_demo_model().path;
}

// How long a test waits for background work (open, analyze, plan, compare, export) before calling
// it hung. A guard, not a speed check: CI's two cores run these beside other tests (a 2 × 32-token
// plan on the demo model once took 71 s there), and speed is the benchmarks' business. ctest's limit
// for these tests (tests/widgets/CMakeLists.txt) is 900 s.
inline constexpr int kWorkTimeoutMs = 300'000;

// Opens the demo model in `window`; false when it did not open within kWorkTimeoutMs.
inline bool open_demo(MainWindow& window) {
  QSignalSpy opened(&window, &MainWindow::model_opened);
  window.open_path(demo_model());
  return opened.wait(kWorkTimeoutMs) || opened.count() == 1;
}

}  // namespace lowbit::test
