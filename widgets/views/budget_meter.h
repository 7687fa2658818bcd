// BudgetMeter: how a layout stands against its budget — a bar of the whole file's bytes against the
// budget (red once over it), the file's bits per weight over all parameters, and the predicted
// perplexity, baseline × exp(ΣΔNLL) under the planner's additive model. The page sets the budget
// once per plan and the totals after every edit; updating is a few label texts, so it keeps up with
// every edit of the layer table.
#pragma once

#include <QWidget>

class QLabel;
class QProgressBar;

namespace lowbit {

class BudgetMeter : public QWidget {
  Q_OBJECT

 public:
  explicit BudgetMeter(QWidget* parent = nullptr);

  // `parameters`: all of the model's (the denominator of bits per weight); `baseline_ppl`: the
  // unquantized model's perplexity on the calibration windows (0: not known, no prediction shown).
  void set_budget(quint64 budget_bytes, qint64 parameters, double baseline_ppl);
  // The whole file's bytes and the sum of the chosen formats' ΔNLL.
  void set_totals(quint64 file_bytes, double dnll_sum);
  void clear();

  quint64 budget_bytes() const { return budget_; }
  quint64 file_bytes() const { return bytes_; }
  double bits_per_weight() const;
  double predicted_ppl() const;
  bool over_budget() const { return budget_ > 0 && bytes_ > budget_; }
  QProgressBar* bar() const { return bar_; }
  QString bytes_text() const;
  QString ppl_text() const;

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void refresh();
  void retranslate();

  QProgressBar* bar_ = nullptr;
  QLabel* bytes_label_ = nullptr;
  QLabel* bpw_label_ = nullptr;
  QLabel* ppl_label_ = nullptr;
  QLabel* bytes_caption_ = nullptr;
  QLabel* bpw_caption_ = nullptr;
  QLabel* ppl_caption_ = nullptr;
  quint64 budget_ = 0, bytes_ = 0;
  qint64 parameters_ = 0;
  double baseline_ppl_ = 0, dnll_ = 0;
};

}  // namespace lowbit
