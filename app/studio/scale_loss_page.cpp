#include "app/studio/scale_loss_page.h"

#include <QComboBox>
#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <algorithm>

#include "app/studio/job_support.h"
#include "widgets/plots/curve_plot.h"
#include "widgets/plots/landscape_plot.h"

namespace lowbit {

ScaleLossPage::ScaleLossPage(QWidget* parent) : QWidget(parent) {
  bits_label_ = new QLabel(this);
  bits_combo_ = new QComboBox(this);
  bits_combo_->setObjectName(QStringLiteral("scaleBits"));
  group_label_ = new QLabel(this);
  group_combo_ = new QComboBox(this);
  group_combo_->setObjectName(QStringLiteral("awqGroup"));
  group_combo_->setMinimumContentsLength(16);
  connect(bits_combo_, &QComboBox::currentIndexChanged, this, [this] { show_scales(); });
  connect(group_combo_, &QComboBox::currentIndexChanged, this, [this] { show_awq(); });
  auto* controls = new QHBoxLayout;
  controls->addWidget(bits_label_);
  controls->addWidget(bits_combo_);
  controls->addSpacing(24);
  controls->addWidget(group_label_);
  controls->addWidget(group_combo_);
  controls->addStretch(1);

  landscape_ = new LandscapePlot(this);
  landscape_->setObjectName(QStringLiteral("scaleLandscape"));
  landscape_->set_scale_mode(ColourScale::Linear);
  scale_hessian_ = new LandscapePlot(this);
  scale_hessian_->setObjectName(QStringLiteral("scaleHessian"));
  scale_hessian_->set_scale_mode(ColourScale::Diverging);
  scale_hessian_->set_show_minimum(false);
  alpha_ = new CurvePlot(this);
  alpha_->setObjectName(QStringLiteral("awqAlpha"));
  clip_ = new CurvePlot(this);
  clip_->setObjectName(QStringLiteral("awqClip"));
  cbq_ = new CurvePlot(this);
  cbq_->setObjectName(QStringLiteral("cbqLoss"));
  cbq_->set_log_y(true);
  auto* grid = new QGridLayout;
  grid->addWidget(landscape_, 0, 0);
  grid->addWidget(scale_hessian_, 0, 1);
  grid->addWidget(alpha_, 1, 0);
  grid->addWidget(clip_, 1, 1);
  grid->addWidget(cbq_, 0, 2, 2, 1);  // the whole right column: one curve per window

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 18, 24, 18);
  layout->addLayout(controls);
  layout->addLayout(grid, 1);
  retranslate();
  set_views(nullptr);
}

void ScaleLossPage::retranslate() {
  bits_label_->setText(tr("Bits:"));
  group_label_->setText(tr("AWQ group:"));
  for (int i = 0; i < bits_combo_->count() && i < static_cast<int>(bits_.size()); ++i)
    bits_combo_->setItemText(i, tr("%1 bits").arg(bits_[static_cast<size_t>(i)]));
  for (int i = 0; i < group_combo_->count() && i < group_count(); ++i)
    group_combo_->setItemText(i, tr("block %1 · %2").arg(groups_[static_cast<size_t>(i)].first)
                                     .arg(qstr(groups_[static_cast<size_t>(i)].second)));
  alpha_->set_axis_labels(tr("α (scales = mean |x|^α)"), tr("output error"));
  clip_->set_axis_labels(tr("clip ratio"), tr("output error"));
  landscape_->set_value_label(tr("loss"));
  scale_hessian_->set_value_label(tr("∂²L/∂cᵢ∂cⱼ"));
  cbq_->set_axis_labels(tr("Adam step"), tr("CBQ loss"));
  show_scales();
  show_awq();
  show_cbq();
}

void ScaleLossPage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void ScaleLossPage::set_views(std::shared_ptr<const ViewsFile> views) {
  views_ = std::move(views);
  bits_.clear();
  groups_.clear();
  if (views_) {
    const ViewsData& d = views_->data();
    for (const auto& s : d.scale_hessian) bits_.push_back(s.bits);
    for (const auto& l : d.landscape) bits_.push_back(l.bits);
    for (const auto& a : d.awq) bits_.push_back(a.bits);
    std::sort(bits_.begin(), bits_.end());
    bits_.erase(std::unique(bits_.begin(), bits_.end()), bits_.end());
    if (!d.awq.empty())
      for (const AwqGroupCurve& g : d.awq.front().groups) groups_.emplace_back(g.block, g.group);
  }
  {
    const QSignalBlocker b1(bits_combo_), b2(group_combo_);
    bits_combo_->clear();
    for (size_t i = 0; i < bits_.size(); ++i) bits_combo_->addItem(QString());
    group_combo_->clear();
    for (size_t i = 0; i < groups_.size(); ++i) group_combo_->addItem(QString());
    bits_combo_->setEnabled(!bits_.empty());
    group_combo_->setEnabled(!groups_.empty());
  }
  retranslate();
}

