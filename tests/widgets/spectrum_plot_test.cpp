// sorted_spectrum and SpectrumPlot: fp and 2/3/4-bit spectra overlaid on a log axis with a legend,
// values ≤ 0 left out (and counted in the legend) on the log axis only, and hover text.
#include <QTest>
#include <cmath>
#include <limits>
#include <qcustomplot.h>

#include "widgets/plots/spectrum_plot.h"

using lowbit::SeriesData;
using lowbit::SpectrumPlot;

namespace {

// Eigenvalues decaying over six decades, scaled per bit width; the 2-bit one has round-off below 0.
SeriesData spectrum(const std::string& name, double scale, int negatives) {
  std::vector<double> v;
  for (int i = 0; i < 64; ++i) v.push_back(scale * std::pow(10.0, -6.0 * i / 63));
  for (int i = 0; i < negatives; ++i) v.push_back(-1e-9 * (i + 1));
  return lowbit::sorted_spectrum(name, v);
}

}  // namespace

class SpectrumPlotTest : public QObject {
  Q_OBJECT

 private slots:
  void sorted_spectrum_sorts_descending_and_drops_non_finite() {
    const std::vector<double> v = {3, std::numeric_limits<double>::quiet_NaN(), -1, 10, 0,
                                   std::numeric_limits<double>::infinity()};
    const SeriesData s = lowbit::sorted_spectrum("fp", v);
    QCOMPARE(s.name, std::string("fp"));
    QVERIFY(s.x.empty());
    QCOMPARE(s.y, std::vector<double>({10, 3, 0, -1}));
    QCOMPARE(s.x_at(2), 2.0);
    QCOMPARE(lowbit::series_minimum(s), int64_t(3));
  }

  void spectra_overlay_on_a_log_axis() {
    SpectrumPlot plot;
    QVERIFY(plot.placeholder_visible());
    QVERIFY(plot.log_y());
    QCOMPARE(plot.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    plot.set_spectra({spectrum("fp", 1, 0), spectrum("4 bits", 1.1, 0), spectrum("3 bits", 1.5, 0)});
    plot.add_spectrum(spectrum("2 bits", 3, 5));
    QVERIFY(!plot.placeholder_visible());
    QCOMPARE(plot.series_count(), 4);
    QCOMPARE(plot.plot()->legend->itemCount(), 4);
    QVERIFY(plot.plot()->legend->visible());
    for (int i = 0; i < 3; ++i) QCOMPARE(plot.point_count(i), 64);
    QCOMPARE(plot.point_count(3), 64);  // the five negatives are not drawn …
    QCOMPARE(plot.hidden_count(3), 5);
    QVERIFY(plot.graph(3)->name().contains(QStringLiteral("5 value(s) ≤ 0 not shown")));  // … and the legend says so
    QCOMPARE(plot.graph(0)->name(), QStringLiteral("fp"));
    QVERIFY(plot.graph(0)->pen().color() != plot.graph(1)->pen().color());
    const QCPRange y = plot.plot()->yAxis->range();
    QVERIFY(y.lower > 0 && y.lower <= 1e-6 && y.upper >= 3);
    QVERIFY(plot.plot()->xAxis->range().contains(0) && plot.plot()->xAxis->range().contains(63));

    plot.set_log_y(false);
    QCOMPARE(plot.plot()->yAxis->scaleType(), QCPAxis::stLinear);
    QCOMPARE(plot.hidden_count(3), 0);
    QCOMPARE(plot.point_count(3), 69);
    QVERIFY(plot.plot()->yAxis->range().lower < 0);

    plot.show_placeholder(QStringLiteral("Select a layer"));
    QCOMPARE(plot.series_count(), 0);
    QVERIFY(plot.placeholder_visible());
    QCOMPARE(plot.placeholder_text(), QStringLiteral("Select a layer"));
  }

  void hover_names_series_rank_and_value() {
    SpectrumPlot plot;
    plot.set_spectra({spectrum("fp", 1, 0), spectrum("2 bits", 100, 0)});
    plot.resize(520, 360);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.plot()->replot();
    const QPointF p = plot.graph(1)->coordsToPixels(10, plot.graph(1)->data()->at(10)->value);
    const QString text = plot.hover_text(p + QPointF(1, 1));
    QVERIFY2(text.startsWith(QStringLiteral("2 bits — rank 10: ")), qPrintable(text));
    QVERIFY(plot.hover_text(QPointF(2, 2)).isEmpty());
  }

  void only_non_positive_values_leave_a_note() {
    SpectrumPlot plot;
    plot.set_spectra({lowbit::sorted_spectrum("zero", std::vector<double>(8, 0.0))});
    QVERIFY(plot.placeholder_visible());
    QVERIFY(plot.placeholder_text().contains(QStringLiteral("log")));
  }
};

QTEST_MAIN(SpectrumPlotTest)
#include "spectrum_plot_test.moc"
