// HistogramData (binning, summary figures, row sampling, cancellation) and HistogramPlot (bars, log
// axis, placeholder, queued replots coalescing into one).
#include <QSignalSpy>
#include <QTest>
#include <cmath>
#include <limits>
#include <qcustomplot.h>

#include "widgets/plots/histogram_plot.h"

using lowbit::HistogramData;
using lowbit::HistogramPlot;

class HistogramPlotTest : public QObject {
  Q_OBJECT

 private slots:
  void bins_and_figures() {
    const std::vector<float> v = {0, 1, 2, 3, std::numeric_limits<float>::quiet_NaN(),
                                  std::numeric_limits<float>::infinity()};
    const HistogramData h = lowbit::histogram_of(v, 4);
    QCOMPARE(h.total, quint64(4));
    QCOMPARE(h.non_finite, quint64(2));
    QCOMPARE(h.lo, 0.0);
    QCOMPARE(h.hi, 3.0);
    QCOMPARE(h.counts, std::vector<double>({1, 1, 1, 1}));
    QCOMPARE(h.mean, 1.5);
    QVERIFY(std::abs(h.stddev - std::sqrt(1.25)) < 1e-12);
    QCOMPARE(h.abs_max, 3.0);

    const HistogramData constant = lowbit::histogram_of(std::vector<float>(10, -2.0f), 8);
    QCOMPARE(constant.hi - constant.lo, 1.0);
    double sum = 0;
    for (double c : constant.counts) sum += c;
    QCOMPARE(sum, 10.0);

    const HistogramData none = lowbit::histogram_of(std::vector<float>{}, 8);
    QVERIFY(none.empty());
  }

  void large_tensors_are_sampled_by_rows() {
    const int64_t rows = 1000, cols = 64;
    std::vector<float> data(static_cast<size_t>(rows * cols));
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i / cols);  // value = row
    lowbit::TensorInfo t;
    t.name = "w";
    t.dtype = lowbit::DType::F32;
    t.shape = {rows, cols};
    t.data = reinterpret_cast<const uint8_t*>(data.data());
    t.nbytes = data.size() * sizeof(float);

    auto whole = lowbit::tensor_histogram(t, 10, rows * cols);
    QVERIFY(whole);
    QVERIFY(!whole->sampled());
    QCOMPARE(whole->total, quint64(rows * cols));

    auto sampled = lowbit::tensor_histogram(t, 10, 100 * cols);
    QVERIFY(sampled);
    QVERIFY(sampled->sampled());
    QCOMPARE(sampled->rows_read, int64_t(100));
    QCOMPARE(sampled->rows_total, rows);
    QCOMPARE(sampled->total, quint64(100 * cols));
    QCOMPARE(sampled->lo, 0.0);      // first row
    QCOMPARE(sampled->hi, 990.0);    // evenly spaced rows reach the end
    for (double c : sampled->counts) QCOMPARE(c, 10.0 * cols);

    lowbit::CancelToken cancel;
    cancel.cancel();
    auto cancelled = lowbit::tensor_histogram(t, 10, 100 * cols, &cancel);
    QVERIFY(!cancelled);
    QCOMPARE(cancelled.error().code, lowbit::ErrorCode::Cancelled);
  }

  void plot_shows_bars_and_placeholder() {
    HistogramPlot plot;
    QCOMPARE(plot.bar_count(), 0);
    std::vector<float> v(5000);
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<float>(i)) * 0.1f;
    plot.set_histogram(lowbit::histogram_of(v, 64));
    QCOMPARE(plot.bar_count(), 64);
    QVERIFY(plot.plot()->xAxis->range().contains(0.0));
    plot.show_placeholder(QStringLiteral("Select a tensor"));
    QCOMPARE(plot.bar_count(), 0);
    QVERIFY(plot.histogram().empty());
  }

  void log_counts_switch_the_axis() {
    HistogramPlot plot;
    QSignalSpy spy(&plot, &HistogramPlot::log_counts_changed);
    QCOMPARE(plot.plot()->yAxis->scaleType(), QCPAxis::stLinear);
    plot.set_log_counts(true);
    QVERIFY(plot.log_counts());
    QCOMPARE(plot.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QVERIFY(plot.plot()->yAxis->label().contains(QStringLiteral("log")));
    plot.set_histogram(lowbit::histogram_of(std::vector<float>{1, 2, 2, 3, 3, 3}, 3));
    QVERIFY(plot.plot()->yAxis->range().lower > 0);  // no log(0) on the axis
    plot.set_log_counts(true);                        // no change, no signal
    plot.set_log_counts(false);
    QCOMPARE(plot.plot()->yAxis->scaleType(), QCPAxis::stLinear);
    QCOMPARE(spy.count(), 2);
    QCOMPARE(spy.at(0).at(0).toBool(), true);
    QCOMPARE(spy.at(1).at(0).toBool(), false);
  }

  void updates_coalesce_into_one_replot() {
    HistogramPlot plot;
    plot.resize(480, 300);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    QSignalSpy replots(plot.plot(), &QCustomPlot::afterReplot);
    QTest::qWait(50);  // let the replots of showing and resizing pass
    replots.clear();
    for (int i = 1; i <= 5; ++i) plot.set_histogram(lowbit::histogram_of(std::vector<float>(100, float(i)), 16));
    QCOMPARE(replots.count(), 0);  // queued, not immediate
    QTRY_COMPARE(replots.count(), 1);
    QTest::qWait(30);
    QCOMPARE(replots.count(), 1);
    const QPixmap shot = plot.grab();
    QVERIFY(!shot.isNull());
    QCOMPARE(shot.size(), plot.size());
  }
};

QTEST_MAIN(HistogramPlotTest)
#include "histogram_plot_test.moc"
