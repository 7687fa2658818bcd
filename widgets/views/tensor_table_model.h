// TensorTableModel: the tensors of one checkpoint as a Qt table — name, dtype, shape, parameters and
// bytes — for a QTableView behind TensorFilterProxy. It shares ownership of the checkpoint, so the
// TensorInfo it hands out (tensor_at) stays valid, data pointer included, while the model holds it.
// SortRole gives every column a sortable value: numbers as qint64 (numeric order, not "10" < "9"),
// shapes by element count, names in natural order ("layers.9" before "layers.10") through the proxy.
#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <memory>

#include "core/io/checkpoint.h"

namespace lowbit {

class TensorTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { NameColumn, DTypeColumn, ShapeColumn, ParametersColumn, BytesColumn, ColumnCount };
  static constexpr int SortRole = Qt::UserRole + 1;

  explicit TensorTableModel(QObject* parent = nullptr);

  // Replaces the rows with the tensors of `checkpoint` (nullptr empties the table).
  void set_checkpoint(std::shared_ptr<const Checkpoint> checkpoint);
  const std::shared_ptr<const Checkpoint>& checkpoint() const { return checkpoint_; }
  // The tensor of a source row, or nullptr when the row is out of range.
  const TensorInfo* tensor_at(int row) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  // After a language change: tells the views that the headers and texts changed (they ask again).
  void retranslate();

 private:
  std::shared_ptr<const Checkpoint> checkpoint_;
};

// Sorts by TensorTableModel::SortRole (names in natural order) and filters rows whose name or dtype
// contains the filter text, case-insensitively ("q_proj", "layers.3.", "bf16").
class TensorFilterProxy : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  explicit TensorFilterProxy(QObject* parent = nullptr);
  void set_filter_text(const QString& text);
  const QString& filter_text() const { return filter_; }

 protected:
  bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;
  bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

 private:
  QString filter_;
};

// Natural order of tensor names: runs of digits compare as numbers, so "layers.2" < "layers.10".
bool natural_less(const QString& a, const QString& b);

// "1.5 GiB", "320.0 KiB", "12 bytes" — binary units, one decimal, in the user's locale.
QString format_bytes(quint64 bytes);
// "8.03 M", "1.24 B", "512" — for parameter counts.
QString format_count(quint64 count);

}  // namespace lowbit
