#include "widgets/plots/spectrum_plot.h"

#include <cmath>
#include <qcustomplot.h>
#include <utility>

namespace lowbit {

SpectrumPlot::SpectrumPlot(QWidget* parent) : PlotWidget(parent) {
  plot_style::set_log_axis(plot()->yAxis, true);
  plot()->legend->setVisible(true);
  plot()->legend->setBrush(QColor(255, 255, 255, 220));
  plot()->legend->setBorderPen(QPen(plot_style::grid_colour()));
  plot()->legend->setTextColor(plot_style::text_colour());
  enable_zoom(Qt::Horizontal | Qt::Vertical);
  set_axis_labels(tr("rank"), tr("eigenvalue"));
  show_placeholder(tr("No spectrum"));
  default_labels_ = default_placeholder_ = true;
}

void SpectrumPlot::retranslate() {
  const bool defaults = default_labels_;
  if (defaults)
    set_axis_labels(tr("rank"), tr("eigenvalue"));
  else
    set_axis_labels(plot()->xAxis->label(), y_label_);  // the "(log scale)" suffix
  default_labels_ = defaults;
  if (!spectra_.empty()) rebuild();  // series names and the plot's own placeholders
  else if (default_placeholder_ && placeholder_visible()) set_placeholder(tr("No spectrum"));
}

void SpectrumPlot::set_spectra(std::vector<SeriesData> spectra) {
  spectra_ = std::move(spectra);
  rebuild();
}

void SpectrumPlot::add_spectrum(SeriesData spectrum) {
  spectra_.push_back(std::move(spectrum));
  rebuild();
}

void SpectrumPlot::show_placeholder(const QString& text) {
  default_placeholder_ = false;
  spectra_.clear();
  rebuild();
  fit_view();
  set_placeholder(text);
}

void SpectrumPlot::set_axis_labels(const QString& x, const QString& y) {
  default_labels_ = false;
  y_label_ = y;
  plot()->xAxis->setLabel(x);
  plot()->yAxis->setLabel(log_y_ ? tr("%1 (log scale)").arg(y) : y);
  request_replot();
}

void SpectrumPlot::set_log_y(bool on) {
  if (on == log_y_) return;
  log_y_ = on;
  plot_style::set_log_axis(plot()->yAxis, on);
  const bool defaults = default_labels_;
  set_axis_labels(plot()->xAxis->label(), y_label_);
  default_labels_ = defaults;
  rebuild();
}

int SpectrumPlot::point_count(int series) const { return graph(series) ? graph(series)->data()->size() : 0; }

int SpectrumPlot::hidden_count(int series) const {
  return series >= 0 && series < series_count() ? hidden_[static_cast<size_t>(series)] : 0;
}

QCPGraph* SpectrumPlot::graph(int series) const {
  return series >= 0 && series < series_count() ? graphs_[static_cast<size_t>(series)] : nullptr;
}

void SpectrumPlot::rebuild() {
  for (QCPGraph* g : graphs_) plot()->removeGraph(g);
  graphs_.clear();
  hidden_.clear();
  bool any = false;
  for (size_t i = 0; i < spectra_.size(); ++i) {
    const SeriesData& s = spectra_[i];
    QVector<double> keys, values;
    int hidden = 0;
    for (size_t k = 0; k < s.size() && (s.x.empty() || k < s.x.size()); ++k) {
      const double v = s.y[k];
      if (!std::isfinite(v)) continue;
      if (log_y_ && v <= 0) {
        ++hidden;
        continue;
      }
      keys << s.x_at(k);
      values << v;
    }
    auto* g = new QCPGraph(plot()->xAxis, plot()->yAxis);
    g->setPen(QPen(plot_style::series_colour(static_cast<int>(i)), i == 0 ? 2.0 : 1.4));
    QString name = QString::fromStdString(s.name);
    if (hidden > 0) name += tr(" (%n value(s) ≤ 0 not shown)", nullptr, hidden);
    g->setName(name);
    g->setData(keys, values);
    graphs_.push_back(g);
    hidden_.push_back(hidden);
    any = any || !keys.isEmpty();
  }
  if (any) {
    hide_placeholder();
    if (!user_view()) fit_view();
  } else if (!spectra_.empty()) {
    set_placeholder(log_y_ ? tr("No positive values to draw on a log axis") : tr("No finite values"));
  }
  request_replot();
}

void SpectrumPlot::fit_view() {
  bool any = false;
  for (const QCPGraph* g : graphs_) any = any || !g->data()->isEmpty();
  if (!any) {
    plot()->xAxis->setRange(0, 1);
    plot()->yAxis->setRange(log_y_ ? QCPRange(1, 10) : QCPRange(0, 1));
    return;
  }
  plot()->rescaleAxes();
  plot()->xAxis->scaleRange(1.03);
  plot()->yAxis->scaleRange(1.1);
}

QString SpectrumPlot::hover_text(QPointF pixel) const {
  const QList<QCPGraph*> graphs(graphs_.begin(), graphs_.end());
  const GraphHit hit = nearest_graph_point(graphs, pixel);
  if (hit.graph < 0) return {};
  return tr("%1 — %2 %3: %4")
      .arg(QString::fromStdString(spectra_[static_cast<size_t>(hit.graph)].name), plot()->xAxis->label(),
           plot_style::number(hit.key), plot_style::number(hit.value));
}

}  // namespace lowbit
