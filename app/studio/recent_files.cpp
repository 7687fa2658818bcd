#include "app/studio/recent_files.h"

#include <QDir>
#include <QFileInfo>
#include <QSettings>

namespace lowbit {

namespace {
QString normalized(const QString& path) { return QDir::cleanPath(QFileInfo(path).absoluteFilePath()); }
}  // namespace

RecentFiles::RecentFiles(QObject* parent, QString settings_key) : QObject(parent), key_(std::move(settings_key)) {
  paths_ = QSettings().value(key_).toStringList();
  paths_.removeAll(QString());
  paths_.removeDuplicates();
  while (paths_.size() > kMaxEntries) paths_.removeLast();
}

void RecentFiles::add(const QString& path) {
  const QString p = normalized(path);
  paths_.removeAll(p);
  paths_.prepend(p);
  while (paths_.size() > kMaxEntries) paths_.removeLast();
  save();
}

void RecentFiles::remove(const QString& path) {
  if (paths_.removeAll(normalized(path)) > 0) save();
}

void RecentFiles::clear() {
  if (paths_.isEmpty()) return;
  paths_.clear();
  save();
}

void RecentFiles::save() {
  QSettings().setValue(key_, paths_);
  emit changed();
}

}  // namespace lowbit
