#include "app/studio/studio_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace lowbit {

namespace {

// A folder with config.json, or a folder holding exactly one .gguf (returned), or a model file.
QString demo_checkpoint_in(const QString& candidate) {
  const QFileInfo info(candidate);
  if (!info.exists()) return {};
  if (info.isFile()) return is_checkpoint_candidate(candidate) ? info.absoluteFilePath() : QString();
  const QDir dir(candidate);
  if (dir.exists(QStringLiteral("config.json"))) return QDir::cleanPath(dir.absolutePath());
  const QStringList ggufs = dir.entryList({QStringLiteral("*.gguf")}, QDir::Files);
  return ggufs.size() == 1 ? dir.absoluteFilePath(ggufs.front()) : QString();
}

}  // namespace

bool is_checkpoint_candidate(const QString& local_path) {
  if (local_path.isEmpty()) return false;
  const QFileInfo info(local_path);
  if (!info.exists()) return false;
  if (info.isDir()) return true;
  const QString suffix = info.suffix().toLower();
  return suffix == QLatin1String("safetensors") || suffix == QLatin1String("gguf");
}

DemoModelLookup find_demo_model() {
  DemoModelLookup lookup;
  QStringList candidates;
  const QString env = qEnvironmentVariable("LOWBIT_DEMO_MODEL");
  if (!env.isEmpty()) candidates << env;
  const QString bin = QCoreApplication::applicationDirPath();
  candidates << QDir::cleanPath(bin + QStringLiteral("/../../resources/demo"))
             << QDir::cleanPath(bin + QStringLiteral("/../share/lowbit-studio/demo"));
  for (const QString& c : candidates) {
    lookup.searched << c;
    const QString found = demo_checkpoint_in(c);
    if (!found.isEmpty()) {
      lookup.path = found;
      break;
    }
  }
  return lookup;
}

QString default_calibration_text(const QString& model_path) {
  const QStringList names = {QStringLiteral("demo-calib.txt"), QStringLiteral("calibration.txt")};
  QStringList folders;
  if (!model_path.isEmpty()) {
    const QFileInfo info(model_path);
    folders << (info.isDir() ? info.absoluteFilePath() : info.absolutePath());
  }
  const QString demo = find_demo_model().path;
  if (!demo.isEmpty()) {
    const QFileInfo info(demo);
    folders << (info.isDir() ? info.absoluteFilePath() : info.absolutePath());
  }
  for (const QString& folder : folders)
    for (const QString& name : names) {
      const QFileInfo candidate(QDir(folder).filePath(name));
      if (candidate.isFile()) return candidate.absoluteFilePath();
    }
  return {};
}

}  // namespace lowbit
