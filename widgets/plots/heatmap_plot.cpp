#include "widgets/plots/heatmap_plot.h"

#include <algorithm>
#include <cmath>
#include <qcustomplot.h>
#include <utility>

namespace lowbit {

HeatmapPlot::HeatmapPlot(QWidget* parent) : ColourMapPlot(parent) {
  plot()->xAxis->setLabel(tr("column j"));
  plot()->yAxis->setLabel(tr("row i"));
  plot()->yAxis->setRangeReversed(true);  // row 0 at the top, as a matrix is written
  plot()->xAxis->grid()->setVisible(false);
  plot()->yAxis->grid()->setVisible(false);
  set_value_label(tr("|H|"));
  set_scale_mode(ColourScale::Log);
  connect(plot(), &QCustomPlot::afterLayout, this, &HeatmapPlot::keep_square_cells);
  show_placeholder(tr("No matrix"));
  default_placeholder_ = true;
}

void HeatmapPlot::retranslate() {
  plot()->xAxis->setLabel(tr("column j"));
  plot()->yAxis->setLabel(tr("row i"));
  ColourMapPlot::retranslate();
  rebuild();  // the title
  if (default_placeholder_ && placeholder_visible()) set_placeholder(tr("No matrix"));
}

void HeatmapPlot::set_matrix(MatrixData matrix) {
  if (matrix.empty()) {
    show_placeholder(tr("Empty matrix"));
    return;
  }
  const bool same_shape = matrix.rows == matrix_.rows && matrix.cols == matrix_.cols;
  matrix_ = std::move(matrix);
  rebuild();
  if (!same_shape) {
    reset_view();  // the user's zoom was into another matrix
  } else if (!user_view()) {
    fit_view();
  }
}

void HeatmapPlot::show_placeholder(const QString& text) {
  default_placeholder_ = false;
  matrix_ = {};
  factor_ = 1;
  clear_cells();
  set_title_text(QString());
  plot()->xAxis->setRange(-0.5, 0.5);
  plot()->yAxis->setRange(-0.5, 0.5);
  set_placeholder(text);
}

void HeatmapPlot::set_absolute(bool on) {
  if (on == absolute_) return;
  absolute_ = on;
  rebuild();
}

void HeatmapPlot::rebuild() {
  if (matrix_.empty()) return;
  factor_ = block_factor(matrix_.rows, matrix_.cols, kMaxCells);
  ReducedMatrix r = block_reduce(matrix_, factor_, absolute_);
  // Cell k covers entries [k·f, (k+1)·f): its centre is at k·f + (f − 1)/2 in entry coordinates.
  const double half = (factor_ - 1) / 2.0;
  const auto last_col = static_cast<double>((r.cols - 1) * factor_) + half;
  const auto last_row = static_cast<double>((r.rows - 1) * factor_) + half;
  set_cells(std::move(r.values), static_cast<int>(r.cols), static_cast<int>(r.rows), half, last_col, half, last_row);

  QString title = QString::fromStdString(matrix_.title);
  const QString size = tr("%1 × %2").arg(matrix_.rows).arg(matrix_.cols);
  if (factor_ > 1) {  // the reduction on a second line: the title stays readable in a narrow pane
    const QString note = tr("%1, drawn as %2 × %3 cells, each the max %4 of a %5 × %5 block")
                             .arg(size)
                             .arg(r.rows)
                             .arg(r.cols)
                             .arg(absolute_ ? tr("|value|") : tr("magnitude"))
                             .arg(factor_);
    title = title.isEmpty() ? note : title + QLatin1Char('\n') + note;
  } else {
    title += (title.isEmpty() ? QString() : QStringLiteral(" — ")) + size;
  }
  set_title_text(title);
}

void HeatmapPlot::fit_view() {
  if (matrix_.empty()) return;
  plot()->xAxis->setRange(-0.5, static_cast<double>(matrix_.cols) - 0.5);
  plot()->yAxis->setRange(-0.5, static_cast<double>(matrix_.rows) - 0.5);
  keep_square_cells();
}

// Runs after every layout (on screen and in render_plot): fits the whole matrix with square cells,
// or, once the user moved the view, keeps its centre and squares the cells.
void HeatmapPlot::keep_square_cells() {
  if (matrix_.empty()) return;
  const QRect rect = plot()->axisRect()->rect();
  if (rect.width() < 2 || rect.height() < 2) return;
  QCPAxis* x = plot()->xAxis;
  QCPAxis* y = plot()->yAxis;
  const QCPRange old_x = x->range(), old_y = y->range();
  if (!user_view()) {
    const auto cols = static_cast<double>(matrix_.cols), rows = static_cast<double>(matrix_.rows);
    const double px_per_entry = std::min(rect.width() / cols, rect.height() / rows);
    x->setRange((cols - 1) / 2, rect.width() / px_per_entry, Qt::AlignCenter);
    y->setRange((rows - 1) / 2, rect.height() / px_per_entry, Qt::AlignCenter);
  } else {
    const double ratio = (rect.width() / old_x.size()) / (rect.height() / old_y.size());
    if (std::abs(ratio - 1) < 1e-4) return;
    y->setScaleRatio(x, 1.0);
  }
  auto moved = [](const QCPRange& a, const QCPRange& b) {
    const double tol = 1e-9 * std::max(1.0, b.size());
    return std::abs(a.lower - b.lower) > tol || std::abs(a.upper - b.upper) > tol;
  };
  if (!moved(old_x, x->range()) && !moved(old_y, y->range())) return;
  // The ticks were placed for the old ranges: lay out again (QCustomPlot does not signal this pass).
  for (auto phase : {QCPLayoutElement::upPreparation, QCPLayoutElement::upMargins, QCPLayoutElement::upLayout})
    plot()->plotLayout()->update(phase);
}

QString HeatmapPlot::hover_text(QPointF pixel) const {
  if (matrix_.empty() || !plot()->axisRect()->rect().contains(pixel.toPoint())) return {};
  const double x = plot()->xAxis->pixelToCoord(pixel.x());
  const double y = plot()->yAxis->pixelToCoord(pixel.y());
  if (!std::isfinite(x) || !std::isfinite(y)) return {};
  const auto j = static_cast<int64_t>(std::floor(x + 0.5)), i = static_cast<int64_t>(std::floor(y + 0.5));
  if (i < 0 || j < 0 || i >= matrix_.rows || j >= matrix_.cols) return {};
  QString text = tr("i %1, j %2: %3").arg(i).arg(j).arg(plot_style::number(matrix_.at(i, j)));
  if (factor_ > 1) {
    const int64_t ci = i / factor_, cj = j / factor_;
    const int64_t r0 = ci * factor_, c0 = cj * factor_;
    text += tr("\ncell of rows %1–%2, columns %3–%4: max %5")
                .arg(r0)
                .arg(std::min(r0 + factor_, matrix_.rows) - 1)
                .arg(c0)
                .arg(std::min(c0 + factor_, matrix_.cols) - 1)
                .arg(plot_style::number(cell_value(static_cast<int>(cj), static_cast<int>(ci))));
  }
  return text;
}

}  // namespace lowbit
