#include "app/studio/job_support.h"

#include <QFile>

namespace lowbit {

std::string path_str(const QString& path) { return QFile::encodeName(path).toStdString(); }

Expected<LoadedModel> open_and_load(const QString& path, Progress& progress) {
  progress.report(0, "opening the model");
  LB_TRY_ASSIGN(Model model, open_model(path_str(path), true));
  Progress load = progress.sub(0, 0.05);
  LB_TRY_ASSIGN(ModelWeights weights, load_model(*model.checkpoint, model.config, &load));
  return LoadedModel{std::move(model), std::move(weights)};
}

}  // namespace lowbit
