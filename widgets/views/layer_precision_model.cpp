#include "widgets/views/layer_precision_model.h"

#include <QFont>
#include <QLocale>

#include "widgets/views/tensor_table_model.h"

namespace lowbit {

QString short_tensor_name(const QString& tensor, qint64 block) {
  QString name = tensor;
  if (name.endsWith(QLatin1String(".weight"))) name.chop(7);
  if (block >= 0) {
    const QString marker = QStringLiteral(".%1.").arg(block);
    const qsizetype at = name.indexOf(marker);
    if (at >= 0) return name.mid(at + marker.size());
  }
  return name;
}

LayerPrecisionModel::LayerPrecisionModel(QObject* parent) : QAbstractTableModel(parent) {}

QList<LayerRow> LayerPrecisionModel::rows_from_plan(const PlanResult& plan, const SensitivityTable& sensitivity,
                                                    const std::vector<Format>& menu) {
  QList<LayerRow> rows;
  rows.reserve(static_cast<qsizetype>(plan.rows.size()));
  for (const PlanRow& p : plan.rows) {
    LayerRow r;
    r.tensor = QString::fromStdString(p.tensor);
    r.block = p.block;
    r.rows = p.rows;
    r.cols = p.cols;
    const auto measured = sensitivity.values.find(p.tensor);
    for (const Format& f : menu) {
      if (!f.fits(p.cols)) continue;
      const std::string name = f.name();
      LayerChoice c;
      c.format = QString::fromStdString(name);
      c.bytes = f.bytes(p.rows, p.cols);
      c.bits = f.bits_per_weight(p.rows, p.cols);
      if (name == p.format) {
        c.kld = p.kld;
        c.dnll = p.dnll;
      } else if (measured != sensitivity.values.end() && measured->second.count(name)) {
        c.kld = measured->second.at(name).kld;
        c.dnll = measured->second.at(name).dnll;
      } else {
        continue;  // never measured: the meter could not predict it
      }
      if (name == p.format) r.chosen = r.planned = static_cast<int>(r.choices.size());
      r.choices.push_back(c);
    }
    if (r.choices.isEmpty()) {  // a format outside the menu (should not happen): keep it, alone
      const auto f = Format::parse(p.format);
      r.choices.push_back({QString::fromStdString(p.format), p.bytes, f ? f->bits_per_weight(p.rows, p.cols) : 0, p.kld, p.dnll});
      r.chosen = r.planned = 0;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

void LayerPrecisionModel::set_rows(QList<LayerRow> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
  recompute_totals();
}

bool LayerPrecisionModel::set_format(int row, const QString& format) {
  if (row < 0 || row >= rows_.size()) return false;
  LayerRow& r = rows_[row];
  for (int i = 0; i < r.choices.size(); ++i) {
    if (r.choices[i].format != format) continue;
    if (i != r.chosen) {
      r.chosen = i;
      emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
      recompute_totals();
    }
    return true;
  }
  return false;
}

QString LayerPrecisionModel::format_at(int row) const {
  if (row < 0 || row >= rows_.size()) return {};
  return rows_[row].choices[rows_[row].chosen].format;
}

std::map<std::string, Format> LayerPrecisionModel::chosen_formats() const {
  std::map<std::string, Format> out;
  for (const LayerRow& r : rows_)
    if (auto f = Format::parse(r.choices[r.chosen].format.toStdString())) out[r.tensor.toStdString()] = *f;
  return out;
}

int LayerPrecisionModel::edited_count() const {
  int n = 0;
  for (const LayerRow& r : rows_) n += r.chosen != r.planned;
  return n;
}

void LayerPrecisionModel::recompute_totals() {
  LayerTotals t;
  for (const LayerRow& r : rows_) {
    const LayerChoice& c = r.choices[r.chosen];
    t.bytes += c.bytes;
    t.kld += c.kld;
    t.dnll += c.dnll;
  }
  totals_ = t;
  emit totals_changed(t.bytes, t.kld, t.dnll);
}

int LayerPrecisionModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int LayerPrecisionModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant LayerPrecisionModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rows_.size()) return {};
  const LayerRow& r = rows_[index.row()];
  const LayerChoice& c = r.choices[r.chosen];
  const QLocale locale;
  if (role == FormatsRole) {
    QStringList formats;
    for (const LayerChoice& ch : r.choices) formats << ch.format;
    return formats;
  }
  if (role == SortRole) {
    switch (index.column()) {
      case BlockColumn: return r.block;
      case TensorColumn: return r.tensor;
      case ShapeColumn: return r.rows * r.cols;
      case SensitivityColumn: return c.kld;
      case FormatColumn: return c.bits;  // formats sort by their cost in bits
      case BitsColumn: return c.bits;
      case BytesColumn: return c.bytes;
      case DnllColumn: return c.dnll;
      default: return {};
    }
  }
  if (role == Qt::DisplayRole || role == Qt::EditRole) {
    switch (index.column()) {
      case BlockColumn: return r.block >= 0 ? QString::number(r.block) : QStringLiteral("—");
      case TensorColumn: return short_tensor_name(r.tensor, r.block);
      case ShapeColumn: return QStringLiteral("%1 × %2").arg(r.rows).arg(r.cols);
      case SensitivityColumn: return locale.toString(c.kld, 'g', 3);
      case FormatColumn: return c.format;
      case BitsColumn: return locale.toString(c.bits, 'f', 2);
      case BytesColumn: return format_bytes(c.bytes);
      case DnllColumn: return (c.dnll >= 0 ? QStringLiteral("+") : QString()) + locale.toString(c.dnll, 'g', 3);
      default: return {};
    }
  }
  if (role == Qt::ToolTipRole) {
    if (index.column() == TensorColumn) return r.tensor;
    if (index.column() == SensitivityColumn) return tr("Mean KL divergence of the next-token distributions when only this tensor is quantized");
    if (index.column() == DnllColumn) return tr("Predicted change of the mean negative log-likelihood (nats per token)");
    if (index.column() == FormatColumn && r.chosen != r.planned)
      return tr("Edited; the planner chose %1").arg(r.choices[r.planned].format);
    return {};
  }
  if (role == Qt::TextAlignmentRole) {
    if (index.column() == TensorColumn || index.column() == FormatColumn) return {};
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  }
  if (role == Qt::FontRole && index.column() == FormatColumn && r.chosen != r.planned) {
    QFont bold;
    bold.setBold(true);
    return bold;
  }
  return {};
}

bool LayerPrecisionModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (!index.isValid() || index.column() != FormatColumn || role != Qt::EditRole) return false;
  return set_format(index.row(), value.toString());
}

Qt::ItemFlags LayerPrecisionModel::flags(const QModelIndex& index) const {
  Qt::ItemFlags f = QAbstractTableModel::flags(index);
  if (index.isValid() && index.column() == FormatColumn && rows_[index.row()].choices.size() > 1) f |= Qt::ItemIsEditable;
  return f;
}

void LayerPrecisionModel::retranslate() {
  emit headerDataChanged(Qt::Horizontal, 0, ColumnCount - 1);
  if (!rows_.isEmpty()) emit dataChanged(index(0, 0), index(static_cast<int>(rows_.size()) - 1, ColumnCount - 1));
}

QVariant LayerPrecisionModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
  switch (section) {
    case BlockColumn: return tr("Block");
    case TensorColumn: return tr("Tensor");
    case ShapeColumn: return tr("Shape");
    case SensitivityColumn: return tr("Sensitivity (KLD)");
    case FormatColumn: return tr("Format");
    case BitsColumn: return tr("Bits");
    case BytesColumn: return tr("Size");
    case DnllColumn: return tr("Predicted ΔNLL");
    default: return {};
  }
}

}  // namespace lowbit
