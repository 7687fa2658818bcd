// The Analyze page and the three view pages on the demo model (resources/demo: 4 blocks, hidden 256,
// FFN 512): one analysis of 2 windows × 32 tokens with every view runs as a job and fills the
// Hessian page (|H| at fp and at 2/3/4 bits with matching sizes, spectra, the summary table), the
// scale-loss page (landscape with its minimum, the 4 × 4 scale Hessian, AWQ α and clip curves per
// bit width) and the outlier page (weight table, log-count histogram, kurtosis per part, channel
// maxima with fences); a CBQ layout exported from the Export page puts its per-window loss curves on
// the scale-loss page; Cancel leaves no folder behind and keeps the views; the project file brings
// the analysis back.
#include <QCheckBox>
#include <QDir>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include "app/studio/analyze_page.h"
#include "app/studio/export_page.h"
#include "app/studio/hessian_page.h"
#include "app/studio/job_center.h"
#include "app/studio/outlier_page.h"
#include "app/studio/scale_loss_page.h"
#include "core/io/checkpoint.h"
#include "core/plan/layout.h"
#include "tests/app/studio/studio_test_support.h"
#include "widgets/plots/channel_max_plot.h"
#include "widgets/plots/curve_plot.h"
#include "widgets/plots/heatmap_plot.h"
#include "widgets/plots/histogram_plot.h"
#include "widgets/plots/landscape_plot.h"
#include "widgets/plots/spectrum_plot.h"

using lowbit::AnalyzePage;
using lowbit::LinearInput;
using lowbit::MainWindow;
using lowbit::ViewKind;
using lowbit::test::kWorkTimeoutMs;

namespace {

bool analyze(AnalyzePage* page, int samples = 2, int ctx = 32) {
  page->set_calibration(page->calibration_file(), samples, ctx);
  page->set_landscape_points(5);
  QSignalSpy finished(page, &AnalyzePage::analyze_finished);
  if (!page->start_analyze()) return false;
  if (!finished.wait(kWorkTimeoutMs) && finished.count() == 0) return false;
  return finished.at(0).at(0).toBool();
}

int subfolders(const QString& dir) { return static_cast<int>(QDir(dir).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size()); }

}  // namespace

class StudioAnalysisTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("Lowbit"));
    QCoreApplication::setApplicationName(QStringLiteral("lowbit-studio-test"));
    if (lowbit::test::demo_model().isEmpty()) QSKIP("the demo model (resources/demo) is absent");
  }

  void init() { QSettings().clear(); }

  void analyze_fills_the_view_pages() {
    QTemporaryDir out;
    QVERIFY(out.isValid());
    MainWindow window;
    QVERIFY(lowbit::test::open_demo(window));
    AnalyzePage* page = window.analyze_page();
    page->set_output_root(out.path());
    // First the estimate: the same job stopped at a tenth of its progress, nothing kept.
    page->set_calibration(page->calibration_file(), 2, 32);
    page->set_landscape_points(5);
    QSignalSpy estimated(page, &AnalyzePage::estimate_finished);
    QVERIFY2(page->start_estimate(), qPrintable(page->last_error()));
    QVERIFY(estimated.wait(kWorkTimeoutMs) || estimated.count() == 1);
    QVERIFY2(estimated.at(0).at(0).toBool(), qPrintable(page->last_error()));
    QVERIFY(page->last_estimate().has_value());
    QVERIFY(page->last_estimate()->seconds > 0);
    QVERIFY(page->last_estimate()->peak_rss_mb > 0);
    QVERIFY(page->last_estimate()->probed_fraction > 0.1);
    QVERIFY(page->last_estimate()->bytes.value_or(0) > 0);
    QCOMPARE(subfolders(out.path()), 0);
    QVERIFY(page->views_dir().isEmpty());
    QVERIFY2(analyze(page), qPrintable(page->last_error()));
    QVERIFY(QFileInfo::exists(QDir(page->views_dir()).filePath(QStringLiteral("views.json"))));
    QVERIFY(QFileInfo::exists(QDir(page->views_dir()).filePath(QStringLiteral("views.safetensors"))));
    QCOMPARE(subfolders(out.path()), 1);
    QCOMPARE(window.jobs()->jobs().back().state, lowbit::JobCenter::State::Done);

    // Hessian: the demo is small enough for every block: 4 blocks × 4 inputs, 4 levels.
    lowbit::HessianPage* hp = window.hessian_page();
    QCOMPARE(hp->layer_count(), 16);
    QCOMPARE(hp->levels(), (std::vector<std::string>{"fp", "b2", "b3", "b4"}));
    QVERIFY(hp->select_layer(1, LinearInput::kDown));
    for (int l = 0; l < 4; ++l) {
      QCOMPARE(hp->heatmap(l)->matrix().rows, int64_t{512});  // the down projection's input: FFN 512
      QVERIFY(!hp->heatmap(l)->placeholder_visible());
    }
    QVERIFY(hp->heatmap(0)->has_shared_range());  // one colour scale side by side
    QCOMPARE(hp->spectrum()->series_count(), 4);
    QCOMPARE(hp->spectrum()->point_count(0) + hp->spectrum()->hidden_count(0), 512);
    QCOMPARE(hp->summary_table()->rowCount(), 4);
    QVERIFY(hp->select_layer(0, LinearInput::kQkv));
    QCOMPARE(hp->heatmap(0)->matrix().rows, int64_t{256});
    QVERIFY(!hp->select_layer(9, LinearInput::kQkv));

    // Scale-loss: 2, 3, 4 bits; the landscape over blocks (a, a + 1) with its minimum; 4 × 4 Hessian.
    lowbit::ScaleLossPage* sp = window.scale_loss_page();
    QCOMPARE(sp->bits(), (std::vector<int>{2, 3, 4}));
    QVERIFY(sp->select_bits(2));
    QVERIFY(sp->landscape()->grid().valid());
    QCOMPARE(sp->landscape()->grid().x.size(), size_t(5));
    QVERIFY(sp->landscape()->minimum().found());
    QCOMPARE(sp->scale_hessian()->grid().x.size(), size_t(4));
    QCOMPARE(sp->scale_hessian()->scale_mode(), lowbit::ColourScale::Diverging);
    QCOMPARE(sp->group_count(), 16);  // 4 blocks × qkv, o, gate_up, down
    QVERIFY(sp->select_group(2, "down"));
    QCOMPARE(sp->alpha_curves()->series_count(), 3);
    QCOMPARE(sp->clip_curves()->series_count(), 3);
    QVERIFY(sp->alpha_curves()->series_minimum(0).has_value());

    // Outliers: one histogram per weight matrix (4 blocks × q, k, v, o, gate, up, down).
    lowbit::OutlierPage* op = window.outlier_page();
    QCOMPARE(op->weight_table()->rowCount(), 28);
    QVERIFY(op->select_weight(QStringLiteral("model.layers.3.mlp.down_proj.weight")));
    QVERIFY(op->histogram()->bar_count() > 0);
    QVERIFY(op->histogram()->log_counts());
    QCOMPARE(op->kurtosis()->series_count(), 7);
    QCOMPARE(op->input_count(), 16);
    QVERIFY(op->select_input(3, LinearInput::kDown));
    QCOMPARE(op->channels()->channel_count(), 512);
    QVERIFY(op->channels()->coarse_fence_visible());
    QVERIFY(!op->top_channels_text().isEmpty());

    // Every view page can be shown, and the page list reaches it.
    for (int p : {MainWindow::AnalyzePageIndex, MainWindow::HessianPageIndex, MainWindow::ScaleLossPageIndex,
                  MainWindow::OutliersPageIndex}) {
      window.show_page(p);
      QCOMPARE(window.current_page(), p);
    }

    // The project keeps the analysis: a reopened window shows it again without analyzing.
    QTemporaryDir project_dir;
    const QString project = QDir(project_dir.path()).filePath(QStringLiteral("demo.lowbit"));
    QVERIFY(window.save_project(project));
    MainWindow reopened;
    QSignalSpy opened(&reopened, &MainWindow::model_opened);
    QVERIFY(reopened.open_project(project));
    QVERIFY(opened.wait(kWorkTimeoutMs) || opened.count() == 1);
    QCOMPARE(reopened.analyze_page()->views_dir(), page->views_dir());
    QCOMPARE(reopened.hessian_page()->layer_count(), 16);
    QCOMPARE(reopened.outlier_page()->weight_table()->rowCount(), 28);
  }

  void cancel_leaves_nothing_and_keeps_the_views() {
    QTemporaryDir out;
    MainWindow window;
    QVERIFY(lowbit::test::open_demo(window));
    AnalyzePage* page = window.analyze_page();
    page->set_output_root(out.path());
    page->set_view_kinds({ViewKind::Outliers});
    QVERIFY2(analyze(page), qPrintable(page->last_error()));
    const QString first = page->views_dir();
    QCOMPARE(subfolders(out.path()), 1);

    // A long analysis, cancelled at once.
    page->set_view_kinds({ViewKind::Hessian, ViewKind::ScaleHessian, ViewKind::Landscape, ViewKind::Awq, ViewKind::Outliers});
    page->set_calibration(page->calibration_file(), 64, 256);
    QSignalSpy finished(page, &AnalyzePage::analyze_finished);
    QVERIFY(page->start_analyze());
    QVERIFY(page->busy());
    QVERIFY(!page->start_analyze());  // one at a time
    page->cancel_analyze();
    QVERIFY(finished.wait(60'000) || finished.count() == 1);
    QCOMPARE(finished.at(0).at(0).toBool(), false);
    QCOMPARE(subfolders(out.path()), 1);
    QCOMPARE(page->views_dir(), first);
    QVERIFY(page->views() != nullptr);
    QCOMPARE(window.outlier_page()->weight_table()->rowCount(), 28);
    QCOMPARE(window.jobs()->jobs().back().state, lowbit::JobCenter::State::Cancelled);
  }

  // A CBQ layout exported from the Export page: its per-window loss curves reach the scale-loss page.
  void a_cbq_export_shows_its_loss_curves() {
    QTemporaryDir dir;
    MainWindow window;
    QVERIFY(lowbit::test::open_demo(window));
    lowbit::ScaleLossPage* sp = window.scale_loss_page();
    QCOMPARE(sp->cbq_curves()->series_count(), 0);
    lowbit::Layout layout;
    {
      auto ck = lowbit::Checkpoint::open(QFile::encodeName(lowbit::test::demo_model()).toStdString());
      QVERIFY(ck.has_value());
      layout.method = lowbit::QuantMethod::Cbq;
      for (const auto& t : (*ck)->tensors())
        if (t.shape.size() == 2 && t.name.find("layers.") != std::string::npos) layout.tensors[t.name] = *lowbit::Format::parse("int4g64a");
      layout.predicted = {{"calibration", {{"samples", 8}, {"ctx", 32}}}};
    }
    const QString layout_path = dir.filePath(QStringLiteral("cbq.layout.json"));
    QVERIFY(lowbit::write_layout(layout, QFile::encodeName(layout_path).toStdString()).has_value());
    lowbit::ExportPage* exporter = window.export_page();
    QVERIFY(exporter->set_layout_file(layout_path));
    exporter->set_target(lowbit::ExportTarget::Gptq, dir.filePath(QStringLiteral("demo-cbq")));
    QSignalSpy finished(exporter, &lowbit::ExportPage::export_finished);
    QVERIFY2(exporter->start_export(), qPrintable(exporter->last_error()));
    QVERIFY(finished.wait(kWorkTimeoutMs) || finished.count() == 1);
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(exporter->last_error()));
    const lowbit::CbqReport& report = exporter->last_export()->cbq;
    QCOMPARE(report.windows.size(), size_t(3));  // 4 blocks, windows of 2 sliding by 1
    QCOMPARE(sp->cbq_curves()->series_count(), 3);
    QCOMPARE(sp->cbq_curves()->point_count(0), static_cast<int>(report.windows[0].loss.size()));
    QVERIFY(sp->cbq_curves()->point_count(0) > 0);
    QCOMPARE(sp->cbq_curves()->series_name(0), QStringLiteral("blocks 0–1"));
  }

  void bad_input_is_refused_with_a_message() {
    MainWindow window;
    QVERIFY(lowbit::test::open_demo(window));
    AnalyzePage* page = window.analyze_page();
    page->set_calibration(QStringLiteral("/nonexistent/calib.txt"), 2, 32);
    QVERIFY(!page->start_analyze());
    QVERIFY(page->last_error().contains(QStringLiteral("calib.txt")));
    page->set_calibration(lowbit::default_calibration_text(lowbit::test::demo_model()), 2, 32);
    page->set_view_kinds({});
    QVERIFY(!page->start_analyze());
    QVERIFY(!page->last_error().isEmpty());
    QVERIFY(!page->open_views(QStringLiteral("/nonexistent/analysis")));
    QVERIFY(page->views() == nullptr);
  }
};

QTEST_MAIN(StudioAnalysisTest)
#include "studio_analysis_test.moc"
