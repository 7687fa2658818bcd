// GridData's minimum and spacing checks and LandscapePlot: the marked minimum of a loss surface, hover
// text over grid points, the diverging scale for a signed blocks × blocks Hessian, an uneven grid
// drawn over its indices, and the placeholder for a grid whose sizes disagree.
#include <QTest>
#include <cmath>
#include <limits>
#include <qcustomplot.h>

#include "widgets/plots/landscape_plot.h"

using lowbit::ColourScale;
using lowbit::GridData;
using lowbit::LandscapePlot;

namespace {

std::vector<double> linspace(double a, double b, int n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = a + (b - a) * i / (n - 1);
  return v;
}

// A narrow valley along c₁ = c₂ with its lowest point at (1.0, 1.0) + an offset of one grid step in c₂.
GridData valley() {
  GridData g;
  g.x = linspace(0.8, 1.2, 21);
  g.y = linspace(0.8, 1.2, 21);
  g.x_label = "c1";
  g.y_label = "c2";
  g.z_label = "loss";
  g.title = "blocks 3-4 at 2 bits";
  for (double y : g.y)
    for (double x : g.x) g.z.push_back(2.0 + 50 * (x - y + 0.02) * (x - y + 0.02) + (x - 1) * (x - 1));
  return g;
}

void show(QWidget& w, QSize size) {
  w.resize(size);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
}

QPointF pixel_of(const LandscapePlot& plot, double x, double y) {
  return {plot.plot()->xAxis->coordToPixel(x), plot.plot()->yAxis->coordToPixel(y)};
}

}  // namespace

class LandscapePlotTest : public QObject {
  Q_OBJECT

 private slots:
  void grid_helpers() {
    const GridData g = valley();
    QVERIFY(g.valid());
    const lowbit::GridPoint m = lowbit::grid_minimum(g);
    QVERIFY(m.found());
    QCOMPARE(m.ix, int64_t(10));  // x = 1.0
    QCOMPARE(m.iy, int64_t(11));  // y = 1.02
    QCOMPARE(m.value, g.at(10, 11));
    GridData all_nan = g;
    for (double& z : all_nan.z) z = std::numeric_limits<double>::quiet_NaN();
    QVERIFY(!lowbit::grid_minimum(all_nan).found());
    QVERIFY(lowbit::evenly_spaced(linspace(0.5, 1.5, 11)));
    QVERIFY(lowbit::evenly_spaced({3.0}));
    QVERIFY(!lowbit::evenly_spaced({0.5, 0.9, 1.0, 1.1, 2.0}));
    QVERIFY(!lowbit::evenly_spaced({2.0, 1.0, 0.0}));  // descending
    GridData bad = g;
    bad.z.pop_back();
    QVERIFY(!bad.valid());
  }

  void minimum_is_marked_and_hover_names_the_point() {
    LandscapePlot plot;
    QVERIFY(plot.placeholder_visible());
    const GridData g = valley();
    plot.set_grid(g);
    QVERIFY(!plot.placeholder_visible());
    QVERIFY(plot.evenly_spaced_axes());
    QCOMPARE(plot.scale_mode(), ColourScale::Linear);
    QCOMPARE(plot.cell_cols(), 21);
    QCOMPARE(plot.cell_rows(), 21);
    QCOMPARE(plot.minimum().ix, int64_t(10));
    QCOMPARE(plot.minimum().iy, int64_t(11));
    const QPointF marker = plot.minimum_marker_position();
    QVERIFY(std::abs(marker.x() - 1.0) < 1e-12);
    QVERIFY(std::abs(marker.y() - 1.02) < 1e-12);
    QCOMPARE(plot.natural_range().lower, plot.minimum().value);
    QCOMPARE(plot.plot()->xAxis->label(), QStringLiteral("c1"));
    QCOMPARE(plot.value_label(), QStringLiteral("loss"));
    QCOMPARE(plot.title_text(), QStringLiteral("blocks 3-4 at 2 bits"));
    QVERIFY(!plot.plot()->xAxis->ticker().dynamicCast<QCPAxisTickerFixed>());  // c₁ is not a block number
    // The cells lie at the coordinates: the colour map's first and last cells are at 0.8 and 1.2.
    QVERIFY(std::abs(plot.colour_map()->data()->keyRange().lower - 0.8) < 1e-12);
    QVERIFY(std::abs(plot.colour_map()->data()->valueRange().upper - 1.2) < 1e-12);

    show(plot, {520, 420});
    plot.plot()->replot();
    const QString text = plot.hover_text(pixel_of(plot, 0.905, 1.096));  // nearest grid point (0.9, 1.1)
    QCOMPARE(text, QStringLiteral("c1 0.9, c2 1.1: loss %1").arg(lowbit::plot_style::number(g.at(5, 15))));
    QVERIFY(plot.hover_text(pixel_of(plot, 1.5, 1.0)).isEmpty());  // outside the grid
    plot.set_show_minimum(false);
    QVERIFY(std::isnan(plot.minimum_marker_position().x()));
  }

