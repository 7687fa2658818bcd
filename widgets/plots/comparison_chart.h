// ComparisonChart: file size against measured perplexity for the layouts of one model — the Compare
// page's chart and the PDF report's. Uniform layouts (one format everywhere) are one series joined by
// a line in order of size, the plain trade-off; planned layouts are a second series of diamonds,
// which should lie below that line. Every point carries its layout's name; the unquantized model's
// perplexity is a dashed line. Sizes are shown in KiB, MiB or GiB, whichever suits the largest file.
#pragma once

#include <vector>

#include "widgets/plots/comparison_data.h"
#include "widgets/plots/plot_widget.h"

class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;

namespace lowbit {

class ComparisonChart : public PlotWidget {
  Q_OBJECT

 public:
  explicit ComparisonChart(QWidget* parent = nullptr);

  // Layouts with a size or perplexity that is not finite and positive are left out.
  void set_comparison(ComparisonData data);
  const ComparisonData& comparison() const { return data_; }
  void show_placeholder(const QString& text);

  bool log_y() const { return log_y_; }
  void set_log_y(bool on);

  int uniform_count() const;
  int plan_count() const;
  QStringList point_labels() const;  // the names drawn beside the points
  QString size_unit() const { return unit_; }  // "KiB", "MiB", "GiB"
  double unit_bytes() const { return unit_bytes_; }
  QCPGraph* uniform_graph() const { return uniform_; }
  QCPGraph* plan_graph() const { return plans_; }
  bool baseline_visible() const;

  // "Q4_K — 3.93 MiB, 4.50 bpw, perplexity 12.34" for the point nearest `pixel`.
  QString hover_text(QPointF pixel) const override;

 protected:
  void fit_view() override;
  void retranslate() override;

 private:
  void rebuild();
  const LayoutPoint* layout_at(int graph, double key, double value) const;

  ComparisonData data_;
  std::vector<LayoutPoint> drawn_;
  QCPGraph* uniform_ = nullptr;
  QCPGraph* plans_ = nullptr;
  QCPItemStraightLine* baseline_ = nullptr;
  QCPItemText* baseline_label_ = nullptr;
  std::vector<QCPItemText*> labels_;
  QString unit_ = QStringLiteral("MiB");
  double unit_bytes_ = 1024.0 * 1024.0;
  bool log_y_ = false;
  bool default_placeholder_ = false;  // the placeholder on screen is the constructor's
};

}  // namespace lowbit
