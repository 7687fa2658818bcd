// StudioTour: `lowbit-studio --tour DIR` — opens a model (the demo model unless one is given), visits
// every page of the main window and saves a PNG of the window on each (NN-key.png), then finishes
// with an exit code. It drives the window only through its public API and waits on its signals
// (model opened, histogram shown, plan finished: the plan page runs a quick plan of few windows),
// never on sleeps, so it works under QT_QPA_PLATFORM=offscreen and doubles as a smoke test and as
// the source of the README's screenshots.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>
#include <functional>

namespace lowbit {

class MainWindow;

class StudioTour : public QObject {
  Q_OBJECT

 public:
  // `model_path` empty: the demo model.
  StudioTour(MainWindow* window, QString out_dir, QString model_path, QObject* parent = nullptr);

  void start();
  const QStringList& saved_files() const { return saved_; }

 signals:
  void finished(int exit_code);

 private:
  void visit(int page);
  void on_page_ready(int page);
  // Shows `page`, starts its job and shoots it when `finished` comes (at once if the job did not start:
  // the shot then shows why).
  template <class Page>
  void shoot_after(int page, Page* sender, void (Page::*finished)(bool), const std::function<bool()>& start);  // tour.cpp
  void fail(const QString& message);
  void done(int code);

  MainWindow* window_;
  QString out_dir_;
  QString model_path_;
  QStringList saved_;
  QTimer watchdog_;
  bool finished_ = false;
};

}  // namespace lowbit
