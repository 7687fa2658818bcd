// TensorTableModel and TensorFilterProxy over a real checkpoint (../shared/models/hf-fixtures/llama-gqa):
// one row per tensor, numeric sorting of the number columns, natural sorting of names, filtering by
// name or dtype.
#include <QSignalSpy>
#include <QTest>

#include "tests/widgets/qt_test_support.h"
#include "widgets/views/tensor_table_model.h"

using lowbit::Checkpoint;
using lowbit::TensorFilterProxy;
using lowbit::TensorTableModel;

namespace {

const QString kFixture = QStringLiteral("models/hf-fixtures/llama-gqa");

std::shared_ptr<const Checkpoint> open_fixture() {
  auto ck = Checkpoint::open(QFile::encodeName(lowbit::test::shared_path(kFixture)).toStdString());
  if (!ck) qWarning("%s", ck.error().message.c_str());
  return ck ? ck.value() : nullptr;
}

QStringList column(const QAbstractItemModel& m, int col, int role = Qt::DisplayRole) {
  QStringList out;
  for (int r = 0; r < m.rowCount(); ++r) out << m.index(r, col).data(role).toString();
  return out;
}

}  // namespace

class TensorTableModelTest : public QObject {
  Q_OBJECT

 private slots:
  void rows_match_the_checkpoint() {
    LOWBIT_QREQUIRE_SHARED(kFixture);
    auto ck = open_fixture();
    QVERIFY(ck);
    TensorTableModel model;
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.set_checkpoint(ck);
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.rowCount(), 21);
    QCOMPARE(model.columnCount(), int(TensorTableModel::ColumnCount));
    QCOMPARE(model.headerData(TensorTableModel::NameColumn, Qt::Horizontal).toString(), QStringLiteral("Tensor"));

    const QStringList names = column(model, TensorTableModel::NameColumn);
    const int q = static_cast<int>(names.indexOf(QStringLiteral("model.layers.0.self_attn.q_proj.weight")));
    QVERIFY(q >= 0);
    QCOMPARE(model.index(q, TensorTableModel::DTypeColumn).data().toString(), QStringLiteral("f32"));
    QCOMPARE(model.index(q, TensorTableModel::ShapeColumn).data().toString(), QStringLiteral("64 × 64"));
    QCOMPARE(model.index(q, TensorTableModel::ParametersColumn).data(TensorTableModel::SortRole).toLongLong(), 4096);
    QCOMPARE(model.index(q, TensorTableModel::BytesColumn).data(TensorTableModel::SortRole).toLongLong(), 16384);
    QVERIFY(model.index(q, TensorTableModel::BytesColumn).data().toString().contains(QStringLiteral("KiB")));
    QCOMPARE(model.tensor_at(q)->name, std::string("model.layers.0.self_attn.q_proj.weight"));
    QVERIFY(model.tensor_at(21) == nullptr);

    model.set_checkpoint(nullptr);
    QCOMPARE(model.rowCount(), 0);
  }

  void number_columns_sort_numerically() {
    LOWBIT_QREQUIRE_SHARED(kFixture);
    TensorTableModel model;
    model.set_checkpoint(open_fixture());
    TensorFilterProxy proxy;
    proxy.setSourceModel(&model);
    for (int col : {int(TensorTableModel::ParametersColumn), int(TensorTableModel::BytesColumn)}) {
      for (Qt::SortOrder order : {Qt::AscendingOrder, Qt::DescendingOrder}) {
        proxy.sort(col, order);
        QCOMPARE(proxy.rowCount(), 21);
        for (int r = 1; r < proxy.rowCount(); ++r) {
          const qint64 a = proxy.index(r - 1, col).data(TensorTableModel::SortRole).toLongLong();
          const qint64 b = proxy.index(r, col).data(TensorTableModel::SortRole).toLongLong();
          QVERIFY2(order == Qt::AscendingOrder ? a <= b : a >= b, qPrintable(QStringLiteral("row %1: %2 then %3").arg(r).arg(a).arg(b)));
        }
      }
    }
    // "65,536" sorts above "12,288" only when compared as numbers.
    proxy.sort(TensorTableModel::ParametersColumn, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, TensorTableModel::ParametersColumn).data(TensorTableModel::SortRole).toLongLong(), 65536);
    proxy.sort(TensorTableModel::ParametersColumn, Qt::AscendingOrder);
    QCOMPARE(proxy.index(0, TensorTableModel::ParametersColumn).data(TensorTableModel::SortRole).toLongLong(), 64);
  }

  void names_sort_in_natural_order() {
    QVERIFY(lowbit::natural_less(QStringLiteral("layers.2.q"), QStringLiteral("layers.10.q")));
    QVERIFY(!lowbit::natural_less(QStringLiteral("layers.10.q"), QStringLiteral("layers.2.q")));
    QVERIFY(lowbit::natural_less(QStringLiteral("blk.9.attn"), QStringLiteral("blk.09.attn_q")));
    QVERIFY(lowbit::natural_less(QStringLiteral("a"), QStringLiteral("ab")));
    QVERIFY(!lowbit::natural_less(QStringLiteral("x.1"), QStringLiteral("x.1")));
    QVERIFY(lowbit::natural_less(QStringLiteral("Model"), QStringLiteral("model.x")));

    LOWBIT_QREQUIRE_SHARED(kFixture);
    TensorTableModel model;
    model.set_checkpoint(open_fixture());
    TensorFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.sort(TensorTableModel::NameColumn, Qt::AscendingOrder);
    const QStringList names = column(proxy, TensorTableModel::NameColumn);
    QCOMPARE(names.front(), QStringLiteral("lm_head.weight"));
    QCOMPARE(names.back(), QStringLiteral("model.norm.weight"));
    QVERIFY(names.indexOf(QStringLiteral("model.layers.0.self_attn.v_proj.weight")) <
            names.indexOf(QStringLiteral("model.layers.1.input_layernorm.weight")));
  }

  void filter_matches_name_or_dtype() {
    LOWBIT_QREQUIRE_SHARED(kFixture);
    TensorTableModel model;
    model.set_checkpoint(open_fixture());
    TensorFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.set_filter_text(QStringLiteral("q_proj"));
    QCOMPARE(proxy.rowCount(), 2);
    proxy.set_filter_text(QStringLiteral(" LAYERS.1. "));  // trimmed, case-insensitive
    QCOMPARE(proxy.rowCount(), 9);
    QCOMPARE(proxy.filter_text(), QStringLiteral("LAYERS.1."));
    proxy.set_filter_text(QStringLiteral("f32"));
    QCOMPARE(proxy.rowCount(), 21);
    proxy.set_filter_text(QStringLiteral("no such tensor"));
    QCOMPARE(proxy.rowCount(), 0);
    proxy.set_filter_text(QString());
    QCOMPARE(proxy.rowCount(), 21);
  }

  void formats_sizes_and_counts() {
    QCOMPARE(lowbit::format_count(8'390'000), QLocale().toString(8.39, 'f', 2) + QStringLiteral(" M"));
    QCOMPARE(lowbit::format_count(512), QStringLiteral("512"));
    QVERIFY(lowbit::format_bytes(16'777'216).contains(QStringLiteral("MiB")));
  }
};

QTEST_MAIN(TensorTableModelTest)
#include "tensor_table_model_test.moc"
