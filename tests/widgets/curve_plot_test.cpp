// CurvePlot: named series with their minima marked (AWQ loss vs α), the log y axis, and points
// appended live (CBQ window losses): a burst of appends costs one batched replot, not one per point,
// the axes follow the data until the user zooms, and the hover text names the nearest point.
#include <QSignalSpy>
#include <QTest>
#include <cmath>
#include <qcustomplot.h>

#include "widgets/plots/curve_plot.h"

using lowbit::CurvePlot;
using lowbit::SeriesData;

namespace {

SeriesData alpha_curve(const std::string& name, double best_alpha) {
  SeriesData s;
  s.name = name;
  for (int i = 0; i < 20; ++i) {
    const double a = i / 19.0;
    s.x.push_back(a);
    s.y.push_back(0.01 + (a - best_alpha) * (a - best_alpha));
  }
  return s;
}

void show(QWidget& w) {
  w.resize(520, 360);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
}

}  // namespace

class CurvePlotTest : public QObject {
  Q_OBJECT

 private slots:
  void series_and_their_minima() {
    CurvePlot plot;
    QVERIFY(plot.placeholder_visible());
    plot.set_axis_labels(QStringLiteral("alpha"), QStringLiteral("output error"));
    const int q = plot.set_series(alpha_curve("q/k/v", 6 / 19.0));
    const int down = plot.set_series(alpha_curve("down", 15 / 19.0));
    QCOMPARE(q, 0);
    QCOMPARE(down, 1);
    QVERIFY(!plot.placeholder_visible());
    QCOMPARE(plot.series_count(), 2);
    QCOMPARE(plot.point_count(0), 20);
    QCOMPARE(plot.series_index(QStringLiteral("down")), 1);
    QCOMPARE(plot.series_index(QStringLiteral("nope")), -1);
    QVERIFY(plot.plot()->legend->visible());
    QCOMPARE(plot.plot()->legend->itemCount(), 2);  // the minimum markers stay out of the legend
    QVERIFY(plot.series_minimum(0).has_value());
    QVERIFY(std::abs(plot.series_minimum(0)->x() - 6 / 19.0) < 1e-12);
    QVERIFY(std::abs(plot.series_minimum(1)->x() - 15 / 19.0) < 1e-12);
    QVERIFY(std::abs(plot.series_minimum(1)->y() - 0.01) < 1e-12);
    QVERIFY(!plot.series_minimum(5).has_value());
    // The view fits both curves at once (a chart for the report needs no event loop).
    QVERIFY(plot.plot()->xAxis->range().contains(0) && plot.plot()->xAxis->range().contains(1));
    QVERIFY(plot.plot()->yAxis->range().contains(0.01));

    // Replacing a series by name keeps its index and moves its minimum.
    plot.set_series(alpha_curve("q/k/v", 1.0));
    QCOMPARE(plot.series_count(), 2);
    QCOMPARE(plot.series_minimum(0)->x(), 1.0);

    plot.set_log_y(true);
    QCOMPARE(plot.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(plot.plot()->yAxis->label(), QStringLiteral("output error (log scale)"));
    QVERIFY(plot.plot()->yAxis->range().lower > 0);
    plot.set_log_y(false);
    QCOMPARE(plot.plot()->yAxis->label(), QStringLiteral("output error"));

    // An x shorter than y cuts the series there; the minimum is over the points drawn.
    SeriesData cut;
    cut.name = "clip ratio";
    cut.x = {0.8, 0.9, 1.0};
    cut.y = {0.5, 0.4, 0.45, 0.1, 0.0};
    const int c = plot.set_series(cut);
    QCOMPARE(plot.point_count(c), 3);
    QCOMPARE(*plot.series_minimum(c), QPointF(0.9, 0.4));

    plot.show_placeholder(QStringLiteral("Run AWQ"));
    QCOMPARE(plot.series_count(), 0);
    QCOMPARE(plot.plot()->graphCount(), 0);
    QVERIFY(plot.placeholder_visible());
  }

  void live_appends_coalesce_into_batched_replots() {
    CurvePlot plot;
    plot.set_axis_labels(QStringLiteral("iteration"), QStringLiteral("window loss"));
    show(plot);
    QSignalSpy replots(plot.plot(), &QCustomPlot::afterReplot);
    QTest::qWait(2 * CurvePlot::kReplotIntervalMs);  // let the replots of showing pass
    replots.clear();

    for (int it = 0; it < 500; ++it) plot.append_point(QStringLiteral("window 0"), it, 1.0 / (1 + it));
    QCOMPARE(plot.point_count(0), 500);
    QVERIFY(plot.replot_pending());
    QCOMPARE(replots.count(), 0);  // nothing drawn yet: 500 points, no replot each
    QTRY_COMPARE(replots.count(), 1);
    QVERIFY(!plot.replot_pending());
    // The batched replot refit the axes to the new points and marked the minimum (the last point).
    QVERIFY(plot.plot()->xAxis->range().contains(0) && plot.plot()->xAxis->range().contains(499));
    QCOMPARE(plot.series_minimum(0)->x(), 499.0);
    QTest::qWait(3 * CurvePlot::kReplotIntervalMs);
    QCOMPARE(replots.count(), 1);  // and nothing more while no point comes

    // A second window's points: one more replot.
    for (int it = 0; it < 300; ++it) plot.append_point(QStringLiteral("window 1"), it, 2.0 / (1 + it));
    plot.append_point(0, 500, 0.5);  // by index
    QTRY_COMPARE(replots.count(), 2);
    QCOMPARE(plot.series_count(), 2);
    QCOMPARE(plot.point_count(0), 501);
    QCOMPARE(plot.series_minimum(0)->x(), 499.0);  // 0.5 is not below 1/500
    QCOMPARE(plot.graph(0)->scatterStyle().shape(), QCPScatterStyle::ssNone);  // dense: no dots

    // A user's zoom stops the refit; reset_view() fits again.
    const QPointF at = plot.plot()->axisRect()->rect().center();
    QWheelEvent wheel(at, plot.plot()->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(plot.plot(), &wheel);
    QVERIFY(plot.user_view());
    const QCPRange zoomed = plot.plot()->xAxis->range();
    plot.append_point(0, 2000, 0.1);
    QTRY_VERIFY(!plot.replot_pending());
    QCOMPARE(plot.plot()->xAxis->range().lower, zoomed.lower);
    QCOMPARE(plot.plot()->xAxis->range().upper, zoomed.upper);
    plot.reset_view();
    QVERIFY(plot.plot()->xAxis->range().contains(2000));
  }

  void hover_names_the_nearest_point() {
    CurvePlot plot;
    plot.set_axis_labels(QStringLiteral("alpha"), QStringLiteral("loss"));
    plot.set_series(alpha_curve("o", 0.5));
    show(plot);
    plot.plot()->replot();
    const double a = 9 / 19.0, y = 0.01 + (a - 0.5) * (a - 0.5);
    const QPointF p = plot.graph(0)->coordsToPixels(a, y);
    const QString text = plot.hover_text(p + QPointF(2, -1));
    QCOMPARE(text, QStringLiteral("o — alpha %1, loss %2").arg(lowbit::plot_style::number(a), lowbit::plot_style::number(y)));
    QVERIFY(plot.hover_text(p + QPointF(0, 60)).isEmpty());  // far from every point
  }
};

QTEST_MAIN(CurvePlotTest)
#include "curve_plot_test.moc"
