// HessianPage: the Hessian view (DESIGN.md "The studio", METHODS.md §7) — for one linear layer of the
// analysis (block × input), |H| as a heatmap at full precision and at each b of "at b bits" (H
// collected from inputs of the model whose earlier blocks are quantized to b bits) side by side on one
// logarithmic colour scale, their spectra (eigenvalues or the diagonal) overlaid, and a table of the
// summary figures (trace, off-diagonal mass, mean |correlation|, eigenvalue range, effective rank).
// The matrices are read from the analysis' memory-mapped views.safetensors when a layer is chosen.
#pragma once

#include <QWidget>
#include <memory>
#include <utility>
#include <vector>

#include "core/analysis/views_file.h"

class QComboBox;
class QLabel;
class QTableWidget;

namespace lowbit {

class HeatmapPlot;
class SpectrumPlot;

class HessianPage : public QWidget {
  Q_OBJECT

 public:
  explicit HessianPage(QWidget* parent = nullptr);

  // Shows the views' first layer; null or an analysis without Hessians shows the placeholders.
  void set_views(std::shared_ptr<const ViewsFile> views);
  int layer_count() const { return static_cast<int>(layers_.size()); }
  bool select_layer(int64_t block, LinearInput input);
  int current_layer() const;
  // The levels shown ("fp", "b2", …) and their plots.
  const std::vector<std::string>& levels() const { return levels_; }
  HeatmapPlot* heatmap(int level) const { return heatmaps_.at(static_cast<size_t>(level)); }
  SpectrumPlot* spectrum() const { return spectrum_; }
  QTableWidget* summary_table() const { return table_; }
  // True: eigenvalues (the default); false: the diagonal.
  void set_show_eigenvalues(bool on);
  const QString& last_error() const { return last_error_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void show_layer();
  void show_spectra();  // the spectrum plot alone (the eigenvalue/diagonal toggle)

  QString level_title(const std::string& level) const;

  std::shared_ptr<const ViewsFile> views_;
  std::vector<std::pair<int64_t, LinearInput>> layers_;
  std::vector<std::string> levels_;
  QLabel* layer_label_ = nullptr;
  QLabel* spectrum_label_ = nullptr;
  QComboBox* layer_ = nullptr;
  QComboBox* spectrum_kind_ = nullptr;
  QWidget* heatmap_row_ = nullptr;
  std::vector<HeatmapPlot*> heatmaps_;
  SpectrumPlot* spectrum_ = nullptr;
  QTableWidget* table_ = nullptr;
  QString last_error_;
};

}  // namespace lowbit
