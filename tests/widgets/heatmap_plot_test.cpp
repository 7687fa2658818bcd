// MatrixData's block reduction and HeatmapPlot: the log colour scale with zeros clamped (and said so),
// hover text under simulated mouse positions, square cells through resizes and zooms, a colour range
// shared by several heatmaps, and a 4096 × 4096 matrix reduced to 1024 × 1024 cells.
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <cmath>
#include <limits>
#include <qcustomplot.h>

#include "widgets/plots/heatmap_plot.h"

using lowbit::ColourScale;
using lowbit::HeatmapPlot;
using lowbit::MatrixData;

namespace {

MatrixData matrix(int64_t rows, int64_t cols, std::vector<float> values, std::string title = "H") {
  MatrixData m;
  m.rows = rows;
  m.cols = cols;
  m.values = std::move(values);
  m.title = std::move(title);
  return m;
}

// Entry (i, j) = (i + 1) · 10 + (j + 1): every entry distinct and readable in a hover text.
MatrixData numbered(int64_t rows, int64_t cols) {
  std::vector<float> v(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) v[static_cast<size_t>(i * cols + j)] = float((i + 1) * 10 + (j + 1));
  return matrix(rows, cols, std::move(v));
}

void show(QWidget& w, QSize size) {
  w.resize(size);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
}

QPointF cell_pixel(const HeatmapPlot& plot, double i, double j) {
  return {plot.plot()->xAxis->coordToPixel(j), plot.plot()->yAxis->coordToPixel(i)};
}

void move_mouse(QWidget* canvas, QPointF pos) {
  QMouseEvent event(QEvent::MouseMove, pos, canvas->mapToGlobal(pos), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
  QCoreApplication::sendEvent(canvas, &event);
}

// Pixels per unit along x and along y of the axis rect: equal when the cells are square.
double aspect_error(const HeatmapPlot& plot) {
  const QRect r = plot.plot()->axisRect()->rect();
  const double px = r.width() / plot.plot()->xAxis->range().size();
  const double py = r.height() / plot.plot()->yAxis->range().size();
  return std::abs(px / py - 1);
}

}  // namespace

class HeatmapPlotTest : public QObject {
  Q_OBJECT

