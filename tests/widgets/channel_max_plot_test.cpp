// ChannelMaxPlot: outlier channels split out in their own colour (from the fine threshold, or as the
// analysis flagged them), the two fence lines, bars for few channels and impulses for many, the log
// axis, and hover text.
#include <QTest>
#include <cmath>
#include <qcustomplot.h>

#include "widgets/plots/channel_max_plot.h"

using lowbit::ChannelMaxData;
using lowbit::ChannelMaxPlot;

namespace {

// `n` channels around 1 with three large ones (channels 7, 40, 41).
ChannelMaxData activations(int n) {
  ChannelMaxData d;
  for (int c = 0; c < n; ++c) d.max_abs.push_back(1.0f + 0.3f * std::sin(float(c)));
  d.max_abs[7] = 60;
  d.max_abs[40] = 35;
  d.max_abs[41] = 9;
  d.coarse_fence = 2.5;
  d.fine_threshold = 20;
  d.title = "blk.0 ffn_down input";
  return d;
}

}  // namespace

class ChannelMaxPlotTest : public QObject {
  Q_OBJECT

 private slots:
  void outliers_are_the_channels_above_the_fine_threshold() {
    ChannelMaxPlot plot;
    QVERIFY(plot.placeholder_visible());
    plot.set_channels(activations(100));
    QVERIFY(!plot.placeholder_visible());
    QCOMPARE(plot.channel_count(), 100);
    QCOMPARE(plot.title_text(), QStringLiteral("blk.0 ffn_down input"));
    QCOMPARE(plot.plot()->plotLayout()->rowCount(), 2);  // the title row above the axes
    QCOMPARE(plot.outlier_count(), 2);  // 60 and 35; 9 is above the coarse fence only
    QVERIFY(plot.is_outlier(7) && plot.is_outlier(40) && !plot.is_outlier(41));
    QVERIFY(plot.drawn_as_bars());
    QCOMPARE(plot.normal_points(), 98);
    QCOMPARE(plot.outlier_points(), 2);
    QVERIFY(plot.coarse_fence_visible());
    QVERIFY(plot.fine_threshold_visible());
    QVERIFY(plot.plot()->yAxis->range().contains(60));
    QVERIFY(plot.plot()->xAxis->range().contains(0) && plot.plot()->xAxis->range().contains(99));
    // Outliers are drawn in a colour of their own; the legend counts them.
    auto* normal = qobject_cast<QCPBars*>(plot.plot()->plottable(0));
    auto* outlier = qobject_cast<QCPBars*>(plot.plot()->plottable(1));
    QVERIFY(normal && outlier);
    QVERIFY(normal->brush().color() != outlier->brush().color());
    QCOMPARE(outlier->name(), QStringLiteral("outlier channels (2)"));

    // The analysis's own list wins over the threshold.
    ChannelMaxData flagged = activations(100);
    flagged.outliers = {41, 7, 7, 500};  // duplicates and out-of-range indices are dropped
    plot.set_channels(flagged);
    QCOMPARE(plot.outlier_count(), 2);
    QVERIFY(plot.is_outlier(41) && plot.is_outlier(7) && !plot.is_outlier(40));

    // No fences given: no lines, no outliers.
    ChannelMaxData bare;
    bare.max_abs = {1, 2, 3};
    plot.set_channels(bare);
    QVERIFY(!plot.coarse_fence_visible());
    QVERIFY(!plot.fine_threshold_visible());
    QCOMPARE(plot.outlier_count(), 0);
    QVERIFY(plot.title_text().isEmpty());  // no title: no title row
    QCOMPARE(plot.plot()->plotLayout()->rowCount(), 1);
  }

  void many_channels_are_impulses_and_log_y_keeps_the_bulk_visible() {
    ChannelMaxPlot plot;
    plot.set_channels(activations(4096));
    QVERIFY(!plot.drawn_as_bars());
    QCOMPARE(plot.normal_points(), 4094);
    QCOMPARE(plot.outlier_points(), 2);
    QVERIFY(!plot.plot()->plottable(0)->visible());  // the bars
    QVERIFY(plot.plot()->plottable(2)->visible());   // the impulses
    plot.set_style(ChannelMaxPlot::Style::Bars);
    QVERIFY(plot.drawn_as_bars());
    QCOMPARE(plot.normal_points(), 4094);

    plot.set_log_y(true);
    QCOMPARE(plot.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    const QCPRange y = plot.plot()->yAxis->range();
    QVERIFY(y.lower > 0 && y.lower < 0.7);  // the smallest maxima (≈ 0.7) are inside
    QVERIFY(y.upper > 60);
    ChannelMaxData negative_fence = activations(64);
    negative_fence.coarse_fence = -1;  // Q3 + λ·IQR can be ≤ 0 for odd data: not drawable on a log axis
    plot.set_channels(negative_fence);
    QVERIFY(!plot.coarse_fence_visible());
    plot.set_log_y(false);
    QVERIFY(plot.coarse_fence_visible());
  }

  void hover_names_the_channel() {
    ChannelMaxPlot plot;
    plot.set_channels(activations(64));
    plot.resize(520, 360);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.plot()->replot();
    auto at = [&](double channel, double y) {
      return QPointF(plot.plot()->xAxis->coordToPixel(channel), plot.plot()->yAxis->coordToPixel(y));
    };
    QCOMPARE(plot.hover_text(at(7.2, 5)), QStringLiteral("channel 7: max |x| 60 (outlier)"));
    QCOMPARE(plot.hover_text(at(41, 5)), QStringLiteral("channel 41: max |x| 9"));
    QVERIFY(plot.hover_text(at(70, 5)).isEmpty());
  }
};

QTEST_MAIN(ChannelMaxPlotTest)
#include "channel_max_plot_test.moc"
