// The "Budget and plan" page end to end on the demo model (resources/demo: 4 blocks, tiny): a plan
// on two windows of 32 tokens runs on the worker to completion, fills the layer table and the meter;
// editing one row's format moves the meter by that row's bytes; Save writes a layout that
// read_layout accepts; Cancel stops a running plan; a missing calibration file is refused up front.
#include <QDir>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include "app/studio/main_window.h"
#include "app/studio/plan_page.h"
#include "core/plan/layout.h"
#include "widgets/views/budget_meter.h"
#include "widgets/views/layer_precision_model.h"
#include "tests/app/studio/studio_test_support.h"

using lowbit::LayerPrecisionModel;
using lowbit::MainWindow;
using lowbit::PlanPage;

using lowbit::test::demo_model;
using lowbit::test::open_demo;
using lowbit::test::kWorkTimeoutMs;

class StudioPlanTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("Lowbit"));
    QCoreApplication::setApplicationName(QStringLiteral("lowbit-studio-test"));
    if (demo_model().isEmpty()) QSKIP("the demo model (resources/demo) is absent");
  }

  void init() { QSettings().clear(); }

  void the_page_needs_a_model() {
    MainWindow window;
    window.show_page(MainWindow::PlanPageIndex);
    QCOMPARE(window.current_page(), int(MainWindow::StartPageIndex));
    QVERIFY(!window.plan_page()->plan_button()->isEnabled());
    QVERIFY(!window.plan_page()->start_plan());
    QCOMPARE(MainWindow::page_key(MainWindow::PlanPageIndex), QStringLiteral("plan"));
  }

  void plan_edit_and_save() {
    MainWindow window;
    window.show();
    QVERIFY(open_demo(window));
    window.show_page(MainWindow::PlanPageIndex);
    QCOMPARE(window.current_page(), int(MainWindow::PlanPageIndex));
    PlanPage* page = window.plan_page();
    QVERIFY(page->calibration_file().endsWith(QStringLiteral("demo-calib.txt")));
    QCOMPARE(page->checked_formats(), QStringList({"q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_0"}));
    page->set_cache_file({});
    page->set_calibration(page->calibration_file(), 2, 32);
    page->set_budget_bpw(5.0);

    QSignalSpy finished(page, &PlanPage::plan_finished);
    QVERIFY2(page->start_plan(), qPrintable(page->last_error()));
    QVERIFY(!page->plan_button()->isEnabled() || !page->busy());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWorkTimeoutMs);
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(page->last_error()));
    QVERIFY(page->has_plan());
    QVERIFY(page->plan_button()->isEnabled());

    // 4 blocks × 7 linears and the (tied) token embeddings.
    LayerPrecisionModel* model = page->layer_model();
    QCOMPARE(model->rowCount(), 29);
    QCOMPARE(page->table()->model()->rowCount(), 29);
    lowbit::BudgetMeter* meter = page->meter();
    QVERIFY(meter->file_bytes() > 0);
    QVERIFY(!meter->over_budget());
    QVERIFY(meter->bits_per_weight() > 2 && meter->bits_per_weight() <= 5.0);
    QVERIFY(meter->predicted_ppl() > 1);

    // The first row whose format is not q8_0 goes to q8_0: the meter grows by exactly that difference.
    int row = 0;
    while (row < model->rowCount() && model->format_at(row) == QStringLiteral("q8_0")) ++row;
    QVERIFY(row < model->rowCount());
    const lowbit::LayerRow& r = model->rows().at(row);
    const quint64 old_bytes = r.choices.at(r.chosen).bytes;
    const quint64 before = meter->file_bytes();
    QVERIFY(model->setData(model->index(row, LayerPrecisionModel::FormatColumn), QStringLiteral("q8_0")));
    const quint64 new_bytes = model->rows().at(row).choices.at(model->rows().at(row).chosen).bytes;
    QVERIFY(new_bytes > old_bytes);
    QCOMPARE(meter->file_bytes(), before + new_bytes - old_bytes);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("edited.layout.json"));
    QVERIFY2(page->save_layout(path), qPrintable(page->last_error()));
    auto layout = lowbit::read_layout(QFile::encodeName(path).toStdString());
    QVERIFY2(layout.has_value(), layout ? "" : layout.error().message.c_str());
    QCOMPARE(layout->tensors.size(), size_t(29));
    QCOMPARE(layout->tensors.at(r.tensor.toStdString()).name(), std::string("q8_0"));
    QCOMPARE(layout->predicted.at("file_bytes").get<quint64>(), meter->file_bytes());
    QCOMPARE(layout->predicted.at("edited_tensors").get<int>(), 1);
  }

  void cancel_stops_a_plan() {
    MainWindow window;
    QVERIFY(open_demo(window));
    PlanPage* page = window.plan_page();
    page->set_cache_file({});
    page->set_calibration(page->calibration_file(), 8, 128);
    page->set_budget_bpw(4.5);
    QSignalSpy finished(page, &PlanPage::plan_finished);
    QVERIFY(page->start_plan());
    page->cancel_plan();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWorkTimeoutMs);
    QVERIFY(!finished.at(0).at(0).toBool());
    QVERIFY(!page->has_plan());
    QVERIFY(!page->busy());
    QVERIFY(page->plan_button()->isEnabled());
  }

  void a_missing_calibration_file_is_refused() {
    MainWindow window;
    QVERIFY(open_demo(window));
    PlanPage* page = window.plan_page();
    page->set_calibration(QStringLiteral("/nonexistent/calib.txt"), 2, 32);
    QVERIFY(!page->start_plan());
    QVERIFY(page->last_error().contains(QStringLiteral("calib.txt")));
    QVERIFY(!page->busy());
  }
};

QTEST_MAIN(StudioPlanTest)
#include "studio_plan_test.moc"
