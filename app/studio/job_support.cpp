#include "app/studio/job_support.h"

#include <QCoreApplication>
#include <QFile>
#include <QLocale>

namespace lowbit {

std::string path_str(const QString& path) { return QFile::encodeName(path).toStdString(); }

QString byte_size(double bytes) {
  const QLocale l;
  return bytes >= 1e9 ? QCoreApplication::translate("JobSupport", "%1 GB").arg(l.toString(bytes / 1e9, 'f', 2))
                      : QCoreApplication::translate("JobSupport", "%1 MB").arg(l.toString(bytes / 1e6, 'f', 1));
}

QString duration(double seconds) {
  const QLocale l;
  if (seconds < 90) return QCoreApplication::translate("JobSupport", "%1 s").arg(l.toString(seconds, 'f', 0));
  if (seconds < 5400) return QCoreApplication::translate("JobSupport", "%1 min").arg(l.toString(seconds / 60, 'f', 0));
  return QCoreApplication::translate("JobSupport", "%1 h").arg(l.toString(seconds / 3600, 'f', 1));
}

Expected<LoadedModel> open_and_load(const QString& path, Progress& progress) {
  progress.report(0, "opening the model");
  LB_TRY_ASSIGN(Model model, open_model(path_str(path), true));
  Progress load = progress.sub(0, 0.05);
  LB_TRY_ASSIGN(ModelWeights weights, load_model(*model.checkpoint, model.config, &load));
  return LoadedModel{std::move(model), std::move(weights)};
}

QThreadPool* heavy_job_pool() {
  static QThreadPool* pool = [] {
    auto* p = new QThreadPool();  // lives as long as the process: jobs may still end while statics are destroyed
    p->setMaxThreadCount(1);
    p->setExpiryTimeout(-1);
    return p;
  }();
  return pool;
}

}  // namespace lowbit
