// LayerPrecisionModel, FormatDelegate and BudgetMeter on a small synthetic plan: rows from a plan and
// its sensitivity table, totals recomputed on every format edit (and refused for a format the row
// does not offer), the delegate's combo box of the row's formats, and the meter's over-budget state.
#include <QComboBox>
#include <QProgressBar>
#include <QSignalSpy>
#include <QStyleOptionViewItem>
#include <QTest>
#include <cmath>

#include "widgets/views/budget_meter.h"
#include "widgets/views/format_delegate.h"
#include "widgets/views/layer_precision_model.h"

using lowbit::BudgetMeter;
using lowbit::Format;
using lowbit::FormatDelegate;
using lowbit::LayerPrecisionModel;

namespace {

const char* const kQ = "model.layers.0.self_attn.q_proj.weight";
const char* const kDown = "model.layers.1.mlp.down_proj.weight";
const char* const kEmbd = "model.embed_tokens.weight";

std::vector<Format> menu() { return {*Format::parse("q4_k"), *Format::parse("q8_0"), *Format::parse("q4_0")}; }

// Two 256 × 256 block linears and an embedding of 1000 × 96 (rows of 96 do not fit the k-quants).
void make_plan(lowbit::PlanResult& plan, lowbit::SensitivityTable& sens) {
  const Format q4k = *Format::parse("q4_k"), q8 = *Format::parse("q8_0"), q40 = *Format::parse("q4_0");
  sens.nll_ref = std::log(20.0);
  sens.values[kQ] = {{"q4_k", {0.02, 0.01}}, {"q8_0", {0.001, 0.0005}}, {"q4_0", {0.03, 0.015}}};
  sens.values[kDown] = {{"q4_k", {0.05, 0.03}}, {"q8_0", {0.002, 0.001}}, {"q4_0", {0.07, 0.04}}};
  sens.values[kEmbd] = {{"q8_0", {0.004, 0.002}}, {"q4_0", {0.06, 0.03}}};
  plan.rows = {{kQ, 0, 256, 256, "q4_k", q4k.bytes(256, 256), 0.02, 0.01},
               {kDown, 1, 256, 256, "q8_0", q8.bytes(256, 256), 0.002, 0.001},
               {kEmbd, -1, 1000, 96, "q4_0", q40.bytes(1000, 96), 0.06, 0.03}};
}

}  // namespace

class LayerPrecisionModelTest : public QObject {
  Q_OBJECT

