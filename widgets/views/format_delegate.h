// FormatDelegate: edits a format cell with a combo box of the formats that row may take (the model's
// LayerPrecisionModel::FormatsRole), committing as soon as one is picked, so the budget meter follows
// the pick without a second click elsewhere.
#pragma once

#include <QStyledItemDelegate>

namespace lowbit {

class FormatDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  explicit FormatDelegate(QObject* parent = nullptr);

  QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  void setEditorData(QWidget* editor, const QModelIndex& index) const override;
  void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override;
};

}  // namespace lowbit