  void signed_hessian_uses_a_diverging_scale() {
    GridData h;
    h.x = h.y = {0, 1, 2, 3};
    h.x_label = h.y_label = "block";
    h.z_label = "d2L/dc_i dc_j";
    h.z = {4, -1, 0.2, 0,  //
           -1, 6, -3, 0.1, //
           0.2, -3, 9, -0.5,
           0, 0.1, -0.5, 2};
    LandscapePlot plot;
    plot.set_grid(h);
    plot.set_scale_mode(ColourScale::Diverging);
    QCOMPARE(plot.colour_range().lower, -9.0);
    QCOMPARE(plot.colour_range().upper, 9.0);
    QVERIFY(plot.scale_label().contains(QStringLiteral("centred at 0")));
    QCPColorGradient gradient = plot.colour_scale()->gradient();
    const QColor zero = QColor::fromRgb(gradient.color(0.0, plot.colour_range()));
    QVERIFY(zero.red() > 240 && zero.green() > 240 && zero.blue() > 240);  // white at 0
    const QColor negative = QColor::fromRgb(gradient.color(-9.0, plot.colour_range()));
    const QColor positive = QColor::fromRgb(gradient.color(9.0, plot.colour_range()));
    QVERIFY(negative.blue() > negative.red());
    QVERIFY(positive.red() > positive.blue());
    auto ticker = plot.plot()->xAxis->ticker().dynamicCast<QCPAxisTickerFixed>();  // whole block numbers
    QVERIFY(ticker);
    QCOMPARE(ticker->tickStep(), 1.0);
    QCOMPARE(plot.cell_value(1, 2), -3.0);  // column 1 (x), row 2 (y)
    QCOMPARE(plot.colour_map()->data()->cell(1, 2), -3.0);
  }

  void uneven_grid_is_drawn_over_indices() {
    GridData g;
    g.x = {0.5, 0.9, 1.0, 1.1, 2.0};
    g.y = {0.0, 1.0};
    g.z = {5, 4, 3, 4, 9, 6, 5, 1, 5, 8};
    g.x_label = "alpha";
    LandscapePlot plot;
    plot.set_grid(g);
    QVERIFY(!plot.evenly_spaced_axes());
    auto ticker = plot.plot()->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
    QVERIFY(ticker);
    QCOMPARE(ticker->ticks().value(4.0), QStringLiteral("2"));
    QCOMPARE(plot.minimum_marker_position(), QPointF(2, 1));  // index 2 along x, 1 along y
    show(plot, {480, 360});
    plot.plot()->replot();
    QVERIFY(plot.hover_text(pixel_of(plot, 2, 1)).startsWith(QStringLiteral("alpha 1, y 1: value 1")));
  }

  void invalid_grid_shows_the_placeholder() {
    LandscapePlot plot;
    plot.set_grid(valley());
    GridData bad = valley();
    bad.z.resize(10);
    plot.set_grid(bad);
    QVERIFY(plot.placeholder_visible());
    QVERIFY(!plot.minimum().found());
    QCOMPARE(plot.cell_cols(), 0);
    QVERIFY(plot.hover_text(QPointF(100, 100)).isEmpty());
  }
};

QTEST_MAIN(LandscapePlotTest)
#include "landscape_plot_test.moc"
