// render_plot: draws a QCustomPlot into any QPainter (a PDF page, an SVG, a printer) as vectors, so
// the PDF report's charts stay sharp at any zoom. The plot is laid out as if it were a window of the
// target's physical size at 96 dpi — fonts keep their point sizes on paper — recorded through a
// QCPPainter in vector mode (non-cosmetic pens, no cached layers) into a QPicture, and replayed into
// `target`, which is in the painter's coordinates. The painter's state is left as it was. The plot
// need not be shown: a chart built only for the report renders the same. Colour maps are images by
// nature and stay images inside the vector page.
#pragma once

#include <QRectF>
#include <QSize>

class QCustomPlot;
class QPainter;

namespace lowbit {

// `layout_size`: the pixel size to lay the plot out at; empty = the target's size at 96 dpi.
void render_plot(QCustomPlot* plot, QPainter* painter, const QRectF& target, QSize layout_size = {});

}  // namespace lowbit
