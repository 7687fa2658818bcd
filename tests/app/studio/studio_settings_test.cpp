// The Settings dialog: the thread count and the language are applied at once and saved in
// QSettings; a job run through the JobCenter computes with the chosen thread count in its worker
// thread; the backend note says which jobs use the chosen backend (compare) and which run on the
// CPU, and a build without Vulkan offers only the CPU with its device list disabled. Saved settings
// are applied at start-up. Compare on the Vulkan backend measures what the CPU measures (or, with
// no usable device, falls back to the CPU and says so); Export of a GPTQ layout on it quantizes on
// the GPU, and Analyze runs its calibration there.
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <cmath>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTest>

#include "app/studio/analyze_page.h"
#include "app/studio/compare_page.h"
#include "app/studio/export_page.h"
#include "app/studio/job_center.h"
#include "app/studio/language.h"
#include "app/studio/main_window.h"
#include "app/studio/plan_page.h"
#include "app/studio/settings_dialog.h"
#include "app/studio/studio_settings.h"
#include "core/calib/analyze.h"
#include "core/io/checkpoint.h"
#include "core/model/forward.h"
#include "core/model/model.h"
#include "tests/app/studio/studio_test_support.h"

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

  void the_backend_note_says_where_jobs_run() {
    SettingsDialog dialog;
    QComboBox* backend = dialog.backend_box();
    QCOMPARE(backend->itemData(0).toString(), QStringLiteral("cpu"));
    QCOMPARE(backend->currentData().toString(), QStringLiteral("cpu"));
    QVERIFY(dialog.backend_note()->text().contains(QStringLiteral("on the CPU")));
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
    QVERIFY(dialog.backend_note()->text().contains(QStringLiteral("Compare quantizes and evaluates")));
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

  void compare_on_vulkan_measures_what_the_cpu_measures() {
    const QString demo = lowbit::test::demo_model();
    if (demo.isEmpty()) QSKIP("the demo model (resources/demo) is absent");
    lowbit::CompareJobInput in;
    in.model_path = demo;
    in.uniform = {*lowbit::Format::parse("q8_0"), *lowbit::Format::parse("q4_k")};
    in.text_path = QDir(demo).filePath(QStringLiteral("demo-valid.txt"));
    in.options.ppl.ctx = 32;
    in.options.ppl.max_windows = 4;
    lowbit::Progress progress;
    lowbit::CancelToken cancel;
    const lowbit::CompareJobResult cpu = lowbit::run_compare_job(in, progress, cancel);
    QVERIFY2(cpu.error.isEmpty(), qPrintable(cpu.error));
    QCOMPARE(cpu.backend, QStringLiteral("cpu"));
    in.backend = QStringLiteral("vulkan");
    const lowbit::CompareJobResult gpu = lowbit::run_compare_job(in, progress, cancel);
    QVERIFY2(gpu.error.isEmpty(), qPrintable(gpu.error));
    if (!lowbit::vulkan_in_build() || gpu.backend == QStringLiteral("cpu")) {
      QVERIFY(!lowbit::vulkan_in_build() || !gpu.warnings.isEmpty());  // the fallback is said
      QSKIP("no usable Vulkan device: compare fell back to the CPU");
    }
    QCOMPARE(gpu.backend, QStringLiteral("vulkan"));
    QCOMPARE(gpu.rows.size(), cpu.rows.size());
    for (size_t i = 0; i < cpu.rows.size(); ++i) {
      QVERIFY2(std::abs(gpu.rows[i].ppl / cpu.rows[i].ppl - 1) < 1e-4,
               qPrintable(QStringLiteral("%1: %2 vs %3").arg(QString::fromStdString(cpu.rows[i].name)).arg(gpu.rows[i].ppl).arg(cpu.rows[i].ppl)));
      QVERIFY(gpu.rows[i].kld.has_value());
      QVERIFY(std::abs(gpu.rows[i].kld->mean - cpu.rows[i].kld->mean) < 1e-4 + 1e-3 * cpu.rows[i].kld->mean);
    }
  }

  // Export of a GPTQ layout on the Vulkan backend: the sweep and the calibration on the device, a
  // checkpoint of the CPU's size (the codes differ only where the GPU's Hessian sums break a rounding
  // tie the other way: tests/app/cli_quantize_test.cpp measures it).
  void export_on_vulkan_quantizes_on_the_gpu() {
    const QString demo = lowbit::test::demo_model();
    if (demo.isEmpty()) QSKIP("the demo model (resources/demo) is absent");
    auto ck = lowbit::Checkpoint::open(demo.toStdString());
    QVERIFY(ck.has_value());
    auto cfg = lowbit::read_model_config(**ck);
    QVERIFY(cfg.has_value());
    auto w = lowbit::load_model(**ck, *cfg);
    QVERIFY(w.has_value());
    const QString dir = QDir::temp().filePath(QStringLiteral("lowbit_studio_export_vulkan_%1").arg(QCoreApplication::applicationPid()));
    QDir(dir).removeRecursively();
    lowbit::ExportJobInput in;
    in.model_path = demo;
    in.layout = lowbit::Layout::uniform(*w, *lowbit::Format::parse("int4g32a"), lowbit::QuantMethod::Gptq, false);
    in.layout_name = QStringLiteral("int4g32a");
    in.calib_path = QDir(demo).filePath(QStringLiteral("demo-calib.txt"));
    in.options.to = lowbit::ExportTarget::Gptq;
    in.options.calib.samples = 4;
    in.options.calib.ctx = 32;
    lowbit::Progress progress;
    lowbit::CancelToken cancel;
    in.out_path = dir + QStringLiteral("/cpu");
    const lowbit::ExportJobResult cpu = lowbit::run_export_job(in, progress, cancel);
    QVERIFY2(cpu.error.isEmpty(), qPrintable(cpu.error));
    QCOMPARE(cpu.backend, QStringLiteral("cpu"));
    in.backend = QStringLiteral("vulkan");
    in.out_path = dir + QStringLiteral("/gpu");
    const lowbit::ExportJobResult gpu = lowbit::run_export_job(in, progress, cancel);
    QVERIFY2(gpu.error.isEmpty(), qPrintable(gpu.error));
    if (!lowbit::vulkan_in_build() || gpu.backend == QStringLiteral("cpu")) {
      QVERIFY(!lowbit::vulkan_in_build() || !gpu.warnings.isEmpty());  // the fallback is said
      QDir(dir).removeRecursively();
      QSKIP("no usable Vulkan device: export fell back to the CPU");
    }
    QCOMPARE(gpu.backend, QStringLiteral("vulkan"));
    QCOMPARE(gpu.bytes, cpu.bytes);
    QVERIFY(QFileInfo::exists(dir + QStringLiteral("/gpu/model.safetensors")));
    QDir(dir).removeRecursively();
  }

  // Analyze on the Vulkan backend: the calibration walks on the device (its Hessians the CPU's to
  // float rounding), the views on the CPU.
  void analyze_on_vulkan_walks_on_the_gpu() {
    const QString demo = lowbit::test::demo_model();
    if (demo.isEmpty()) QSKIP("the demo model (resources/demo) is absent");
    const QString dir = QDir::temp().filePath(QStringLiteral("lowbit_studio_analyze_vulkan_%1").arg(QCoreApplication::applicationPid()));
    QDir(dir).removeRecursively();
    lowbit::AnalyzeJobInput in;
    in.model_path = demo;
    in.calib_path = QDir(demo).filePath(QStringLiteral("demo-calib.txt"));
    in.calib.samples = 2;
    in.calib.ctx = 16;
    in.views.views = {lowbit::ViewKind::Outliers};
    lowbit::Progress progress;
    lowbit::CancelToken cancel;
    in.out_dir = dir + QStringLiteral("/cpu");
    const lowbit::AnalyzeJobResult cpu = lowbit::run_analyze_job(in, progress, cancel);
    QVERIFY2(cpu.error.isEmpty(), qPrintable(cpu.error));
    in.backend = QStringLiteral("vulkan");
    in.out_dir = dir + QStringLiteral("/gpu");
    const lowbit::AnalyzeJobResult gpu = lowbit::run_analyze_job(in, progress, cancel);
    QVERIFY2(gpu.error.isEmpty(), qPrintable(gpu.error));
    if (!lowbit::vulkan_in_build() || !gpu.warnings.isEmpty()) {
      QDir(dir).removeRecursively();
      QSKIP("no usable Vulkan device: the calibration ran on the CPU");
    }
    auto a = lowbit::CalibrationSet::open((dir + QStringLiteral("/cpu")).toStdString());
    auto b = lowbit::CalibrationSet::open((dir + QStringLiteral("/gpu")).toStdString());
    QVERIFY(a.has_value() && b.has_value());
    auto ha = a->hessian(1, lowbit::LinearInput::kDown);
    auto hb = b->hessian(1, lowbit::LinearInput::kDown);
    QVERIFY(ha.has_value() && hb.has_value());
    QCOMPARE(ha->size(), hb->size());
    double diff = 0, scale = 0;
    for (size_t k = 0; k < ha->size(); ++k) {
      diff = std::max(diff, static_cast<double>(std::abs((*ha)[k] - (*hb)[k])));
      scale = std::max(scale, static_cast<double>(std::abs((*ha)[k])));
    }
    QVERIFY2(diff <= 1e-5 * scale, qPrintable(QStringLiteral("%1 of %2").arg(diff).arg(scale)));
    QDir(dir).removeRecursively();
  }

  // The Plan page's job on the Settings' Vulkan backend: the KLD sensitivity's forward passes run on
  // the device (lavapipe in CI), every measurement agrees with the CPU's and the same layout comes out.
  void plan_on_vulkan_measures_on_the_gpu() {
    const QString demo = lowbit::test::demo_model();
    if (demo.isEmpty()) QSKIP("the demo model (resources/demo) is absent");
    lowbit::PlanJobInput in;
    in.model_path = demo;
    in.calib_path = QDir(demo).filePath(QStringLiteral("demo-calib.txt"));
    in.calib.samples = 2;
    in.calib.ctx = 16;
    in.plan.formats = {*lowbit::Format::parse("q4_0"), *lowbit::Format::parse("q8_0")};
    in.plan.budget_bpw = 6.0;
    const lowbit::PlanJobResult cpu = lowbit::run_plan_job(in, nullptr, nullptr);  // no cache: both measure
    QVERIFY2(cpu.error.isEmpty(), qPrintable(cpu.error));
    QCOMPARE(QString::fromStdString(cpu.sensitivity.backend), QStringLiteral("cpu"));
    in.backend = QStringLiteral("vulkan");
    const lowbit::PlanJobResult gpu = lowbit::run_plan_job(in, nullptr, nullptr);
    QVERIFY2(gpu.error.isEmpty(), qPrintable(gpu.error));
    if (!lowbit::vulkan_in_build() || !gpu.warnings.isEmpty()) QSKIP("no usable Vulkan device: the sensitivities ran on the CPU");
    QCOMPARE(QString::fromStdString(gpu.sensitivity.backend), QStringLiteral("vulkan"));
    QCOMPARE(gpu.sensitivity.values.size(), cpu.sensitivity.values.size());
    for (const auto& [tensor, by_format] : cpu.sensitivity.values)
      for (const auto& [format, want] : by_format) {
        const lowbit::Sensitivity& got = gpu.sensitivity.values.at(tensor).at(format);
        QVERIFY2(std::abs(got.kld - want.kld) <= 2e-3 * want.kld + 2e-7, qPrintable(QString::fromStdString(tensor + " " + format)));
      }
    QCOMPARE(gpu.plan.rows.size(), cpu.plan.rows.size());
    for (size_t i = 0; i < cpu.plan.rows.size(); ++i) QCOMPARE(gpu.plan.rows[i].format, cpu.plan.rows[i].format);
  }
};

QTEST_MAIN(StudioSettingsTest)
#include "studio_settings_test.moc"
