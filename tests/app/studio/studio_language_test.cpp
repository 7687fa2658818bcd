// The studio's run-time language switch: installing the Simplified Chinese translations (the .qm
// embedded from translations/lowbit_zh_CN.ts) re-labels a window that is already open — the page
// list, the menus, the docks, the Plan button, the budget meter, the tensor table's header (the
// model announces headerDataChanged) and a chart's axis — and switching back restores English.
// Also: which language a locale gets, and what is saved.
#include <QDockWidget>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTest>

#include "app/studio/language.h"
#include "app/studio/main_window.h"
#include "app/studio/model_page.h"
#include "app/studio/plan_page.h"
#include "widgets/plots/comparison_chart.h"
#include "widgets/plots/histogram_plot.h"
#include "widgets/views/budget_meter.h"
#include "widgets/views/layer_precision_model.h"
#include "widgets/views/tensor_table_model.h"
#include "tests/app/studio/studio_test_support.h"
#include <qcustomplot.h>

using lowbit::MainWindow;

using lowbit::test::demo_model;
using lowbit::test::open_demo;
using lowbit::test::kWorkTimeoutMs;

namespace {

QListWidget* page_list(const MainWindow& window) { return window.findChild<QListWidget*>(QStringLiteral("pageList")); }

QString menu_title(const MainWindow& window, int index) { return window.menuBar()->actions().value(index)->text(); }

QString dock_title(const MainWindow& window, const char* name) {
  return window.findChild<QDockWidget*>(QString::fromLatin1(name))->windowTitle();
}

bool has_label(const QWidget* parent, const QString& text) {
  for (const QLabel* l : parent->findChildren<QLabel*>())
    if (l->text() == text) return true;
  return false;
}

}  // namespace

class StudioLanguageTest : public QObject {
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

  void an_open_window_switches_to_chinese_and_back() {
    MainWindow window;
    window.show();
    QListWidget* pages = page_list(window);
    QVERIFY(pages);
    QCOMPARE(pages->item(MainWindow::PlanPageIndex)->text(), QStringLiteral("Budget and plan"));
    QCOMPARE(menu_title(window, 0), QStringLiteral("&File"));
    QCOMPARE(window.plan_page()->plan_button()->text(), QStringLiteral("Plan"));
    QVERIFY(has_label(window.plan_page()->meter(), QStringLiteral("Predicted perplexity")));

    QVERIFY(lowbit::set_language(QStringLiteral("zh_CN")));
    QCOMPARE(lowbit::current_language(), QStringLiteral("zh_CN"));
    QCOMPARE(MainWindow::page_title(MainWindow::PlanPageIndex), QStringLiteral("预算与规划"));
    // Qt delivers LanguageChange to top-level windows through the event loop.
    QTRY_COMPARE(pages->item(MainWindow::PlanPageIndex)->text(), QStringLiteral("预算与规划"));
    QCOMPARE(pages->item(MainWindow::StartPageIndex)->text(), QStringLiteral("开始"));
    QCOMPARE(menu_title(window, 0), QStringLiteral("文件(&F)"));
    QCOMPARE(menu_title(window, 1), QStringLiteral("视图(&V)"));
    QCOMPARE(dock_title(window, "jobsDock"), QStringLiteral("任务"));
    QCOMPARE(window.plan_page()->plan_button()->text(), QStringLiteral("规划"));
    QCOMPARE(window.plan_page()->cancel_button()->text(), QStringLiteral("取消"));
    QVERIFY(has_label(window.plan_page()->meter(), QStringLiteral("预测困惑度")));
    QCOMPARE(window.model_page()->histogram_plot()->plot()->xAxis->label(), QStringLiteral("权重值"));
    QCOMPARE(window.windowTitle(), QStringLiteral("Lowbit Studio"));

    QVERIFY(lowbit::set_language(QStringLiteral("en")));
    QCOMPARE(lowbit::current_language(), QStringLiteral("en"));
    QTRY_COMPARE(pages->item(MainWindow::PlanPageIndex)->text(), QStringLiteral("Budget and plan"));
    QCOMPARE(menu_title(window, 0), QStringLiteral("&File"));
    QCOMPARE(dock_title(window, "jobsDock"), QStringLiteral("Jobs"));
    QCOMPARE(window.plan_page()->plan_button()->text(), QStringLiteral("Plan"));
    QVERIFY(has_label(window.plan_page()->meter(), QStringLiteral("Predicted perplexity")));
    QCOMPARE(window.model_page()->histogram_plot()->plot()->xAxis->label(), QStringLiteral("weight value"));
  }