 private slots:
  void block_reduction() {
    QCOMPARE(lowbit::block_factor(4096, 4096, 1024), 4);
    QCOMPARE(lowbit::block_factor(1025, 10, 1024), 2);
    QCOMPARE(lowbit::block_factor(5, 5, 1024), 1);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    // 3 × 5, factor 2 → 2 × 3 cells; the last row and column of blocks are partial.
    const MatrixData m = matrix(3, 5, {1, -7, 2, 3, 4,    //
                                       0, 5, nan, -1, 9,  //
                                       -8, 2, nan, nan, -2});
    const lowbit::ReducedMatrix a = lowbit::block_reduce(m, 2, true);
    QCOMPARE(a.rows, int64_t(2));
    QCOMPARE(a.cols, int64_t(3));
    // Block (1, 1) is row 2, columns 2–3: NaN only.
    const double nand = std::numeric_limits<double>::quiet_NaN();
    auto same = [](const std::vector<double>& got, const std::vector<double>& want) {
      if (got.size() != want.size()) return false;
      for (size_t i = 0; i < got.size(); ++i)
        if (!(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i])))) return false;
      return true;
    };
    QVERIFY(same(a.values, {7, 3, 9, 8, nand, 2}));
    QVERIFY(std::isnan(lowbit::block_reduce(matrix(1, 2, {nan, nan}), 2, true).values[0]));
    const lowbit::ReducedMatrix s = lowbit::block_reduce(m, 2, false);
    QVERIFY(same(s.values, {-7, 3, 9, -8, nand, -2}));  // the sign of the largest magnitude
  }

  void log_scale_clamps_zeros_and_says_so() {
    HeatmapPlot plot;
    QCOMPARE(plot.scale_mode(), ColourScale::Log);
    QVERIFY(plot.placeholder_visible());
    // |H| has zeros; negatives become positive magnitudes.
    plot.set_matrix(matrix(2, 3, {0, -2e-3f, 4, 0.5f, 0, 1e-3f}));
    QVERIFY(!plot.placeholder_visible());
    QCOMPARE(plot.colour_scale()->axis()->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(plot.colour_map()->dataScaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(plot.clamped_cells(), int64_t(2));
    QVERIFY(std::abs(plot.natural_range().lower - 1e-3) < 1e-9);
    QVERIFY(std::abs(plot.natural_range().upper - 4) < 1e-9);
    QVERIFY(plot.scale_label().contains(QStringLiteral("log")));
    QVERIFY2(plot.scale_label().contains(QStringLiteral("2 cell(s) ≤ 0 shown at 0.001")), qPrintable(plot.scale_label()));
    QCOMPARE(plot.colour_scale()->axis()->label(), plot.scale_label());
    // The zero at (0, 0) is drawn at the smallest positive value; the kept cell is still 0.
    QVERIFY(std::abs(plot.colour_map()->data()->cell(0, 0) - 1e-3) < 1e-9);
    QCOMPARE(plot.cell_value(0, 0), 0.0);
    QVERIFY(std::abs(plot.colour_map()->data()->cell(1, 0) - 2e-3) < 1e-9);

    plot.set_scale_mode(ColourScale::Linear);
    QCOMPARE(plot.colour_scale()->axis()->scaleType(), QCPAxis::stLinear);
    QCOMPARE(plot.clamped_cells(), int64_t(0));
    QCOMPARE(plot.colour_map()->data()->cell(0, 0), 0.0);
    QCOMPARE(plot.colour_range().lower, 0.0);
    QVERIFY(!plot.scale_label().contains(QStringLiteral("log")));

    plot.set_absolute(false);
    plot.set_scale_mode(ColourScale::Diverging);
    QCOMPARE(plot.colour_range().lower, -4.0);
    QCOMPARE(plot.colour_range().upper, 4.0);
    QVERIFY(std::abs(plot.colour_map()->data()->cell(1, 0) + 2e-3) < 1e-9);  // the sign is kept

    plot.set_matrix(MatrixData{});
    QVERIFY(plot.placeholder_visible());
  }

  void hover_names_the_entry_under_the_mouse() {
    HeatmapPlot plot;
    plot.set_scale_mode(ColourScale::Linear);
    plot.set_matrix(numbered(4, 3));
    show(plot, {520, 420});
    plot.plot()->replot();
    QCOMPARE(plot.block_size(), 1);
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 3; ++j) {
        const QString text = plot.hover_text(cell_pixel(plot, i, j) + QPointF(2, -2));  // off the centre
        QCOMPARE(text, QStringLiteral("i %1, j %2: %3").arg(i).arg(j).arg((i + 1) * 10 + (j + 1)));
      }
    }
    QVERIFY(plot.hover_text(cell_pixel(plot, 1, 3.2)).isEmpty());   // right of the matrix
    QVERIFY(plot.hover_text(cell_pixel(plot, -0.8, 1)).isEmpty());  // above it
    QVERIFY(plot.hover_text(QPointF(1, 1)).isEmpty());              // outside the axis rect

    QSignalSpy hovered(&plot, &HeatmapPlot::hovered);
    move_mouse(plot.plot(), cell_pixel(plot, 2, 1));
    QCOMPARE(plot.hover_readout(), QStringLiteral("i 2, j 1: 32"));
    QCOMPARE(hovered.count(), 1);
    move_mouse(plot.plot(), cell_pixel(plot, 2, 1) + QPointF(1, 1));  // same entry: no new signal
    QCOMPARE(hovered.count(), 1);
    move_mouse(plot.plot(), QPointF(1, 1));
    QVERIFY(plot.hover_readout().isEmpty());
    QCOMPARE(hovered.count(), 2);
  }

  void cells_stay_square_through_resize_and_zoom() {
    HeatmapPlot plot;
    plot.set_matrix(numbered(6, 30));  // a wide matrix in a tall window
    show(plot, {400, 500});
    plot.plot()->replot();
    QVERIFY2(aspect_error(plot) < 0.01, qPrintable(QString::number(aspect_error(plot))));
    // The whole matrix is in view.
    QVERIFY(plot.plot()->xAxis->range().lower <= -0.5 + 1e-9 && plot.plot()->xAxis->range().upper >= 29.5 - 1e-9);
    QVERIFY(plot.plot()->yAxis->range().lower <= -0.5 + 1e-9 && plot.plot()->yAxis->range().upper >= 5.5 - 1e-9);
    QVERIFY(plot.plot()->yAxis->rangeReversed());  // row 0 at the top
    QVERIFY(plot.plot()->interactions().testFlag(QCP::iRangeDrag));
    QVERIFY(plot.plot()->interactions().testFlag(QCP::iRangeZoom));

    plot.resize(700, 300);
    QTRY_COMPARE(plot.plot()->size(), QSize(700, 300));
    plot.plot()->replot();
    QVERIFY(aspect_error(plot) < 0.01);

    // A wheel step zooms in around the mouse and the view becomes the user's.
    const double before = plot.plot()->xAxis->range().size();
    const QPointF at = plot.plot()->axisRect()->rect().center();
    QWheelEvent wheel(at, plot.plot()->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(plot.plot(), &wheel);
    QVERIFY(plot.user_view());
    QVERIFY(plot.plot()->xAxis->range().size() < before);
    plot.resize(500, 500);
    QTRY_COMPARE(plot.plot()->size(), QSize(500, 500));
    plot.plot()->replot();
    QVERIFY(aspect_error(plot) < 0.01);
    QVERIFY(plot.plot()->xAxis->range().size() < 30);  // still zoomed in

    plot.reset_view();
    QVERIFY(!plot.user_view());
    plot.plot()->replot();
    QVERIFY(plot.plot()->xAxis->range().lower <= -0.5 + 1e-9 && plot.plot()->xAxis->range().upper >= 29.5 - 1e-9);
    QVERIFY(aspect_error(plot) < 0.01);
  }

  void side_by_side_plots_share_one_colour_range() {
    HeatmapPlot fp, two_bits;
    fp.set_matrix(matrix(2, 2, {1e-4f, 2e-2f, 0.5f, 3}));
    two_bits.set_matrix(matrix(2, 2, {1e-6f, 0, 40, 7}));
    QVERIFY(fp.colour_range().upper == 3.0);
    HeatmapPlot::share_colour_range({&fp, &two_bits});
    for (const HeatmapPlot* p : {&fp, &two_bits}) {
      QVERIFY(p->has_shared_range());
      QVERIFY(std::abs(p->colour_range().lower - 1e-6) < 1e-12);
      QCOMPARE(p->colour_range().upper, 40.0);
    }
    fp.set_shared_range(0, 10);  // log scale: the lower bound ≤ 0 falls back to the plot's own smallest positive
    QVERIFY(std::abs(fp.colour_range().lower - 1e-4) < 1e-9);
    QCOMPARE(fp.colour_range().upper, 10.0);
    fp.clear_shared_range();
    QCOMPARE(fp.colour_range().upper, 3.0);
  }

  void large_matrix_is_reduced_by_block_max() {
    const int64_t n = 4096;
    MatrixData m;
    m.rows = m.cols = n;
    m.title = "blk.0 ffn_down";
    m.values.assign(static_cast<size_t>(n * n), 1.0f);
    m.values[static_cast<size_t>(1001 * n + 2050)] = -500.0f;  // one bright entry
    HeatmapPlot plot;
    QElapsedTimer timer;
    timer.start();
    plot.set_matrix(std::move(m));
    show(plot, {600, 520});
    plot.plot()->replot();
    qInfo("4096 x 4096: set_matrix + show + replot took %lld ms", static_cast<long long>(timer.elapsed()));
    QCOMPARE(plot.block_size(), 4);
    QCOMPARE(plot.cell_cols(), 1024);
    QCOMPARE(plot.cell_rows(), 1024);
    QCOMPARE(plot.colour_map()->data()->keySize(), 1024);
    QVERIFY2(plot.title_text().contains(QStringLiteral("4096 × 4096")), qPrintable(plot.title_text()));
    QVERIFY(plot.title_text().contains(QStringLiteral("1024 × 1024 cells")));
    QVERIFY(plot.title_text().contains(QStringLiteral("4 × 4 block")));
    QVERIFY(plot.title_text().startsWith(QStringLiteral("blk.0 ffn_down\n")));  // the note on a line of its own
    // The colour scale sits right of the axis rect, inside the widget, however long the title.
    const QRect scale = plot.colour_scale()->outerRect();
    QVERIFY(scale.left() >= plot.plot()->axisRect()->outerRect().right());
    QVERIFY(scale.right() <= plot.plot()->width());
    // The bright entry survives the reduction in its cell (250, 512).
    QCOMPARE(plot.cell_value(512, 250), 500.0);
    QCOMPARE(plot.natural_range().upper, 500.0);
    // The hover reads the exact entry from the full matrix, and names the cell's block.
    plot.set_view(QCPRange(2040, 2060), QCPRange(990, 1010));  // near enough to resolve single entries
    plot.plot()->replot();
    const QString text = plot.hover_text(cell_pixel(plot, 1001, 2050));
    QVERIFY2(text.startsWith(QStringLiteral("i 1001, j 2050: -500")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("rows 1000–1003, columns 2048–2051: max 500")), qPrintable(text));
    QVERIFY(plot.hover_text(cell_pixel(plot, 1002, 2050)).startsWith(QStringLiteral("i 1002, j 2050: 1")));
  }
};

QTEST_MAIN(HeatmapPlotTest)
#include "heatmap_plot_test.moc"
