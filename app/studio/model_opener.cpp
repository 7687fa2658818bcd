#include "app/studio/model_opener.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLocale>
#include <QtConcurrent/QtConcurrentRun>

namespace lowbit {

namespace {

QString tokenizer_summary(const Checkpoint& ck) {
  if (!ck.tokenizer_json().empty()) return QStringLiteral("tokenizer.json");
  if (const GgufFile* g = ck.gguf()) {
    const auto model = g->get_string("tokenizer.ggml.model");
    if (!model) return {};
    const GgufValue* tokens = g->find("tokenizer.ggml.tokens");
    const auto n = tokens ? static_cast<qulonglong>(tokens->array_size()) : 0;
    return QCoreApplication::translate("lowbit::ModelOpener", "GGUF vocabulary (%1, %2 tokens)").arg(QString::fromStdString(*model), QLocale().toString(n));
  }
  return {};
}

}  // namespace

OpenResult open_model_summary(const QString& path) {
  QElapsedTimer timer;
  timer.start();
  OpenResult result;
  const QFileInfo info(path);
  result.path = info.absoluteFilePath();
  auto ck = Checkpoint::open(std::filesystem::path(QFile::encodeName(result.path).toStdString()));
  if (!ck) {
    result.error = QString::fromStdString(ck.error().message);
    return result;
  }
  auto model = std::make_shared<OpenedModel>();
  model->path = result.path;
  model->name = info.isDir() ? QFileInfo(QDir::cleanPath(result.path)).fileName() : info.fileName();
  model->checkpoint = ck.value();
  if (auto config = read_model_config(*ck.value())) {
    model->config = config.value();
  } else {
    model->config_error = QString::fromStdString(config.error().message);
  }
  model->tokenizer = tokenizer_summary(*ck.value());
  model->open_seconds = static_cast<double>(timer.nsecsElapsed()) * 1e-9;
  result.model = std::move(model);
  return result;
}

ModelOpener::ModelOpener(QObject* parent) : QObject(parent) {
  connect(&watcher_, &QFutureWatcher<OpenResult>::finished, this, &ModelOpener::finish);
}

ModelOpener::~ModelOpener() { watcher_.waitForFinished(); }

void ModelOpener::open(const QString& path) {
  emit started(path);
  if (watcher_.isRunning())
    pending_ = path;
  else
    start(path);
}

void ModelOpener::start(const QString& path) {
  watcher_.setFuture(QtConcurrent::run([path] {
    try {  // an exception (out of memory on a huge checkpoint) is a failed open, not an abort in finish()
      return open_model_summary(path);
    } catch (const std::exception& e) {
      OpenResult r;
      r.path = path;
      r.error = QString::fromStdString(std::string(dynamic_cast<const std::bad_alloc*>(&e) ? "out of memory" : "internal error") +
                                       ": " + e.what());
      return r;
    }
  }));
}

void ModelOpener::finish() {
  if (!pending_.isEmpty()) {  // superseded while it ran: drop it and open the newer request
    const QString next = std::exchange(pending_, QString());
    start(next);
    return;
  }
  const OpenResult result = watcher_.result();
  if (result.model)
    emit opened(result.model);
  else
    emit failed(result.path, result.error);
}

}  // namespace lowbit
