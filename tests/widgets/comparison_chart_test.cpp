// ComparisonChart: uniform formats joined in order of size, plans as their own series, every point
// labelled, the unquantized baseline, the size unit, unusable layouts dropped, and hover text.
#include <QTest>
#include <cmath>
#include <limits>
#include <qcustomplot.h>

#include "widgets/plots/comparison_chart.h"

using lowbit::ComparisonChart;
using lowbit::ComparisonData;
using lowbit::LayoutPoint;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

ComparisonData layouts() {
  ComparisonData d;
  d.baseline_perplexity = 9.8;
  d.title = "Size against perplexity";
  d.layouts = {
      {"Q8_0", 26.6 * kMiB, 9.85, 8.5, true},   {"Q2_K", 8.2 * kMiB, 31.0, 2.6, true},
      {"Q4_K", 14.1 * kMiB, 10.6, 4.5, true},   {"Q6_K", 20.5 * kMiB, 9.93, 6.56, true},
      {"plan 4.0", 12.6 * kMiB, 10.9, 4.0, false}, {"plan 3.0", 9.9 * kMiB, 13.2, 3.0, false},
      {"broken", 5 * kMiB, std::numeric_limits<double>::quiet_NaN(), 0, false},
  };
  return d;
}

}  // namespace

class ComparisonChartTest : public QObject {
  Q_OBJECT

 private slots:
  void uniform_line_plans_and_labels() {
    ComparisonChart chart;
    QVERIFY(chart.placeholder_visible());
    chart.set_comparison(layouts());
    QVERIFY(!chart.placeholder_visible());
    QCOMPARE(chart.title_text(), QStringLiteral("Size against perplexity"));
    QCOMPARE(chart.uniform_count(), 4);
    QCOMPARE(chart.plan_count(), 2);  // "broken" has no perplexity: left out
    QCOMPARE(chart.size_unit(), QStringLiteral("MiB"));
    QCOMPARE(chart.plot()->xAxis->label(), QStringLiteral("file size (MiB)"));
    // The uniform line runs from the smallest file to the largest.
    const auto* data = chart.uniform_graph()->data().data();
    QCOMPARE(data->at(0)->key, 8.2);
    QCOMPARE(data->at(0)->value, 31.0);
    QCOMPARE(data->at(3)->key, 26.6);
    QCOMPARE(chart.uniform_graph()->lineStyle(), QCPGraph::lsLine);
    QCOMPARE(chart.plan_graph()->lineStyle(), QCPGraph::lsNone);
    QStringList labels = chart.point_labels();
    labels.sort();
    QCOMPARE(labels, QStringList({"Q2_K", "Q4_K", "Q6_K", "Q8_0", "plan 3.0", "plan 4.0"}));
    QVERIFY(chart.baseline_visible());
    QVERIFY(chart.plot()->yAxis->range().contains(9.8) && chart.plot()->yAxis->range().contains(31.0));
    QVERIFY(chart.plot()->xAxis->range().contains(8.2) && chart.plot()->xAxis->range().contains(26.6));
    QCOMPARE(chart.plot()->legend->itemCount(), 2);

    chart.set_log_y(true);
    QCOMPARE(chart.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QVERIFY(chart.plot()->yAxis->range().lower > 0);

    // Small files are shown in KiB; a new set of layouts replaces the labels.
    ComparisonData tiny;
    tiny.layouts = {{"Q4_0", 300 * 1024.0, 40, 0, true}};
    chart.set_comparison(tiny);
    QCOMPARE(chart.size_unit(), QStringLiteral("KiB"));
    QCOMPARE(chart.point_labels(), QStringList({"Q4_0"}));
    QVERIFY(!chart.baseline_visible());

    chart.show_placeholder(QStringLiteral("Measure two layouts"));
    QCOMPARE(chart.uniform_count() + chart.plan_count(), 0);
    QVERIFY(chart.point_labels().isEmpty());
  }

  void hover_names_the_layout() {
    ComparisonChart chart;
    chart.set_comparison(layouts());
    chart.resize(560, 380);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.plot()->replot();
    const QPointF plan = chart.plan_graph()->coordsToPixels(12.6, 10.9);
    QCOMPARE(chart.hover_text(plan + QPointF(3, 2)),
             QStringLiteral("plan 4.0 — 12.6 MiB, 4.00 bpw, perplexity 10.90 (plan)"));
    const QPointF q2 = chart.uniform_graph()->coordsToPixels(8.2, 31.0);
    QCOMPARE(chart.hover_text(q2), QStringLiteral("Q2_K — 8.2 MiB, 2.60 bpw, perplexity 31.00"));
    QVERIFY(chart.hover_text(q2 + QPointF(0, 80)).isEmpty());
  }
};

QTEST_MAIN(ComparisonChartTest)
#include "comparison_chart_test.moc"
