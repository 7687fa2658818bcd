// BitsBarChart: one bar per tensor, a colour and legend entry per format ordered by bits, block labels
// on the x axis (thinned for deep models), the target line, and hover text.
#include <QTest>
#include <qcustomplot.h>

#include "widgets/plots/bits_bar_chart.h"

using lowbit::BitsBarChart;
using lowbit::BitsData;
using lowbit::TensorBits;

namespace {

// token_embd, `blocks` decoder blocks of 7 tensors (attention in Q4_K, the FFN in Q2_K except
// ffn_down in Q6_K), output.
BitsData layout(int blocks) {
  BitsData d;
  d.target_bpw = 4.0;
  d.tensors.push_back({"token_embd.weight", "Q6_K", 6.5625, -1});
  const char* names[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
  for (int b = 0; b < blocks; ++b) {
    for (int t = 0; t < 7; ++t) {
      const std::string name = "blk." + std::to_string(b) + "." + names[t] + ".weight";
      if (t < 4) {
        d.tensors.push_back({name, "Q4_K", 4.5, b});
      } else if (t < 6) {
        d.tensors.push_back({name, "Q2_K", 2.625, b});
      } else {
        d.tensors.push_back({name, "Q6_K", 6.5625, b});
      }
    }
  }
  d.tensors.push_back({"output.weight", "Q8_0", 8.5, -1});
  return d;
}

}  // namespace

class BitsBarChartTest : public QObject {
  Q_OBJECT

 private slots:
  void bars_coloured_by_format_and_labelled_by_block() {
    BitsBarChart chart;
    QVERIFY(chart.placeholder_visible());
    BitsData four = layout(4);
    four.title = "plan 4.0 bpw";
    chart.set_bits(four);
    QVERIFY(!chart.placeholder_visible());
    QCOMPARE(chart.title_text(), QStringLiteral("plan 4.0 bpw"));
    QCOMPARE(chart.bar_count(), 30);
    QCOMPARE(chart.formats(), QStringList({"Q2_K", "Q4_K", "Q6_K", "Q8_0"}));  // fewest bits first
    QCOMPARE(chart.bars_of_format(QStringLiteral("Q4_K")), 16);
    QCOMPARE(chart.bars_of_format(QStringLiteral("Q6_K")), 5);
    QCOMPARE(chart.bars_of_format(QStringLiteral("IQ1_S")), 0);
    QVERIFY(!chart.format_colour(QStringLiteral("IQ1_S")).isValid());
    QSet<QRgb> colours;
    for (const QString& f : chart.formats()) colours.insert(chart.format_colour(f).rgb());
    QCOMPARE(colours.size(), 4);
    QCOMPARE(chart.plot()->legend->itemCount(), 4);
    // Block b starts at tensor 1 + 7b.
    QCOMPARE(chart.tick_labels(), QStringList({"0", "1", "2", "3"}));
    auto ticker = chart.plot()->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
    QVERIFY(ticker);
    QCOMPARE(ticker->ticks().keys(), QList<double>({1, 8, 15, 22}));
    QVERIFY(chart.target_visible());
    QVERIFY(chart.plot()->yAxis->range().contains(8.5));
    QVERIFY(chart.plot()->xAxis->range().contains(0) && chart.plot()->xAxis->range().contains(29));
  }

  void deep_models_get_a_dozen_block_labels() {
    BitsBarChart chart;
    chart.set_bits(layout(40));
    QCOMPARE(chart.bar_count(), 2 + 40 * 7);
    const QStringList ticks = chart.tick_labels();
    QVERIFY(ticks.size() <= BitsBarChart::kMaxBlockLabels);
    QCOMPARE(ticks.first(), QStringLiteral("0"));
    QCOMPARE(ticks.at(1), QStringLiteral("4"));  // every fourth block
    chart.show_placeholder(QStringLiteral("Plan a layout"));
    QCOMPARE(chart.bar_count(), 0);
    QVERIFY(!chart.target_visible());
  }

  void hover_names_the_tensor() {
    BitsBarChart chart;
    chart.set_bits(layout(4));
    chart.resize(600, 340);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.plot()->replot();
    auto at = [&](double tensor) {
      return QPointF(chart.plot()->xAxis->coordToPixel(tensor), chart.plot()->yAxis->coordToPixel(1));
    };
    QCOMPARE(chart.hover_text(at(9.3)), QStringLiteral("blk.1.attn_k.weight — Q4_K, 4.50 bpw (block 1)"));
    QCOMPARE(chart.hover_text(at(29)), QStringLiteral("output.weight — Q8_0, 8.50 bpw"));
    QVERIFY(chart.hover_text(at(-0.9)).isEmpty());
  }
};

QTEST_MAIN(BitsBarChartTest)
#include "bits_bar_chart_test.moc"
