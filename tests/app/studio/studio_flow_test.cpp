// The studio end to end on the demo model (resources/demo: 4 blocks, tiny), as a user drives it: a
// simulated drop of the model folder on the window → analyze
// (Hessian and outlier views) → plan at 3.5 bits per weight → one layer's
// format changed by hand (the meter follows) → Compare (the plan against a uniform format) → Export
// GGUF → the PDF report, whose text (pdftotext) names the model and holds the layout table → the
// project saved and reopened. Also: the event loop stays responsive while a job runs (the longest gap
// between 10 ms timer ticks stays under 100 ms), and Cancel stops an export within a second,
// leaving no file behind.
#include <QAbstractButton>
#include <QDir>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFile>
#include <QMessageBox>
#include <QMimeData>
#include <QProcess>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QUrl>
#include <atomic>
#include <stdexcept>

#include "app/studio/analyze_page.h"
#include "app/studio/compare_page.h"
#include "app/studio/hessian_page.h"
#include "app/studio/outlier_page.h"
#include "app/studio/export_page.h"
#include "app/studio/job_center.h"
#include "app/studio/main_window.h"
#include "app/studio/plan_page.h"
#include "core/io/checkpoint.h"
#include "core/io/project_file.h"
#include "widgets/plots/comparison_chart.h"
#include "widgets/views/budget_meter.h"
#include "widgets/views/layer_precision_model.h"
#include "tests/app/studio/studio_test_support.h"

using lowbit::ComparePage;
using lowbit::ExportPage;
using lowbit::JobCenter;
using lowbit::LayerPrecisionModel;
using lowbit::MainWindow;
using lowbit::PlanPage;

using lowbit::test::demo_model;
using lowbit::test::open_demo;
using lowbit::test::kWorkTimeoutMs;

namespace {

// Drops `path` on the window as a file manager would.
void drop_on(QWidget& target, const QString& path) {
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(path)});
  const QPoint at = target.rect().center();
  QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(&target, &enter);
  QDropEvent drop(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(&target, &drop);
}

// Starts a GPTQ export of the demo on many calibration windows into `out` (its layout written to
// `dir`): long enough to cancel, or to quit, in the middle.
bool start_long_export(MainWindow& window, const QString& dir, const QString& out) {
  lowbit::Layout layout;
  auto ck = lowbit::Checkpoint::open(QFile::encodeName(demo_model()).toStdString());
  if (!ck) return false;
  layout.method = lowbit::QuantMethod::Gptq;
  for (const auto& t : (*ck)->tensors())
    if (t.shape.size() == 2 && t.name.find("layers.") != std::string::npos) layout.tensors[t.name] = *lowbit::Format::parse("q4_k");
  layout.predicted = {{"calibration", {{"samples", 256}, {"ctx", 128}}}};
  const QString layout_path = QDir(dir).filePath(QStringLiteral("gptq.layout.json"));
  if (!lowbit::write_layout(layout, QFile::encodeName(layout_path).toStdString())) return false;
  ExportPage* exporter = window.export_page();
  if (!exporter->set_layout_file(layout_path)) return false;
  exporter->set_target(lowbit::ExportTarget::Gguf, out);
  return exporter->start_export();
}

bool plan(PlanPage* page, double bpw) {
  page->set_cache_file({});
  page->set_calibration(page->calibration_file(), 2, 32);
  page->set_budget_bpw(bpw);
  QSignalSpy finished(page, &PlanPage::plan_finished);
  if (!page->start_plan()) return false;
  if (!finished.wait(kWorkTimeoutMs) && finished.count() == 0) return false;
  return finished.at(0).at(0).toBool();
}

