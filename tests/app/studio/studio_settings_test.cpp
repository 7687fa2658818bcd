// The Settings dialog: the thread count and the language are applied at once and saved in
// QSettings; a job run through the JobCenter computes with the chosen thread count in its worker
// thread; the backend choice says honestly that studio jobs run on the CPU, and a build without
// Vulkan offers only the CPU with its device list disabled. Saved settings are applied at start-up.
#include <QComboBox>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTest>

#include "app/studio/job_center.h"
#include "app/studio/language.h"
#include "app/studio/main_window.h"
#include "app/studio/settings_dialog.h"
#include "app/studio/studio_settings.h"
#include "core/model/forward.h"

using lowbit::SettingsDialog;
using lowbit::StudioSettings;

namespace {

struct ThreadsSeen {
  int threads = 0;
};

}  // namespace

class StudioSettingsTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("Lowbit"));
    QCoreApplication::setApplicationName(QStringLiteral("lowbit-studio-test"));
  }

  void init() {
    QSettings().clear();
    QVERIFY(lowbit::set_language(QStringLiteral("en")));
  }

  void cleanupTestCase() { lowbit::set_language(QStringLiteral("en")); }

  void defaults_when_nothing_is_saved() {
    const StudioSettings s = StudioSettings::load();
    QCOMPARE(s.backend, QStringLiteral("cpu"));
    QCOMPARE(s.threads, 0);
    QVERIFY(!s.threads_saved);
    QVERIFY(lowbit::supported_languages().contains(s.language));
  }

  void threads_are_applied_and_saved() {
    SettingsDialog dialog;
    QSpinBox* threads = dialog.threads_box();
    QCOMPARE(threads->value(), 0);
    QCOMPARE(threads->maximum(), std::max(1, lowbit::compute_threads_available()));
    QVERIFY(threads->specialValueText().contains(QString::number(lowbit::compute_threads_available())));

    threads->setValue(1);
    QCOMPARE(QSettings().value(QLatin1String(StudioSettings::kThreadsKey)).toInt(), 1);
    QCOMPARE(lowbit::compute_threads(), 1);
    QVERIFY(StudioSettings::load().threads_saved);

    // A job computes with the chosen count in its pool thread (OpenMP keeps one count per thread).
    lowbit::JobCenter jobs;
    QFuture<ThreadsSeen> seen = jobs.run<ThreadsSeen>(
        QStringLiteral("threads"), [](lowbit::Progress&, const lowbit::CancelToken&) { return ThreadsSeen{lowbit::compute_threads()}; });
    seen.waitForFinished();
    QCOMPARE(seen.result().threads, 1);

    threads->setValue(0);
    QCOMPARE(QSettings().value(QLatin1String(StudioSettings::kThreadsKey)).toInt(), 0);
    QCOMPARE(lowbit::compute_threads(), lowbit::compute_threads_available());
  }

  void the_language_switches_at_once() {
    SettingsDialog dialog;
    QComboBox* language = dialog.language_box();
    QCOMPARE(language->currentData().toString(), QStringLiteral("en"));
    QCOMPARE(dialog.windowTitle(), QStringLiteral("Settings"));
    language->setCurrentIndex(language->findData(QStringLiteral("zh_CN")));
    QCOMPARE(lowbit::current_language(), QStringLiteral("zh_CN"));
    QCOMPARE(QSettings().value(QLatin1String(lowbit::kLanguageSettingsKey)).toString(), QStringLiteral("zh_CN"));
    QTRY_COMPARE(dialog.windowTitle(), QStringLiteral("设置"));
    QCOMPARE(language->itemText(language->currentIndex()), QStringLiteral("简体中文"));  // names stay native

    language->setCurrentIndex(language->findData(QStringLiteral("en")));
    QCOMPARE(lowbit::current_language(), QStringLiteral("en"));
    QTRY_COMPARE(dialog.windowTitle(), QStringLiteral("Settings"));
  }

  void the_backend_says_studio_jobs_run_on_the_cpu() {
    SettingsDialog dialog;
    QComboBox* backend = dialog.backend_box();
    QCOMPARE(backend->itemData(0).toString(), QStringLiteral("cpu"));
    QCOMPARE(backend->currentData().toString(), QStringLiteral("cpu"));
    QVERIFY(dialog.backend_note()->text().contains(QStringLiteral("run on the CPU in this version")));
    QVERIFY(!dialog.device_box()->isEnabled());  // CPU chosen, or no Vulkan at all
    if (!lowbit::vulkan_in_build()) {
      QCOMPARE(backend->count(), 1);
      QCOMPARE(dialog.device_box()->currentText(), QStringLiteral("No Vulkan in this build"));
      return;
    }
    QCOMPARE(backend->count(), 2);
    backend->setCurrentIndex(backend->findData(QStringLiteral("vulkan")));
    QCOMPARE(QSettings().value(QLatin1String(StudioSettings::kBackendKey)).toString(), QStringLiteral("vulkan"));
    QCOMPARE(StudioSettings::load().backend, QStringLiteral("vulkan"));
    QVERIFY(dialog.backend_note()->text().contains(QStringLiteral("run on the CPU in this version")));
  }

  void saved_settings_are_applied_at_start_up() {
    QSettings().setValue(QLatin1String(StudioSettings::kThreadsKey), 1);
    QSettings().setValue(QLatin1String(lowbit::kLanguageSettingsKey), QStringLiteral("zh_CN"));
    lowbit::apply_saved_settings();
    QCOMPARE(lowbit::compute_threads(), 1);
    QCOMPARE(lowbit::current_language(), QStringLiteral("zh_CN"));
    lowbit::apply_compute_threads(0);
  }

  void the_main_window_opens_the_dialog() {
    lowbit::MainWindow window;
    SettingsDialog* dialog = window.open_settings();
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    QCOMPARE(window.open_settings(), dialog);  // one at a time
    dialog->close();
  }
};

QTEST_MAIN(StudioSettingsTest)
#include "studio_settings_test.moc"
