// LayerPrecisionModel: the layer-precision table of the plan page — one row per quantizable tensor of a
// plan (block, tensor, shape, sensitivity, format, bits per weight, bytes, predicted ΔNLL), the format
// editable. Each row carries what every format of the menu would cost it (bytes, KL divergence, ΔNLL,
// from the measured sensitivity table), so an edit recomputes the row and the totals at once, on the
// GUI thread, without touching the model or the checkpoint again. Totals (bytes of the chosen tensors,
// ΣKLD, ΣΔNLL) are announced with totals_changed after every reset and edit; the whole file's size is
// the page's business (the fixed part of the file is not this model's to know).
#pragma once

#include <QAbstractTableModel>
#include <QList>
#include <QString>
#include <QStringList>
#include <map>
#include <string>
#include <vector>

#include "core/plan/planner.h"

namespace lowbit {

// What one format would cost one tensor.
struct LayerChoice {
  QString format;
  quint64 bytes = 0;
  double bits = 0;  // bits per weight of this tensor in this format
  double kld = 0;
  double dnll = 0;
};

struct LayerRow {
  QString tensor;  // the checkpoint's name
  qint64 block = -1;  // -1: token embeddings or output head
  qint64 rows = 0, cols = 0;
  QList<LayerChoice> choices;  // the menu formats this tensor fits and has a measurement for
  int chosen = 0;              // index into choices
  int planned = 0;             // what the planner chose (edits differ from it)
};

struct LayerTotals {
  quint64 bytes = 0;  // of the chosen tensors only
  double kld = 0;
  double dnll = 0;
};

class LayerPrecisionModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    BlockColumn,
    TensorColumn,
    ShapeColumn,
    SensitivityColumn,
    FormatColumn,
    BitsColumn,
    BytesColumn,
    DnllColumn,
    ColumnCount
  };
  static constexpr int SortRole = Qt::UserRole + 1;
  // The formats a row may take (QStringList), for the format column's editor.
  static constexpr int FormatsRole = Qt::UserRole + 2;

  explicit LayerPrecisionModel(QObject* parent = nullptr);

  // The rows of a plan: its chosen formats, with every menu format's measurements from `sensitivity`.
  static QList<LayerRow> rows_from_plan(const PlanResult& plan, const SensitivityTable& sensitivity,
                                        const std::vector<Format>& menu);
  void set_rows(QList<LayerRow> rows);
  void set_plan(const PlanResult& plan, const SensitivityTable& sensitivity, const std::vector<Format>& menu) {
    set_rows(rows_from_plan(plan, sensitivity, menu));
  }
  const QList<LayerRow>& rows() const { return rows_; }

  // Sets row `row` to `format`; false (and nothing changes) when the row does not offer it.
  bool set_format(int row, const QString& format);
  QString format_at(int row) const;
  LayerTotals totals() const { return totals_; }
  // checkpoint tensor name → chosen format, what a layout holds.
  std::map<std::string, Format> chosen_formats() const;
  int edited_count() const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  // After a language change: tells the views that the headers and tooltips changed (they ask again).
  void retranslate();

 signals:
  void totals_changed(quint64 bytes, double kld, double dnll);

 private:
  void recompute_totals();

  QList<LayerRow> rows_;
  LayerTotals totals_;
};

// "self_attn.q_proj" for "model.layers.3.self_attn.q_proj.weight" of block 3; other names keep their
// path and lose ".weight" ("model.embed_tokens").
QString short_tensor_name(const QString& tensor, qint64 block);

}  // namespace lowbit
