// RecentFiles: the most recently opened models, newest first, kept in QSettings under one key so
// that they survive restarts. Paths are stored absolute and cleaned; re-opening a path moves it to
// the front; the list is capped. Missing paths are kept (a drive may be unmounted) and shown
// greyed by the start page rather than silently dropped.
#pragma once

#include <QObject>
#include <QStringList>

namespace lowbit {

class RecentFiles : public QObject {
  Q_OBJECT

 public:
  static constexpr int kMaxEntries = 10;

  explicit RecentFiles(QObject* parent = nullptr, QString settings_key = QStringLiteral("recentModels"));

  const QStringList& paths() const { return paths_; }
  void add(const QString& path);
  void remove(const QString& path);
  void clear();

 signals:
  void changed();

 private:
  void save();

  QString key_;
  QStringList paths_;
};

}  // namespace lowbit
