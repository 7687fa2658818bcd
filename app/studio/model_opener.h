// ModelOpener: opens a checkpoint off the GUI thread and hands the GUI an OpenedModel — the
// memory-mapped checkpoint, its architecture (when the config can be read) and what the model page
// summarizes. Opening reads headers only, but a multi-GB folder on a slow disk still takes long
// enough to freeze a window, so it runs on the global QThreadPool through QtConcurrent. One open
// runs at a time; a request made meanwhile supersedes the running one, whose result is dropped.
// The destructor waits for the running job, so no worker outlives its owner.
#pragma once

#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <memory>
#include <optional>

#include "core/io/checkpoint.h"
#include "core/model/config.h"

namespace lowbit {

struct OpenedModel {
  QString path;                                 // absolute path of the folder or file
  QString name;                                 // folder name or file name, for titles
  std::shared_ptr<const Checkpoint> checkpoint;
  std::optional<ModelConfig> config;            // empty when the architecture is not known
  QString config_error;                         // why `config` is empty
  QString tokenizer;                            // what tokenizer it carries; empty when none
  double open_seconds = 0;
};

// What a job hands back: a model or the message of its error (default-constructible for QFuture).
struct OpenResult {
  QString path;
  std::shared_ptr<const OpenedModel> model;
  QString error;
};

// Opens `path` synchronously (the worker's half of ModelOpener; tests may call it directly).
OpenResult open_model_summary(const QString& path);

class ModelOpener : public QObject {
  Q_OBJECT

 public:
  explicit ModelOpener(QObject* parent = nullptr);
  ~ModelOpener() override;

  void open(const QString& path);
  bool busy() const { return watcher_.isRunning(); }
  // Blocks until the running job (if any) has finished; its signal is still delivered later.
  void wait() { watcher_.waitForFinished(); }

 signals:
  void started(const QString& path);
  void opened(std::shared_ptr<const lowbit::OpenedModel> model);
  void failed(const QString& path, const QString& message);

 private:
  void start(const QString& path);
  void finish();

  QFutureWatcher<OpenResult> watcher_;
  QString pending_;
};

}  // namespace lowbit
