// Where the studio looks for things on disk: which dropped paths can be checkpoints, and where the
// demo model lives — $LOWBIT_DEMO_MODEL, then resources/demo of the source tree beside a build
// folder (<bin>/../../resources/demo), then the installed copy (<bin>/../share/lowbit-studio/demo).
// The demo may be missing (it is trained separately); the lookup then says where it looked. The
// default calibration text is found beside a model, or else beside the demo model.
#pragma once

#include <QString>
#include <QStringList>

namespace lowbit {

// A local folder, or a file named *.safetensors or *.gguf, that exists. Whether it really is a
// checkpoint is for Checkpoint::open to say.
bool is_checkpoint_candidate(const QString& local_path);

struct DemoModelLookup {
  QString path;          // empty when no demo model was found
  QStringList searched;  // every place looked at, in order
};

DemoModelLookup find_demo_model();

// The calibration text for the model at `model_path`: a demo-calib.txt or calibration.txt in its
// folder (beside it, for a file), else the demo model's demo-calib.txt; empty when there is none.
QString default_calibration_text(const QString& model_path);

}  // namespace lowbit
