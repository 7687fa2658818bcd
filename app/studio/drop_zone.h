// DropZone: the start page's target for a checkpoint dragged from a file manager. A drag is accepted
// only when it carries a local folder or a .safetensors/.gguf file that exists (remote URLs and
// other files show the "not allowed" cursor); a drop emits path_dropped with the first such path.
// dropEvent checks the data itself, so a drop synthesized without a prior drag enter (tests) works
// the same. Clicking the zone asks for a file (clicked), as the buttons beside it do.
#pragma once

#include <QFrame>

class QMimeData;

namespace lowbit {

class DropZone : public QFrame {
  Q_OBJECT

 public:
  explicit DropZone(QWidget* parent = nullptr);

  // The first local checkpoint candidate in `mime`, or an empty string.
  static QString checkpoint_path(const QMimeData* mime);
  bool drag_active() const { return drag_active_; }
  QSize sizeHint() const override { return {640, 220}; }

 signals:
  void path_dropped(const QString& path);
  void clicked();

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dragMoveEvent(QDragMoveEvent* event) override;
  void dragLeaveEvent(QDragLeaveEvent* event) override;
  void dropEvent(QDropEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void set_drag_active(bool on);
  void retranslate();

  bool drag_active_ = false;
};

}  // namespace lowbit
