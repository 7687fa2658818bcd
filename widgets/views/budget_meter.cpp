#include "widgets/views/budget_meter.h"

#include <QEvent>
#include <QGridLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <algorithm>
#include <cmath>

#include "widgets/views/tensor_table_model.h"

namespace lowbit {

namespace {

constexpr int kBarSteps = 1000;

QLabel* caption(QWidget* parent) {
  auto* l = new QLabel(parent);
  l->setStyleSheet(QStringLiteral("color: palette(mid);"));
  return l;
}

QLabel* figure(QWidget* parent) {
  auto* l = new QLabel(parent);
  QFont f = l->font();
  f.setBold(true);
  f.setPointSizeF(f.pointSizeF() * 1.15);
  l->setFont(f);
  l->setTextInteractionFlags(Qt::TextSelectableByMouse);
  return l;
}

}  // namespace

BudgetMeter::BudgetMeter(QWidget* parent) : QWidget(parent) {
  bar_ = new QProgressBar(this);
  bar_->setObjectName(QStringLiteral("budgetBar"));
  bar_->setRange(0, kBarSteps);
  bar_->setTextVisible(false);
  bar_->setMaximumHeight(12);
  bytes_label_ = figure(this);
  bpw_label_ = figure(this);
  ppl_label_ = figure(this);
  bytes_caption_ = caption(this);
  bpw_caption_ = caption(this);
  ppl_caption_ = caption(this);

  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->addWidget(bytes_caption_, 0, 0);
  grid->addWidget(bpw_caption_, 0, 1);
  grid->addWidget(ppl_caption_, 0, 2);
  grid->addWidget(bytes_label_, 1, 0);
  grid->addWidget(bpw_label_, 1, 1);
  grid->addWidget(ppl_label_, 1, 2);
  grid->addWidget(bar_, 2, 0, 1, 3);
  grid->setColumnStretch(0, 2);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(2, 1);
  retranslate();
}

void BudgetMeter::retranslate() {
  bytes_caption_->setText(tr("File size / budget"));
  bpw_caption_->setText(tr("Bits per weight"));
  ppl_caption_->setText(tr("Predicted perplexity"));
  bpw_label_->setToolTip(tr("Bits per weight of the whole file: 8 × bytes / all parameters"));
  ppl_label_->setToolTip(tr("The unquantized perplexity on the calibration windows × exp(Σ predicted ΔNLL)"));
  refresh();
}

void BudgetMeter::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void BudgetMeter::set_budget(quint64 budget_bytes, qint64 parameters, double baseline_ppl) {
  budget_ = budget_bytes;
  parameters_ = parameters;
  baseline_ppl_ = baseline_ppl;
  refresh();
}

void BudgetMeter::set_totals(quint64 file_bytes, double dnll_sum) {
  bytes_ = file_bytes;
  dnll_ = dnll_sum;
  refresh();
}

void BudgetMeter::clear() {
  budget_ = bytes_ = 0;
  parameters_ = 0;
  baseline_ppl_ = dnll_ = 0;
  refresh();
}

double BudgetMeter::bits_per_weight() const {
  return parameters_ > 0 ? 8.0 * static_cast<double>(bytes_) / static_cast<double>(parameters_) : 0.0;
}

double BudgetMeter::predicted_ppl() const { return baseline_ppl_ > 0 ? baseline_ppl_ * std::exp(dnll_) : 0.0; }

QString BudgetMeter::bytes_text() const { return bytes_label_->text(); }
QString BudgetMeter::ppl_text() const { return ppl_label_->text(); }

void BudgetMeter::refresh() {
  const QLocale locale;
  if (bytes_ == 0) {
    bytes_label_->setText(QStringLiteral("—"));
    bpw_label_->setText(QStringLiteral("—"));
    ppl_label_->setText(QStringLiteral("—"));
    bar_->setValue(0);
    bar_->setStyleSheet({});
    return;
  }
  bytes_label_->setText(budget_ > 0 ? tr("%1 of %2").arg(format_bytes(bytes_), format_bytes(budget_)) : format_bytes(bytes_));
  bytes_label_->setToolTip(budget_ > 0 ? tr("%1 of %2 bytes").arg(locale.toString(bytes_), locale.toString(budget_))
                                       : tr("%1 bytes").arg(locale.toString(bytes_)));
  bpw_label_->setText(parameters_ > 0 ? locale.toString(bits_per_weight(), 'f', 3) : QStringLiteral("—"));
  ppl_label_->setText(baseline_ppl_ > 0 ? tr("%1 (unquantized %2)").arg(locale.toString(predicted_ppl(), 'f', 3),
                                                                         locale.toString(baseline_ppl_, 'f', 3))
                                        : QStringLiteral("—"));
  const double fill = budget_ > 0 ? static_cast<double>(bytes_) / static_cast<double>(budget_) : 0.0;
  bar_->setValue(static_cast<int>(std::lround(std::clamp(fill, 0.0, 1.0) * kBarSteps)));
  const QString colour = over_budget() ? QStringLiteral("#d64541") : QStringLiteral("#3b7dd8");
  bar_->setStyleSheet(QStringLiteral("QProgressBar#budgetBar { border: 1px solid palette(mid); border-radius: 3px; }"
                                     "QProgressBar#budgetBar::chunk { background: %1; }").arg(colour));
  bytes_label_->setStyleSheet(over_budget() ? QStringLiteral("color: #d64541;") : QString());
  if (over_budget())
    bytes_label_->setText(bytes_label_->text() + tr(" — %1 over").arg(format_bytes(bytes_ - budget_)));
}

}  // namespace lowbit