  void a_window_made_in_chinese_starts_in_chinese() {
    QVERIFY(lowbit::set_language(QStringLiteral("zh_CN")));
    MainWindow window;
    QCOMPARE(page_list(window)->item(MainWindow::ComparePageIndex)->text(), QStringLiteral("比较"));
    QCOMPARE(window.plan_page()->plan_button()->text(), QStringLiteral("规划"));
    QCOMPARE(window.plan_page()->layer_model()->headerData(0, Qt::Horizontal).toString(), QStringLiteral("块"));
  }

  void the_tensor_table_header_is_asked_again() {
    if (demo_model().isEmpty()) QSKIP("the demo model (resources/demo) is absent");
    MainWindow window;
    window.show();
    QSignalSpy opened(&window, &MainWindow::model_opened);
    window.open_path(demo_model());
    QVERIFY(opened.wait(kWorkTimeoutMs) || opened.count() == 1);
    QAbstractItemModel* table = window.model_page()->tensor_table()->model();
    QCOMPARE(table->headerData(lowbit::TensorTableModel::NameColumn, Qt::Horizontal).toString(), QStringLiteral("Tensor"));
    QSignalSpy header_changed(window.model_page()->tensor_model(), &QAbstractItemModel::headerDataChanged);

    QVERIFY(lowbit::set_language(QStringLiteral("zh_CN")));
    QTRY_VERIFY(header_changed.count() >= 1);
    QCOMPARE(table->headerData(lowbit::TensorTableModel::NameColumn, Qt::Horizontal).toString(), QStringLiteral("张量"));
    bool summary = false;  // the status bar's "… · N parameters · size", re-made
    for (const QLabel* l : window.statusBar()->findChildren<QLabel*>()) summary |= l->text().contains(QStringLiteral("参数"));
    QVERIFY(summary);
  }

  void charts_relabel_their_own_texts() {
    lowbit::ComparisonChart chart;
    QCOMPARE(chart.plot()->yAxis->label(), QStringLiteral("perplexity"));
    QCOMPARE(chart.placeholder_text(), QStringLiteral("No layouts measured yet"));
    QVERIFY(lowbit::set_language(QStringLiteral("zh_CN")));
    QTRY_COMPARE(chart.plot()->yAxis->label(), QStringLiteral("困惑度"));
    QCOMPARE(chart.placeholder_text(), QStringLiteral("尚未测量任何布局"));
    // A placeholder the caller chose stays the caller's.
    chart.show_placeholder(QStringLiteral("caller's text"));
    QVERIFY(lowbit::set_language(QStringLiteral("en")));
    QTRY_COMPARE(chart.plot()->yAxis->label(), QStringLiteral("perplexity"));
    QCOMPARE(chart.placeholder_text(), QStringLiteral("caller's text"));
  }

  void languages_and_locales() {
    QCOMPARE(lowbit::supported_languages(), QStringList({QStringLiteral("en"), QStringLiteral("zh_CN")}));
    QCOMPARE(lowbit::language_native_name(QStringLiteral("zh_CN")), QStringLiteral("简体中文"));
    QCOMPARE(lowbit::language_for_locale(QStringLiteral("zh_CN")), QStringLiteral("zh_CN"));
    QCOMPARE(lowbit::language_for_locale(QStringLiteral("zh_SG")), QStringLiteral("zh_CN"));
    QCOMPARE(lowbit::language_for_locale(QStringLiteral("zh_TW")), QStringLiteral("en"));  // Traditional: not shipped
    QCOMPARE(lowbit::language_for_locale(QStringLiteral("de_DE")), QStringLiteral("en"));
    QCOMPARE(lowbit::language_for_locale(QStringLiteral("en_US")), QStringLiteral("en"));
  }

  void the_choice_is_saved_and_unknown_codes_are_refused() {
    QVERIFY(!lowbit::set_language(QStringLiteral("fr")));
    QCOMPARE(lowbit::current_language(), QStringLiteral("en"));
    QVERIFY(lowbit::apply_language(QStringLiteral("zh_CN")));
    QCOMPARE(QSettings().value(QLatin1String(lowbit::kLanguageSettingsKey)).toString(), QStringLiteral("zh_CN"));
    QCOMPARE(lowbit::saved_language(), QStringLiteral("zh_CN"));
    QSettings().setValue(QLatin1String(lowbit::kLanguageSettingsKey), QStringLiteral("fr"));
    QVERIFY(lowbit::supported_languages().contains(lowbit::saved_language()));  // the system's, or English
  }
};

QTEST_MAIN(StudioLanguageTest)
#include "studio_language_test.moc"