 private slots:
  void rows_come_from_the_plan() {
    lowbit::PlanResult plan;
    lowbit::SensitivityTable sens;
    make_plan(plan, sens);
    LayerPrecisionModel model;
    model.set_plan(plan, sens, menu());
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.columnCount(), int(LayerPrecisionModel::ColumnCount));
    QCOMPARE(model.index(0, LayerPrecisionModel::TensorColumn).data().toString(), QStringLiteral("self_attn.q_proj"));
    QCOMPARE(model.index(0, LayerPrecisionModel::ShapeColumn).data().toString(), QStringLiteral("256 × 256"));
    QCOMPARE(model.index(0, LayerPrecisionModel::FormatColumn).data().toString(), QStringLiteral("q4_k"));
    QCOMPARE(model.index(0, LayerPrecisionModel::BitsColumn).data(LayerPrecisionModel::SortRole).toDouble(), 4.5);
    QCOMPARE(model.index(2, LayerPrecisionModel::BlockColumn).data().toString(), QStringLiteral("—"));
    QCOMPARE(model.index(2, LayerPrecisionModel::TensorColumn).data().toString(), QStringLiteral("model.embed_tokens"));
    // The embedding's rows of 96 take q8_0 and q4_0 only.
    QCOMPARE(model.index(2, LayerPrecisionModel::FormatColumn).data(LayerPrecisionModel::FormatsRole).toStringList(),
             QStringList({QStringLiteral("q8_0"), QStringLiteral("q4_0")}));
    QVERIFY(model.flags(model.index(0, LayerPrecisionModel::FormatColumn)) & Qt::ItemIsEditable);
    QVERIFY(!(model.flags(model.index(0, LayerPrecisionModel::BytesColumn)) & Qt::ItemIsEditable));
    const lowbit::LayerTotals t = model.totals();
    QCOMPARE(t.bytes, plan.rows[0].bytes + plan.rows[1].bytes + plan.rows[2].bytes);
    QCOMPARE(t.kld, 0.02 + 0.002 + 0.06);
    QCOMPARE(model.edited_count(), 0);
  }

  void a_format_edit_recomputes_the_totals() {
    lowbit::PlanResult plan;
    lowbit::SensitivityTable sens;
    make_plan(plan, sens);
    LayerPrecisionModel model;
    model.set_plan(plan, sens, menu());
    QSignalSpy totals(&model, &LayerPrecisionModel::totals_changed);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    const quint64 before = model.totals().bytes;
    QVERIFY(model.setData(model.index(0, LayerPrecisionModel::FormatColumn), QStringLiteral("q8_0")));
    QCOMPARE(totals.count(), 1);
    QCOMPARE(changed.count(), 1);
    const quint64 q4k = Format::parse("q4_k")->bytes(256, 256), q8 = Format::parse("q8_0")->bytes(256, 256);
    QCOMPARE(totals.at(0).at(0).toULongLong(), before - q4k + q8);
    QCOMPARE(model.totals().bytes, before - q4k + q8);
    QVERIFY(std::abs(model.totals().dnll - (0.0005 + 0.001 + 0.03)) < 1e-12);
    QCOMPARE(model.index(0, LayerPrecisionModel::SensitivityColumn).data(LayerPrecisionModel::SortRole).toDouble(), 0.001);
    QCOMPARE(model.edited_count(), 1);
    QCOMPARE(model.chosen_formats().at(kQ).name(), std::string("q8_0"));

    // Not in the row's list (the embedding takes no k-quant; no row takes garbage): refused, unchanged.
    QVERIFY(!model.setData(model.index(2, LayerPrecisionModel::FormatColumn), QStringLiteral("q4_k")));
    QVERIFY(!model.setData(model.index(0, LayerPrecisionModel::FormatColumn), QStringLiteral("q9_z")));
    QVERIFY(!model.setData(model.index(0, LayerPrecisionModel::BytesColumn), QStringLiteral("q4_k")));
    QCOMPARE(totals.count(), 1);
    QCOMPARE(model.format_at(2), QStringLiteral("q4_0"));
    // Setting the format it already has changes nothing.
    QVERIFY(model.setData(model.index(0, LayerPrecisionModel::FormatColumn), QStringLiteral("q8_0")));
    QCOMPARE(totals.count(), 1);
  }

  void the_delegate_offers_the_rows_formats() {
    lowbit::PlanResult plan;
    lowbit::SensitivityTable sens;
    make_plan(plan, sens);
    LayerPrecisionModel model;
    model.set_plan(plan, sens, menu());
    FormatDelegate delegate;
    QWidget parent;
    const QModelIndex idx = model.index(2, LayerPrecisionModel::FormatColumn);
    QWidget* editor = delegate.createEditor(&parent, QStyleOptionViewItem(), idx);
    auto* combo = qobject_cast<QComboBox*>(editor);
    QVERIFY(combo);
    QCOMPARE(combo->count(), 2);
    delegate.setEditorData(combo, idx);
    QCOMPARE(combo->currentText(), QStringLiteral("q4_0"));
    combo->setCurrentText(QStringLiteral("q8_0"));
    delegate.setModelData(combo, &model, idx);
    QCOMPARE(model.format_at(2), QStringLiteral("q8_0"));
  }

  void the_meter_shows_over_budget() {
    BudgetMeter meter;
    QCOMPARE(meter.bytes_text(), QStringLiteral("—"));
    meter.set_budget(1000, 2000, 20.0);
    meter.set_totals(900, std::log(1.1));
    QVERIFY(!meter.over_budget());
    QCOMPARE(meter.bar()->value(), 900);
    QCOMPARE(meter.bits_per_weight(), 3.6);
    QVERIFY(std::abs(meter.predicted_ppl() - 22.0) < 1e-9);
    QVERIFY(meter.ppl_text().contains(QStringLiteral("22.000")));
    QVERIFY(!meter.bar()->styleSheet().contains(QStringLiteral("#d64541")));
    meter.set_totals(1200, 0);
    QVERIFY(meter.over_budget());
    QCOMPARE(meter.bar()->value(), meter.bar()->maximum());
    QVERIFY(meter.bar()->styleSheet().contains(QStringLiteral("#d64541")));
    QVERIFY(meter.bytes_text().contains(QStringLiteral("over")));
    meter.clear();
    QVERIFY(!meter.over_budget());
  }
};

QTEST_MAIN(LayerPrecisionModelTest)
#include "layer_precision_model_test.moc"
