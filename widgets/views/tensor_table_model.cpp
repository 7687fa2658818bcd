#include "widgets/views/tensor_table_model.h"

#include <QCoreApplication>
#include <QLocale>

namespace lowbit {

namespace {

QString shape_text(const TensorInfo& t) {
  if (t.shape.empty()) return QCoreApplication::translate("lowbit::TensorTableModel", "scalar");
  QStringList dims;
  for (int64_t d : t.shape) dims << QString::number(d);
  return dims.join(QStringLiteral(" × "));
}

}  // namespace

TensorTableModel::TensorTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void TensorTableModel::set_checkpoint(std::shared_ptr<const Checkpoint> checkpoint) {
  beginResetModel();
  checkpoint_ = std::move(checkpoint);
  endResetModel();
}

const TensorInfo* TensorTableModel::tensor_at(int row) const {
  if (!checkpoint_ || row < 0 || row >= rowCount()) return nullptr;
  return &checkpoint_->tensors()[static_cast<size_t>(row)];
}

void TensorTableModel::retranslate() {
  emit headerDataChanged(Qt::Horizontal, 0, ColumnCount - 1);
  if (rowCount() > 0) emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

int TensorTableModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !checkpoint_) return 0;
  return static_cast<int>(checkpoint_->tensors().size());
}

int TensorTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant TensorTableModel::data(const QModelIndex& index, int role) const {
  const TensorInfo* t = index.isValid() ? tensor_at(index.row()) : nullptr;
  if (!t) return {};
  const auto numel = static_cast<qint64>(t->numel());
  const auto nbytes = static_cast<qint64>(t->nbytes);
  const int column = index.column();
  if (role == Qt::DisplayRole) {
    switch (column) {
      case NameColumn: return QString::fromStdString(t->name);
      case DTypeColumn: return QString::fromLatin1(dtype_name(t->dtype));
      case ShapeColumn: return shape_text(*t);
      case ParametersColumn: return QLocale().toString(numel);
      case BytesColumn: return QLocale().formattedDataSize(nbytes, 1, QLocale::DataSizeIecFormat);
      default: return {};
    }
  }
  if (role == SortRole) {
    switch (column) {
      case NameColumn: return QString::fromStdString(t->name);
      case DTypeColumn: return QString::fromLatin1(dtype_name(t->dtype));
      case ShapeColumn:
      case ParametersColumn: return numel;
      case BytesColumn: return nbytes;
      default: return {};
    }
  }
  if (role == Qt::TextAlignmentRole) {
    const bool numeric = column == ParametersColumn || column == BytesColumn;
    return QVariant::fromValue(Qt::AlignVCenter | (numeric ? Qt::AlignRight : Qt::AlignLeft));
  }
  if (role == Qt::ToolTipRole) {
    if (column == BytesColumn) return tr("%1 bytes").arg(QLocale().toString(nbytes));
    if (column == NameColumn)
      return tr("%1\nin %2").arg(QString::fromStdString(t->name), QString::fromStdString(t->file));
  }
  return {};
}

QVariant TensorTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::TextAlignmentRole) {
    const bool numeric = section == ParametersColumn || section == BytesColumn;
    return QVariant::fromValue(Qt::AlignVCenter | (numeric ? Qt::AlignRight : Qt::AlignLeft));
  }
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case NameColumn: return tr("Tensor");
    case DTypeColumn: return tr("Type");
    case ShapeColumn: return tr("Shape");
    case ParametersColumn: return tr("Parameters");
    case BytesColumn: return tr("Size");
    default: return {};
  }
}

TensorFilterProxy::TensorFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(TensorTableModel::SortRole);
  setSortCaseSensitivity(Qt::CaseInsensitive);
}

void TensorFilterProxy::set_filter_text(const QString& text) {
  const QString trimmed = text.trimmed();
  if (trimmed == filter_) return;
  // Qt 6.4 has no beginFilterChange(); invalidateFilter() re-runs filterAcceptsRow for every row.
  filter_ = trimmed;
  invalidateFilter();
}

bool TensorFilterProxy::filterAcceptsRow(int source_row, const QModelIndex& source_parent) const {
  if (filter_.isEmpty()) return true;
  const QAbstractItemModel* m = sourceModel();
  for (int column : {int(TensorTableModel::NameColumn), int(TensorTableModel::DTypeColumn)}) {
    const QString text = m->index(source_row, column, source_parent).data(Qt::DisplayRole).toString();
    if (text.contains(filter_, Qt::CaseInsensitive)) return true;
  }
  return false;
}

bool TensorFilterProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const {
  const QVariant a = left.data(sortRole());
  const QVariant b = right.data(sortRole());
  if (a.typeId() == QMetaType::QString && b.typeId() == QMetaType::QString)
    return natural_less(a.toString(), b.toString());
  return QSortFilterProxyModel::lessThan(left, right);
}

bool natural_less(const QString& a, const QString& b) {
  qsizetype i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].isDigit() && b[j].isDigit()) {
      // Compare digit runs by value: skip leading zeros, then the longer run is larger.
      qsizetype i0 = i, j0 = j;
      while (i0 < a.size() && a[i0] == u'0') ++i0;
      while (j0 < b.size() && b[j0] == u'0') ++j0;
      qsizetype i1 = i0, j1 = j0;
      while (i1 < a.size() && a[i1].isDigit()) ++i1;
      while (j1 < b.size() && b[j1].isDigit()) ++j1;
      if (i1 - i0 != j1 - j0) return i1 - i0 < j1 - j0;
      const int c = QStringView(a).mid(i0, i1 - i0).compare(QStringView(b).mid(j0, j1 - j0));
      if (c != 0) return c < 0;
      i = i1;
      j = j1;
      continue;
    }
    const QChar ca = a[i].toCaseFolded(), cb = b[j].toCaseFolded();
    if (ca != cb) return ca < cb;
    ++i;
    ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;  // equal up to case and leading zeros: a stable, total order
}

QString format_bytes(quint64 bytes) {
  // Below 1 KiB Qt writes "%1 bytes" in its own translation context, which the studio does not ship.
  if (bytes < 1024) return QCoreApplication::translate("lowbit::format", "%1 bytes").arg(QLocale().toString(bytes));
  return QLocale().formattedDataSize(static_cast<qint64>(bytes), 1, QLocale::DataSizeIecFormat);
}

QString format_count(quint64 count) {
  const auto n = static_cast<double>(count);
  const QLocale locale;
  if (n >= 1e9) return QCoreApplication::translate("lowbit::format", "%1 B").arg(locale.toString(n / 1e9, 'f', 2));
  if (n >= 1e6) return QCoreApplication::translate("lowbit::format", "%1 M").arg(locale.toString(n / 1e6, 'f', 2));
  if (n >= 1e4) return QCoreApplication::translate("lowbit::format", "%1 K").arg(locale.toString(n / 1e3, 'f', 1));
  return locale.toString(static_cast<qulonglong>(count));
}

}  // namespace lowbit
