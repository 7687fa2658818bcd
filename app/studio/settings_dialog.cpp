#include "app/studio/settings_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QEvent>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>

#include "app/studio/language.h"
#include "app/studio/studio_settings.h"
#include "core/model/forward.h"
#include "widgets/views/tensor_table_model.h"
#ifdef LOWBIT_HAVE_VULKAN
#include "gpu/device/device_list.h"
#endif

namespace lowbit {

SettingsDialog::SettingsDialog(QWidget* parent) : QDialog(parent) {
  setObjectName(QStringLiteral("settingsDialog"));
  list_devices();
  build_ui();
  retranslate();
}

void SettingsDialog::list_devices() {
#ifdef LOWBIT_HAVE_VULKAN
  auto list = gpu::list_devices();
  if (!list) {
    device_error_ = QString::fromStdString(list.error().message);
    return;
  }
  for (const gpu::DeviceInfo& d : *list)
    devices_ << QStringLiteral("%1 (%2, %3)").arg(QString::fromStdString(d.name), QString::fromStdString(d.type),
                                                  format_bytes(d.device_local_bytes));
#endif
}

void SettingsDialog::build_ui() {
  const StudioSettings saved = StudioSettings::load();

  backend_ = new QComboBox(this);
  backend_->setObjectName(QStringLiteral("backendBox"));
  for (const QString& b : available_backends()) backend_->addItem(QString(), b);
  backend_->setCurrentIndex(std::max(0, backend_->findData(saved.backend)));
  backend_note_ = new QLabel(this);
  backend_note_->setObjectName(QStringLiteral("backendNote"));
  backend_note_->setWordWrap(true);
  backend_note_->setForegroundRole(QPalette::PlaceholderText);

  device_ = new QComboBox(this);
  device_->setObjectName(QStringLiteral("deviceBox"));
  if (devices_.isEmpty()) {
    device_->addItem(QString());  // says why (retranslate)
  } else {
    device_->addItems(devices_);
    device_->setCurrentIndex(std::min(saved.device, static_cast<int>(devices_.size()) - 1));
  }

  threads_ = new QSpinBox(this);
  threads_->setObjectName(QStringLiteral("threadsBox"));
  threads_->setRange(0, std::max(1, compute_threads_available()));
  threads_->setValue(std::min(saved.threads, threads_->maximum()));

  language_ = new QComboBox(this);
  language_->setObjectName(QStringLiteral("languageBox"));
  for (const QString& code : supported_languages()) language_->addItem(language_native_name(code), code);
  language_->setCurrentIndex(std::max(0, language_->findData(current_language())));

  backend_label_ = new QLabel(this);
  device_label_ = new QLabel(this);
  threads_label_ = new QLabel(this);
  language_label_ = new QLabel(this);
  backend_label_->setBuddy(backend_);
  device_label_->setBuddy(device_);
  threads_label_->setBuddy(threads_);
  language_label_->setBuddy(language_);

  auto* form = new QFormLayout;
  form->addRow(backend_label_, backend_);
  form->addRow(QString(), backend_note_);
  form->addRow(device_label_, device_);
  form->addRow(threads_label_, threads_);
  form->addRow(language_label_, language_);

  buttons_ = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addStretch(1);
  layout->addWidget(buttons_);
  setMinimumWidth(460);

  // Every choice is applied and saved at once.
  connect(backend_, &QComboBox::currentIndexChanged, this, [this] {
    save_backend(backend_->currentData().toString());
    update_device_enabled();
  });
  connect(device_, &QComboBox::currentIndexChanged, this, [this](int index) {
    if (!devices_.isEmpty() && index >= 0) save_device(index);
  });
  connect(threads_, &QSpinBox::valueChanged, this, [](int threads) { save_threads(threads); });
  connect(language_, &QComboBox::currentIndexChanged, this,
          [this] { apply_language(language_->currentData().toString()); });
  update_device_enabled();
}

void SettingsDialog::update_device_enabled() {
  device_->setEnabled(!devices_.isEmpty() && backend_->currentData().toString() == QLatin1String("vulkan"));
}

void SettingsDialog::retranslate() {
  setWindowTitle(tr("Settings"));
  backend_label_->setText(tr("&Backend:"));
  device_label_->setText(tr("Vulkan &device:"));
  threads_label_->setText(tr("&Threads:"));
  language_label_->setText(tr("&Language:"));
  for (int i = 0; i < backend_->count(); ++i)
    backend_->setItemText(i, backend_->itemData(i).toString() == QLatin1String("vulkan") ? tr("Vulkan (GPU)") : tr("CPU"));
  backend_note_->setText(vulkan_in_build()
                             ? tr("Compare quantizes and evaluates its layouts, Export quantizes (RTN, GPTQ's sweep, AWQ's scale grid "
                                  "and the calibration), Analyze runs its calibration and its views' forward passes and Plan "
                                  "its sensitivity measurement on the backend and device chosen here; the outlier histograms "
                                  "and whatever a shader does not cover run on the CPU.")
                             : tr("Every studio job runs on the CPU: this build has no Vulkan backend."));
  if (devices_.isEmpty())
    device_->setItemText(0, vulkan_in_build() ? tr("No Vulkan device: %1").arg(device_error_)
                                              : tr("No Vulkan in this build"));
  threads_->setSpecialValueText(tr("All cores (%1)").arg(compute_threads_available()));
  threads_->setToolTip(tr("Threads used by the CPU backend's matrix products and quantizers; 0 uses every core"));
  language_->setToolTip(tr("The language of the studio; it changes at once"));
  {
    const QSignalBlocker block(language_);  // follows a switch made elsewhere
    language_->setCurrentIndex(std::max(0, language_->findData(current_language())));
  }
  if (QPushButton* close = buttons_->button(QDialogButtonBox::Close)) close->setText(tr("Close"));
}

void SettingsDialog::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QDialog::changeEvent(event);
}

}  // namespace lowbit