QString pdf_text(const QString& pdf) {
  QProcess p;
  p.start(QStringLiteral("pdftotext"), {QStringLiteral("-layout"), pdf, QStringLiteral("-")});
  if (!p.waitForFinished(30'000)) return {};
  return QString::fromUtf8(p.readAllStandardOutput());
}

}  // namespace

class StudioFlowTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("Lowbit"));
    QCoreApplication::setApplicationName(QStringLiteral("lowbit-studio-test"));
    if (demo_model().isEmpty()) QSKIP("the demo model (resources/demo) is absent");
  }

  void init() { QSettings().clear(); }

  void drop_plan_edit_compare_export_report() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MainWindow window;
    window.show();
    QSignalSpy opened(&window, &MainWindow::model_opened);
    drop_on(window, demo_model());
    QVERIFY(opened.wait(kWorkTimeoutMs) || opened.count() == 1);

    // Analyze (Hessians and outliers on 2 windows of 32 tokens): the view pages fill.
    lowbit::AnalyzePage* analyzer = window.analyze_page();
    analyzer->set_output_root(dir.filePath(QStringLiteral("analyses")));
    analyzer->set_calibration(analyzer->calibration_file(), 2, 32);
    analyzer->set_view_kinds({lowbit::ViewKind::Hessian, lowbit::ViewKind::Outliers});
    QSignalSpy analyzed(analyzer, &lowbit::AnalyzePage::analyze_finished);
    QVERIFY2(analyzer->start_analyze(), qPrintable(analyzer->last_error()));
    QVERIFY(analyzed.wait(kWorkTimeoutMs) || analyzed.count() == 1);
    QVERIFY2(analyzed.at(0).at(0).toBool(), qPrintable(analyzer->last_error()));
    QVERIFY(window.hessian_page()->layer_count() > 0);
    QVERIFY(window.outlier_page()->weight_table()->rowCount() > 0);

    // Plan at 3.5 bits per weight, then move one tensor to q8_0: the meter grows by that row's bytes.
    PlanPage* plan_page = window.plan_page();
    QVERIFY2(plan(plan_page, 3.5), qPrintable(plan_page->last_error()));
    LayerPrecisionModel* rows = plan_page->layer_model();
    int row = 0;
    while (row < rows->rowCount() && rows->format_at(row) == QStringLiteral("q8_0")) ++row;
    QVERIFY(row < rows->rowCount());
    const QString edited = rows->rows().at(row).tensor;
    const quint64 before = plan_page->meter()->file_bytes();
    QVERIFY(rows->setData(rows->index(row, LayerPrecisionModel::FormatColumn), QStringLiteral("q8_0")));
    QVERIFY(plan_page->meter()->file_bytes() > before);
    QCOMPARE(plan_page->current_layout()->tensors.at(edited.toStdString()).name(), std::string("q8_0"));

    // Compare the edited plan with uniform q8_0 on a few windows of the demo's validation text.
    window.show_page(MainWindow::ComparePageIndex);
    ComparePage* compare = window.compare_page();
    QVERIFY(compare->add_plan());
    compare->set_uniform_formats({QStringLiteral("q8_0")});
    compare->set_evaluation(QDir(demo_model()).filePath(QStringLiteral("demo-valid.txt")), 32, 4);
    QSignalSpy compared(compare, &ComparePage::compare_finished);
    QVERIFY2(compare->start_compare(), qPrintable(compare->last_error()));
    QVERIFY(compared.wait(kWorkTimeoutMs) || compared.count() == 1);
    QVERIFY2(compared.at(0).at(0).toBool(), qPrintable(compare->last_error()));
    QCOMPARE(compare->rows().size(), size_t(2));
    QCOMPARE(compare->table()->rowCount(), 2);
    for (const auto& r : compare->rows()) {
      QVERIFY(r.ppl > 1 && std::isfinite(r.ppl));
      QVERIFY(r.file_bytes.has_value());
      QVERIFY(r.kld.has_value());
    }
    // The plan is smaller than uniform q8_0; the chart shows both: one plan, one uniform format.
    QVERIFY(*compare->rows()[0].file_bytes < *compare->rows()[1].file_bytes);
    QVERIFY(compare->chart() != nullptr);
    QCOMPARE(compare->chart()->plan_count(), 1);
    QCOMPARE(compare->chart()->uniform_count(), 1);
    QVERIFY(!compare->chart()->placeholder_visible());
    const JobCenter* jobs = window.jobs();
    QVERIFY(!jobs->jobs().empty());
    QCOMPARE(jobs->jobs().back().state, JobCenter::State::Done);

    // Export the plan as GGUF; the file opens as a checkpoint with the edited tensor in q8_0.
    window.show_page(MainWindow::ExportPageIndex);
    ExportPage* exporter = window.export_page();
    const QString gguf = dir.filePath(QStringLiteral("demo-plan.gguf"));
    exporter->use_current_plan();
    exporter->set_target(lowbit::ExportTarget::Gguf, gguf);
    // First its estimate (a probe of one block; nothing written), then the export itself.
    QSignalSpy estimated(exporter, &ExportPage::estimate_finished);
    QVERIFY2(exporter->start_estimate(), qPrintable(exporter->last_error()));
    QVERIFY(estimated.wait(kWorkTimeoutMs) || estimated.count() == 1);
    QVERIFY2(estimated.at(0).at(0).toBool(), qPrintable(exporter->last_error()));
    QVERIFY(exporter->last_estimate().has_value() && exporter->last_estimate()->bytes.has_value());
    QVERIFY(exporter->last_estimate()->seconds > 0);
    QVERIFY(!QFileInfo::exists(gguf));
    QSignalSpy exported(exporter, &ExportPage::export_finished);
    QVERIFY2(exporter->start_export(), qPrintable(exporter->last_error()));
    QVERIFY(exported.wait(kWorkTimeoutMs) || exported.count() == 1);
    QVERIFY2(exported.at(0).at(0).toBool(), qPrintable(exporter->last_error()));
    QVERIFY(QFileInfo(gguf).isFile());
    QCOMPARE(quint64(QFileInfo(gguf).size()), exporter->last_export()->bytes);
    QCOMPARE(quint64(QFileInfo(gguf).size()), quint64(*exporter->last_estimate()->bytes));
    auto ck = lowbit::Checkpoint::open(QFile::encodeName(gguf).toStdString());
    QVERIFY2(ck.has_value(), ck ? "" : ck.error().message.c_str());

    // The report names the model and lists the layout's tensors with their formats.
    const QString pdf = dir.filePath(QStringLiteral("report.pdf"));
    QVERIFY2(exporter->write_report(pdf), qPrintable(exporter->last_error()));
    QVERIFY(QFileInfo(pdf).size() > 1000);
    QVERIFY(!QFileInfo::exists(pdf + QStringLiteral(".partial")));
    const QString text = pdf_text(pdf);
    QVERIFY2(!text.isEmpty(), "pdftotext read nothing (is poppler-utils installed?)");
    QVERIFY(text.contains(QStringLiteral("Quantization report: demo")));
    QVERIFY(text.contains(edited));
    QVERIFY(text.contains(QStringLiteral("q8_0")));
    QVERIFY(text.contains(QStringLiteral("Summary: layouts compared")));
    QVERIFY(text.contains(QStringLiteral("demo-plan.gguf")));
    QVERIFY(text.contains(QStringLiteral("Hessian of block")));  // the analysis' figures
    QVERIFY(text.contains(QStringLiteral("Outliers")));

    // Save the project and reopen it in a new window: layouts, comparison and exports come back.
    const QString project = dir.filePath(QStringLiteral("demo.lowbit"));
    QVERIFY(window.save_project(project));
    MainWindow reopened;
    QSignalSpy reopened_model(&reopened, &MainWindow::model_opened);
    QVERIFY(reopened.open_project(project));
    QVERIFY(reopened_model.wait(kWorkTimeoutMs) || reopened_model.count() == 1);
    QCOMPARE(reopened.compare_page()->rows().size(), size_t(2));
    QCOMPARE(reopened.compare_page()->candidates().size(), size_t(2));  // the plan and "plan 1"
    const lowbit::Project p = reopened.project();
    QCOMPARE(p.exports.size(), size_t(1));
    QCOMPARE(p.exports[0].bytes, exporter->last_export()->bytes);
    QCOMPARE(p.comparison->rows[0].ppl, compare->rows()[0].ppl);
  }

  void a_job_that_throws_fails_naming_it_and_jobs_run_one_at_a_time() {
    struct Result {
      QString error;
      bool cancelled = false;
      int order = 0;
    };
    JobCenter jobs;
    std::atomic<int> running{0}, most{0}, next{0};
    auto work = [&](lowbit::Progress&, const lowbit::CancelToken&) {
      most = std::max(most.load(), ++running);
      QThread::msleep(50);
      Result r;
      r.order = ++next;
      --running;
      return r;
    };
    QFuture<Result> a = jobs.run<Result>(QStringLiteral("a"), work), b = jobs.run<Result>(QStringLiteral("b"), work);
    QCOMPARE(jobs.jobs().back().stage, QStringLiteral("waiting for the running job to end"));
    QFuture<Result> thrown = jobs.run<Result>(QStringLiteral("throws"), [](lowbit::Progress&, const lowbit::CancelToken&) -> Result {
      throw std::runtime_error("a broken invariant");
    });
    QFuture<Result> cancelled = jobs.run<Result>(QStringLiteral("cancelled while waiting"), work);
    jobs.cancel(jobs.jobs().back().id);
    QTRY_VERIFY_WITH_TIMEOUT(jobs.running_count() == 0, kWorkTimeoutMs);
    QCOMPARE(most.load(), 1);  // never two at once
    QCOMPARE(a.result().order, 1);
    QCOMPARE(b.result().order, 2);
    QCOMPARE(thrown.resultCount(), 1);
    QCOMPARE(thrown.result().error, QStringLiteral("internal error: a broken invariant"));
    QCOMPARE(jobs.jobs()[2].state, JobCenter::State::Failed);
    QVERIFY(cancelled.result().cancelled);
    QCOMPARE(next.load(), 2);  // the cancelled one never ran
    QCOMPARE(jobs.jobs()[3].state, JobCenter::State::Cancelled);
  }

  void a_project_whose_model_fails_to_open_is_not_saved_over() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MainWindow window;
    QVERIFY(open_demo(window));
    const QString saved = dir.filePath(QStringLiteral("demo.lowbit"));
    QVERIFY(window.save_project(saved));
    // A project whose model is gone: its open fails, and Save still means the project saved before.
    const QString moved = dir.filePath(QStringLiteral("moved.lowbit"));
    QFile f(saved);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QByteArray json = f.readAll();
    f.close();
    json.replace(QFile::encodeName(QDir(demo_model()).absolutePath()), QByteArrayLiteral("/nonexistent/model"));
    QFile m(moved);
    QVERIFY(m.open(QIODevice::WriteOnly));
    m.write(json);
    m.close();
    QSignalSpy failed(&window, &MainWindow::open_failed);
    QVERIFY(window.open_project(moved));
    QVERIFY(failed.wait(kWorkTimeoutMs) || failed.count() == 1);
    QCOMPARE(window.project_path(), saved);
  }

  void a_reopened_project_keeps_its_plan_when_saved_again() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MainWindow window;
    QVERIFY(open_demo(window));
    QVERIFY2(plan(window.plan_page(), 5.0), qPrintable(window.plan_page()->last_error()));
    const QString first = dir.filePath(QStringLiteral("first.lowbit")), second = dir.filePath(QStringLiteral("second.lowbit"));
    QVERIFY(window.save_project(first));
    QSignalSpy opened(&window, &MainWindow::model_opened);
    QVERIFY(window.open_project(first));
    QVERIFY(opened.wait(kWorkTimeoutMs) || opened.count() == 1);
    QVERIFY(window.save_project(second));
    auto reread = lowbit::read_project(QFile::encodeName(second).toStdString());
    QVERIFY(reread.has_value());
    int plans = 0;
    for (const auto& l : reread->layouts) plans += l.name == "plan" ? 1 : 0;
    QCOMPARE(plans, 1);
  }

  void the_event_loop_stays_responsive_while_a_job_runs() {
    MainWindow window;
    window.show();
    QSignalSpy opened(&window, &MainWindow::model_opened);
    window.open_path(demo_model());
    QVERIFY(opened.wait(kWorkTimeoutMs) || opened.count() == 1);
    ComparePage* compare = window.compare_page();
    compare->set_uniform_formats({QStringLiteral("q4_k"), QStringLiteral("q6_k"), QStringLiteral("q8_0")});
    compare->set_evaluation(QDir(demo_model()).filePath(QStringLiteral("demo-valid.txt")), 128, 0);
    QSignalSpy compared(compare, &ComparePage::compare_finished);
    QElapsedTimer clock;
    qint64 last = 0, longest = 0;
    int ticks = 0;
    QTimer timer;
    timer.setInterval(10);
    connect(&timer, &QTimer::timeout, this, [&] {
      const qint64 now = clock.elapsed();
      longest = std::max(longest, now - last);
      last = now;
      ++ticks;
    });
    QVERIFY(compare->start_compare());
    clock.start();
    timer.start();
    QVERIFY(compared.wait(kWorkTimeoutMs) || compared.count() == 1);
    timer.stop();
    QVERIFY2(compared.at(0).at(0).toBool(), qPrintable(compare->last_error()));
    QVERIFY2(ticks > 20, "the job ended too soon to measure anything");
    QVERIFY2(longest < 100, qPrintable(QStringLiteral("longest gap between ticks: %1 ms over %2 ticks").arg(longest).arg(ticks)));
  }

  void cancel_stops_an_export_within_a_second_and_leaves_no_file() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MainWindow window;
    QVERIFY(open_demo(window));
    const QString out = dir.filePath(QStringLiteral("cancelled.gguf"));
    ExportPage* exporter = window.export_page();
    QSignalSpy finished(exporter, &ExportPage::export_finished);
    QVERIFY(start_long_export(window, dir.path(), out));
    JobCenter* jobs = window.jobs();
    const int id = jobs->jobs().back().id;
    // Cancel once the job is under way (past opening the model).
    QTRY_VERIFY_WITH_TIMEOUT(jobs->job(id)->fraction > 0.06 || finished.count() > 0, kWorkTimeoutMs);
    QVERIFY2(finished.count() == 0, "the export ended before it could be cancelled");
    QElapsedTimer clock;
    clock.start();
    jobs->cancel(id);
    QVERIFY(finished.wait(60'000) || finished.count() == 1);
    const qint64 ms = clock.elapsed();
    QVERIFY(!finished.at(0).at(0).toBool());
    QVERIFY2(ms < 1000, qPrintable(QStringLiteral("cancel took %1 ms").arg(ms)));
    QCOMPARE(jobs->job(id)->state, JobCenter::State::Cancelled);
    QVERIFY(!QFileInfo::exists(out));
    QVERIFY2(!QFileInfo::exists(out + QStringLiteral(".resume")), "a cancelled export keeps no resume folder");
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot).size(), qsizetype(1));  // only the layout
  }

  void quitting_with_a_job_running_asks_first() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MainWindow window;
    window.show();
    QVERIFY(open_demo(window));
    QVERIFY(start_long_export(window, dir.path(), dir.filePath(QStringLiteral("quit.gguf"))));
    QVERIFY(!window.close());  // a question instead, which does not block the event loop
    QMessageBox* box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = window.findChild<QMessageBox*>()) != nullptr && box->isVisible(), 5000);
    QVERIFY(window.isVisible());
    QAbstractButton* quit = nullptr;
    for (QAbstractButton* b : box->buttons())
      if (box->buttonRole(b) == QMessageBox::DestructiveRole) quit = b;
    QVERIFY(quit != nullptr);
    quit->click();
    QTRY_VERIFY_WITH_TIMEOUT(!window.isVisible(), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(window.jobs()->running_count() == 0, kWorkTimeoutMs);
    QCOMPARE(window.jobs()->jobs().back().state, JobCenter::State::Cancelled);
  }
};

QTEST_MAIN(StudioFlowTest)
#include "studio_flow_test.moc"
