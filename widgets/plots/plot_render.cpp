#include "widgets/plots/plot_render.h"

#include <QPaintDevice>
#include <QPainter>
#include <QPicture>
#include <algorithm>
#include <qcustomplot.h>

namespace lowbit {

namespace {

constexpr double kLayoutDpi = 96.0;

QSize physical_size_at_96_dpi(const QPainter* painter, const QRectF& target) {
  const QRectF device_rect = painter->deviceTransform().mapRect(target);
  const QPaintDevice* device = painter->device();
  const double dpi_x = std::max(1, device->logicalDpiX()), dpi_y = std::max(1, device->logicalDpiY());
  return {qRound(device_rect.width() * kLayoutDpi / dpi_x), qRound(device_rect.height() * kLayoutDpi / dpi_y)};
}

}  // namespace

void render_plot(QCustomPlot* plot, QPainter* painter, const QRectF& target, QSize layout_size) {
  if (plot == nullptr || painter == nullptr || !painter->isActive() || target.isEmpty()) return;
  if (layout_size.isEmpty()) layout_size = physical_size_at_96_dpi(painter, target);
  layout_size = layout_size.expandedTo(QSize(80, 60));

  QPicture picture;
  {
    QCPPainter recorder(&picture);
    recorder.setMode(QCPPainter::pmVectorized);
    recorder.setMode(QCPPainter::pmNoCaching);
    recorder.setMode(QCPPainter::pmNonCosmetic);  // hairlines would be one printer dot wide
    plot->toPainter(&recorder, layout_size.width(), layout_size.height());
    recorder.end();
  }

  painter->save();
  painter->translate(target.topLeft());
  painter->scale(target.width() / layout_size.width(), target.height() / layout_size.height());
  painter->setClipRect(QRectF(QPointF(0, 0), QSizeF(layout_size)), Qt::IntersectClip);
  // A QPicture keeps its physical size on replay: it scales itself by the device's dpi over its own.
  // Undo that, so that layout_size maps onto exactly `target`.
  const QPaintDevice* device = painter->device();
  painter->scale(double(picture.logicalDpiX()) / std::max(1, device->logicalDpiX()),
                 double(picture.logicalDpiY()) / std::max(1, device->logicalDpiY()));
  painter->drawPicture(QPointF(0, 0), picture);
  painter->restore();

  // toPainter laid the plot out at layout_size; lay it out again for the screen, so that mouse
  // positions map to the right coordinates before the next replot.
  if (!plot->viewport().isEmpty()) {
    for (auto phase : {QCPLayoutElement::upPreparation, QCPLayoutElement::upMargins, QCPLayoutElement::upLayout})
      plot->plotLayout()->update(phase);
    if (plot->isVisible()) plot->replot(QCustomPlot::rpQueuedReplot);
  }
}

}  // namespace lowbit
