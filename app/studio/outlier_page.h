// OutlierPage: the outlier view (DESIGN.md "The studio", METHODS.md §4 CFP and §7) — every weight
// matrix of the analysis in a sortable table (kurtosis, max |w|, standard deviation) whose selected
// row's histogram is drawn with log counts; kurtosis per block, one curve per part (q, k, …, down);
// and for the chosen layer input the largest |x| of each activation channel with CBQ's coarse
// (Q3 + λ₁·IQR) and fine fences, the outlier channels in red and the largest listed.
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

class ChannelMaxPlot;
class CurvePlot;
class HistogramPlot;

class OutlierPage : public QWidget {
  Q_OBJECT

 public:
  explicit OutlierPage(QWidget* parent = nullptr);

  void set_views(std::shared_ptr<const ViewsFile> views);
  QTableWidget* weight_table() const { return table_; }
  bool select_weight(const QString& tensor);  // the first histogram of that tensor
  int input_count() const { return static_cast<int>(inputs_.size()); }
  bool select_input(int64_t block, LinearInput input);

  HistogramPlot* histogram() const { return histogram_; }
  CurvePlot* kurtosis() const { return kurtosis_; }
  ChannelMaxPlot* channels() const { return channels_; }
  QString top_channels_text() const;
  const QString& last_error() const { return last_error_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void fill_table();
  void show_weight();
  void show_input();

  std::shared_ptr<const ViewsFile> views_;
  std::vector<std::pair<int64_t, LinearInput>> inputs_;
  QLabel* input_label_ = nullptr;
  QComboBox* input_combo_ = nullptr;
  QTableWidget* table_ = nullptr;
  HistogramPlot* histogram_ = nullptr;
  CurvePlot* kurtosis_ = nullptr;
  ChannelMaxPlot* channels_ = nullptr;
  QLabel* top_ = nullptr;
  QString last_error_;
};

}  // namespace lowbit