bool ScaleLossPage::select_bits(int bits) {
  const auto it = std::find(bits_.begin(), bits_.end(), bits);
  if (it == bits_.end()) return false;
  bits_combo_->setCurrentIndex(static_cast<int>(it - bits_.begin()));
  return true;
}

bool ScaleLossPage::select_group(int64_t block, const std::string& group) {
  const auto it = std::find(groups_.begin(), groups_.end(), std::pair{block, group});
  if (it == groups_.end()) return false;
  group_combo_->setCurrentIndex(static_cast<int>(it - groups_.begin()));
  return true;
}

void ScaleLossPage::show_scales() {
  const int index = bits_combo_->currentIndex();
  const int bits = index >= 0 && index < static_cast<int>(bits_.size()) ? bits_[static_cast<size_t>(index)] : 0;
  const LandscapeResult* land = nullptr;
  const ScaleHessianResult* hess = nullptr;
  if (views_) {
    for (const auto& l : views_->data().landscape)
      if (l.bits == bits) land = &l;
    for (const auto& s : views_->data().scale_hessian)
      if (s.bits == bits) hess = &s;
  }
  if (land && !land->values.empty()) {
    // x: c_a (rows of `loss`), y: c_b (its columns).
    GridData g;
    g.x = g.y = land->values;
    const size_t n = land->values.size();
    g.z.resize(n * n);
    for (size_t i = 0; i < n && i < land->loss.size(); ++i)  // a foreign views file may hold fewer rows
      for (size_t j = 0; j < n && j < land->loss[i].size(); ++j) g.z[j * n + i] = land->loss[i][j];
    g.x_label = tr("c (block %1)").arg(land->block_a).toStdString();
    g.y_label = tr("c (block %1)").arg(land->block_b).toStdString();
    g.z_label = tr("loss").toStdString();
    g.title = tr("Calibration loss over two blocks' scales, %1").arg(qstr(land->format)).toStdString();
    landscape_->set_grid(std::move(g));
  } else {
    landscape_->show_placeholder(tr("Run Analyze with the landscape view"));
  }
  if (hess && !hess->matrix.empty()) {
    GridData g;
    const size_t n = hess->matrix.size();
    for (size_t k = 0; k < n; ++k) g.x.push_back(static_cast<double>(k));
    g.y = g.x;
    g.z.resize(n * n);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n && j < hess->matrix[i].size(); ++j) g.z[i * n + j] = hess->matrix[i][j];
    g.x_label = g.y_label = tr("block").toStdString();
    g.z_label = tr("∂²L/∂cᵢ∂cⱼ").toStdString();
    g.title = tr("Hessian of the loss over per-block scales, %1").arg(qstr(hess->format)).toStdString();
    scale_hessian_->set_grid(std::move(g));
  } else {
    scale_hessian_->show_placeholder(tr("Run Analyze with the scale Hessian view"));
  }
}

void ScaleLossPage::show_awq() {
  const int index = group_combo_->currentIndex();
  if (!views_ || index < 0 || index >= group_count()) {
    alpha_->show_placeholder(tr("Run Analyze with the AWQ view"));
    clip_->show_placeholder(tr("Run Analyze with the AWQ view"));
    return;
  }
  const auto& [block, group] = groups_[static_cast<size_t>(index)];
  alpha_->show_placeholder(QString());
  clip_->show_placeholder(QString());
  for (const AwqCurvesResult& a : views_->data().awq)
    for (const AwqGroupCurve& g : a.groups) {
      if (g.block != block || g.group != group) continue;
      const std::string name = tr("%1 bits").arg(a.bits).toStdString();
      alpha_->set_series({name, g.alphas, g.alpha_error});
      clip_->set_series({name, g.clip_ratios, g.clip_error});
    }
}

void ScaleLossPage::set_cbq_report(const CbqReport& report) {
  cbq_report_ = report;
  show_cbq();
}

void ScaleLossPage::show_cbq() {
  cbq_->show_placeholder(cbq_report_.windows.empty() ? tr("Export a CBQ layout to see its loss per window") : QString());
  for (const CbqWindowReport& w : cbq_report_.windows) {
    SeriesData s;
    s.name = (w.blocks > 1 ? tr("blocks %1–%2").arg(w.first_block).arg(w.first_block + w.blocks - 1)
                           : tr("block %1").arg(w.first_block))
                 .toStdString();
    s.y.assign(w.loss.begin(), w.loss.end());
    cbq_->set_series(s);
  }
}

}  // namespace lowbit
