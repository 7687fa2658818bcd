// ModelPage: what an opened model is — architecture, parameter count, size on disk, dtypes, format
// and tokenizer — above its tensor table (sortable, filtered by name or dtype) and the weight
// histogram of the selected 2-D tensor. The histogram is decoded and binned on the global thread
// pool; selecting another tensor cancels the running job, and the page cancels and waits for every
// job it started before it dies, so no worker touches a checkpoint the page has let go.
#pragma once

#include <QFuture>
#include <QFutureWatcher>
#include <QList>
#include <QWidget>
#include <memory>

#include "app/studio/model_opener.h"
#include "widgets/plots/histogram_data.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace lowbit {

class HistogramPlot;
class TensorFilterProxy;
class TensorTableModel;

// One histogram job's answer; `generation` tells a stale answer from the current one.
struct HistogramResult {
  quint64 generation = 0;
  QString tensor;
  HistogramData histogram;
  QString error;
  bool cancelled = false;
};

class ModelPage : public QWidget {
  Q_OBJECT

 public:
  explicit ModelPage(QWidget* parent = nullptr);
  ~ModelPage() override;

  void set_model(std::shared_ptr<const OpenedModel> model);
  const std::shared_ptr<const OpenedModel>& model() const { return model_; }

  TensorTableModel* tensor_model() const { return tensor_model_; }
  TensorFilterProxy* tensor_proxy() const { return proxy_; }
  QTableView* tensor_table() const { return table_; }
  QLineEdit* filter_edit() const { return filter_; }
  HistogramPlot* histogram_plot() const { return plot_; }

  // Selects the tensor `name` in the table (clearing a filter that hides it); false if absent.
  bool select_tensor(const QString& name);
  // The first 2-D tensor of the first block in table order (a representative weight), else any.
  QString representative_tensor() const;
  bool histogram_busy() const { return histogram_watcher_.isRunning(); }

 signals:
  // The histogram of `tensor` is on screen, or its placeholder says why there is none.
  void histogram_shown(const QString& tensor);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void build_summary();
  void on_current_changed(const QModelIndex& current);
  void start_histogram(const TensorInfo& tensor);
  void on_histogram_finished();
  void cancel_histograms();
  void update_count_label();
  void fit_table_width();

  std::shared_ptr<const OpenedModel> model_;
  QLabel* name_ = nullptr;
  QLabel* path_ = nullptr;
  QLabel* architecture_ = nullptr;
  QLabel* architecture_detail_ = nullptr;
  QLabel* parameters_ = nullptr;
  QLabel* size_ = nullptr;
  QLabel* dtypes_ = nullptr;
  QLabel* format_ = nullptr;
  QLabel* tokenizer_ = nullptr;
  QLabel* captions_[6] = {};  // architecture, parameters, size, format, data types, tokenizer
  QLineEdit* filter_ = nullptr;
  QLabel* count_ = nullptr;
  QTableView* table_ = nullptr;
  TensorTableModel* tensor_model_ = nullptr;
  TensorFilterProxy* proxy_ = nullptr;
  QLabel* histogram_title_ = nullptr;
  HistogramPlot* plot_ = nullptr;
  QLabel* histogram_stats_ = nullptr;
  QCheckBox* log_counts_ = nullptr;

  QFutureWatcher<HistogramResult> histogram_watcher_;
  QList<QFuture<HistogramResult>> histogram_jobs_;  // every job not yet known to be finished
  std::shared_ptr<CancelToken> histogram_cancel_;
  quint64 histogram_generation_ = 0;
};

}  // namespace lowbit
