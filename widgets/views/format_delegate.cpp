#include "widgets/views/format_delegate.h"

#include <QComboBox>

#include "widgets/views/layer_precision_model.h"

namespace lowbit {

FormatDelegate::FormatDelegate(QObject* parent) : QStyledItemDelegate(parent) {}

QWidget* FormatDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  const QStringList formats = index.data(LayerPrecisionModel::FormatsRole).toStringList();
  if (formats.isEmpty()) return QStyledItemDelegate::createEditor(parent, option, index);
  auto* combo = new QComboBox(parent);
  combo->setObjectName(QStringLiteral("formatEditor"));
  combo->addItems(formats);
  // A pick is the whole edit: commit it and close, as a checkbox toggle would.
  connect(combo, &QComboBox::activated, this, [this, combo] {
    auto* self = const_cast<FormatDelegate*>(this);
    emit self->commitData(combo);
    emit self->closeEditor(combo);
  });
  return combo;
}

void FormatDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const {
  if (auto* combo = qobject_cast<QComboBox*>(editor)) {
    combo->setCurrentText(index.data(Qt::EditRole).toString());
    return;
  }
  QStyledItemDelegate::setEditorData(editor, index);
}

void FormatDelegate::setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const {
  if (auto* combo = qobject_cast<QComboBox*>(editor)) {
    model->setData(index, combo->currentText(), Qt::EditRole);
    return;
  }
  QStyledItemDelegate::setModelData(editor, model, index);
}

}  // namespace lowbit
