#include "app/studio/drop_zone.h"

#include <QDragEnterEvent>
#include <QMouseEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>

#include "app/studio/studio_paths.h"

namespace lowbit {

namespace {

const QColor kAccent(0x3b, 0x7d, 0xd8);
const QColor kBorder(0xa9, 0xb1, 0xbc);

// A tray with an arrow falling into it, drawn rather than loaded so the page needs no icon assets.
void draw_drop_glyph(QPainter& p, QPointF center, double size, const QColor& color) {
  QPen pen(color, size * 0.07, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
  p.setPen(pen);
  p.setBrush(Qt::NoBrush);
  const double w = size, h = size * 0.36, top = center.y() + size * 0.06;
  QPainterPath tray;
  tray.moveTo(center.x() - w / 2, top);
  tray.lineTo(center.x() - w / 2, top + h);
  tray.lineTo(center.x() + w / 2, top + h);
  tray.lineTo(center.x() + w / 2, top);
  p.drawPath(tray);
  const double ay0 = center.y() - size * 0.5, ay1 = center.y() + size * 0.18;
  p.drawLine(QPointF(center.x(), ay0), QPointF(center.x(), ay1));
  p.drawLine(QPointF(center.x() - size * 0.2, ay1 - size * 0.2), QPointF(center.x(), ay1));
  p.drawLine(QPointF(center.x() + size * 0.2, ay1 - size * 0.2), QPointF(center.x(), ay1));
}

}  // namespace

DropZone::DropZone(QWidget* parent) : QFrame(parent) {
  setAcceptDrops(true);
  setCursor(Qt::PointingHandCursor);
  setMinimumHeight(180);
  setMaximumHeight(280);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
  retranslate();
}

// The texts painted in the zone are translated as they are drawn.
void DropZone::retranslate() {
  setAccessibleName(tr("Drop zone for a model"));
  setToolTip(tr("Drop a Hugging Face checkpoint folder, a .safetensors or a .gguf file, or click to choose one"));
}

void DropZone::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QFrame::changeEvent(event);
}

QString DropZone::checkpoint_path(const QMimeData* mime) {
  if (!mime || !mime->hasUrls()) return {};
  for (const QUrl& url : mime->urls()) {
    if (!url.isLocalFile()) continue;
    const QString path = url.toLocalFile();
    if (is_checkpoint_candidate(path)) return path;
  }
  return {};
}

void DropZone::dragEnterEvent(QDragEnterEvent* event) {
  if (checkpoint_path(event->mimeData()).isEmpty()) {
    event->ignore();
    return;
  }
  event->acceptProposedAction();
  set_drag_active(true);
}

void DropZone::dragMoveEvent(QDragMoveEvent* event) {
  if (checkpoint_path(event->mimeData()).isEmpty())
    event->ignore();
  else
    event->acceptProposedAction();
}

void DropZone::dragLeaveEvent(QDragLeaveEvent* event) {
  set_drag_active(false);
  QFrame::dragLeaveEvent(event);
}

void DropZone::dropEvent(QDropEvent* event) {
  set_drag_active(false);
  const QString path = checkpoint_path(event->mimeData());
  if (path.isEmpty()) {
    event->ignore();
    return;
  }
  event->acceptProposedAction();
  emit path_dropped(path);
}

void DropZone::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton && rect().contains(event->position().toPoint())) emit clicked();
  QFrame::mouseReleaseEvent(event);
}

void DropZone::set_drag_active(bool on) {
  if (on == drag_active_) return;
  drag_active_ = on;
  update();
}

void DropZone::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QRectF r = QRectF(rect()).adjusted(2, 2, -2, -2);
  const QColor line = drag_active_ ? kAccent : kBorder;
  QColor fill = drag_active_ ? kAccent : palette().color(QPalette::Base);
  if (drag_active_) fill.setAlpha(28);
  p.setBrush(fill);
  p.setPen(QPen(line, 2, Qt::DashLine, Qt::RoundCap));
  p.drawRoundedRect(r, 14, 14);

  const double glyph = std::min(56.0, r.height() * 0.28);
  const QPointF glyph_center(r.center().x(), r.top() + r.height() * 0.34);
  draw_drop_glyph(p, glyph_center, glyph, drag_active_ ? kAccent : palette().color(QPalette::PlaceholderText));

  QFont title = font();
  title.setPointSizeF(title.pointSizeF() * 1.35);
  title.setBold(true);
  p.setFont(title);
  p.setPen(palette().color(QPalette::Text));
  const double text_top = glyph_center.y() + glyph * 0.7;
  const QRectF title_rect(r.left(), text_top, r.width(), QFontMetricsF(title).height() * 1.3);
  p.drawText(title_rect, Qt::AlignHCenter | Qt::AlignTop,
             drag_active_ ? tr("Release to open the model") : tr("Drop a model here"));
  p.setFont(font());
  p.setPen(palette().color(QPalette::PlaceholderText));
  const QRectF sub_rect(r.left() + 16, title_rect.bottom(), r.width() - 32, r.bottom() - title_rect.bottom());
  p.drawText(sub_rect, Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap,
             tr("A Hugging Face checkpoint folder, a .safetensors file or a .gguf file — or click to choose one"));
}

}  // namespace lowbit
