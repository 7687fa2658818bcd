// SettingsDialog (File › Settings…): the backend and Vulkan device, the number of compute threads
// and the language. Every change is applied and saved at once (StudioSettings, QSettings); the
// language switches the whole window while the dialog is open. The dialog says honestly what the
// backend choice does: every studio job runs on the CPU in this version, and a build without Vulkan
// offers only the CPU, its device list disabled.
#pragma once

#include <QDialog>
#include <QStringList>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QSpinBox;

namespace lowbit {

class SettingsDialog : public QDialog {
  Q_OBJECT

 public:
  explicit SettingsDialog(QWidget* parent = nullptr);

  QComboBox* backend_box() const { return backend_; }
  QComboBox* device_box() const { return device_; }
  QSpinBox* threads_box() const { return threads_; }
  QComboBox* language_box() const { return language_; }
  QLabel* backend_note() const { return backend_note_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void build_ui();
  void retranslate();
  void list_devices();
  void update_device_enabled();

  QLabel* backend_label_ = nullptr;
  QLabel* device_label_ = nullptr;
  QLabel* threads_label_ = nullptr;
  QLabel* language_label_ = nullptr;
  QComboBox* backend_ = nullptr;
  QLabel* backend_note_ = nullptr;
  QComboBox* device_ = nullptr;
  QSpinBox* threads_ = nullptr;
  QComboBox* language_ = nullptr;
  QDialogButtonBox* buttons_ = nullptr;
  QStringList devices_;   // "name (type, memory)" per Vulkan device
  QString device_error_;  // why there is no device list (Vulkan builds)
};

}  // namespace lowbit
