// PlotWidget: the base of the studio's QCustomPlot charts (heatmap, landscape, spectrum, curves,
// channel maxima, comparison, bits per layer). It owns the canvas, a placeholder line shown instead
// of empty axes, batched replots and the hover read-out. A subclass changes its plottables and calls
// request_replot(), which only marks the plot dirty: a single-shot timer replots (with
// QCustomPlot::rpQueuedReplot) at most every kReplotIntervalMs, so a running job may append points as
// fast as it likes and the chart still repaints at about 30 Hz. A mouse move over the canvas asks the
// subclass for hover_text() at that pixel and shows it as a tooltip and through hovered(); tests call
// hover_text() directly. Dragging or wheel-zooming marks the view as the user's (subclasses then stop
// refitting their axes on new data); a double-click or reset_view() fits the data again.
#pragma once

#include <QColor>
#include <QList>
#include <QPointF>
#include <QWidget>

class QCustomPlot;
class QCPAxis;
class QCPGraph;
class QCPItemText;
class QCPRange;
class QCPTextElement;
class QMouseEvent;
class QTimer;

namespace lowbit {

class PlotWidget : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kReplotIntervalMs = 33;  // ~30 Hz

  explicit PlotWidget(QWidget* parent = nullptr);

  QCustomPlot* plot() const { return plot_; }
  // The text describing the data under `pixel` (canvas coordinates); empty where there is none.
  virtual QString hover_text(QPointF pixel) const = 0;
  // The text the last mouse move showed (empty once the mouse left the data or the canvas).
  QString hover_readout() const { return hover_; }

  // The bold line(s) above the plot; empty: no title row.
  QString title_text() const;
  bool placeholder_visible() const;
  QString placeholder_text() const;
  // A change is waiting for the next batched replot.
  bool replot_pending() const { return dirty_; }
  // True once the user dragged or zoomed the axes, or set_view() was called; reset_view() clears it.
  bool user_view() const { return user_view_; }
  // Shows this part of the data (as a user's zoom would: new data no longer refits the axes).
  void set_view(const QCPRange& x, const QCPRange& y);
  QSize sizeHint() const override { return {480, 320}; }

 public slots:
  // Fits the axes to the data again (also on a double-click).
  void reset_view();

 signals:
  void hovered(const QString& text);

 protected:
  void request_replot();
  // Sets the title above everything else in the plot layout (a row added on the first non-empty
  // title, removed again for an empty one).
  void set_title_text(const QString& text);
  void set_placeholder(const QString& text);  // shows the line over the (empty) axes
  void hide_placeholder();
  // Lets the user drag and wheel-zoom the axes in `orientations`.
  void enable_zoom(Qt::Orientations orientations);
  // Fits the axes to the data; called by reset_view(). Subclasses also call it on new data unless
  // user_view().
  virtual void fit_view() {}
  // Called by the batched replot before it draws: the place for work done once per frame rather
  // than once per change (refitting axes to points appended since the last frame).
  virtual void before_batched_replot() {}
  // On QEvent::LanguageChange (then a replot): re-sets the texts the plot chose itself — its axis
  // labels and series names, labels drawn from its data, its own placeholder. Texts a caller set
  // are the caller's to re-set.
  virtual void retranslate() {}
  bool eventFilter(QObject* watched, QEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void flush();
  void on_mouse_move(QMouseEvent* event);
  void set_hover(const QString& text);

  QCustomPlot* plot_ = nullptr;
  QCPItemText* placeholder_ = nullptr;
  QCPTextElement* title_ = nullptr;
  QTimer* replot_timer_ = nullptr;
  QString hover_;
  bool dirty_ = false;
  bool user_view_ = false;
};

// The data point of `graphs` nearest to `pixel` (canvas coordinates) within `max_px` pixels; graph
// is the index into `graphs`, -1 when there is none. Hidden graphs are skipped.
struct GraphHit {
  int graph = -1;
  double key = 0, value = 0;
};
GraphHit nearest_graph_point(const QList<QCPGraph*>& graphs, QPointF pixel, double max_px = 12);

// The house style the plots share (the colours of HistogramPlot).
namespace plot_style {
QColor text_colour();
QColor axis_colour();
QColor grid_colour();
// A colour per series: 0 is a neutral dark grey (the full-precision reference), then a palette.
QColor series_colour(int index);
void style_axis(QCPAxis* axis);
// A log10 axis with 10ⁿ tick labels, or back to a plain linear one.
void set_log_axis(QCPAxis* axis, bool on);
// "1.23e-05", "0.0123", "123.4": compact numbers for hover texts and labels.
QString number(double value);
}  // namespace plot_style

}  // namespace lowbit
