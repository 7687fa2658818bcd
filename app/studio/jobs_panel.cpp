#include "app/studio/jobs_panel.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "app/studio/job_center.h"

namespace lowbit {

namespace {

enum JobColumn { kTitle, kProgress, kStage, kEta, kCancel, kJobColumns };
constexpr int kIdRole = Qt::UserRole + 1;

}  // namespace

JobsPanel::JobsPanel(JobCenter* center, QWidget* parent) : QWidget(parent), center_(center) {
  tree_ = new QTreeWidget(this);
  tree_->setObjectName(QStringLiteral("jobsTree"));
  tree_->setColumnCount(kJobColumns);
  tree_->setRootIsDecorated(false);
  tree_->header()->setSectionResizeMode(kStage, QHeaderView::Stretch);
  tree_->header()->setStretchLastSection(false);
  tree_->setColumnWidth(kTitle, 200);
  tree_->setColumnWidth(kProgress, 160);
  clear_ = new QPushButton(this);
  connect(clear_, &QPushButton::clicked, center_, &JobCenter::clear_finished);

  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  buttons->addWidget(clear_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(tree_, 1);
  layout->addLayout(buttons);

  connect(center_, &JobCenter::job_added, this, &JobsPanel::rebuild);
  connect(center_, &JobCenter::job_finished, this, &JobsPanel::rebuild);
  connect(center_, &JobCenter::job_changed, this, [this](int id) {
    if (id == 0) rebuild();
    else refresh(id);
  });
  tick_ = new QTimer(this);
  tick_->setInterval(250);
  connect(tick_, &QTimer::timeout, this, [this] {
    for (const JobCenter::Job& j : center_->jobs())
      if (j.state == JobCenter::State::Running) refresh(j.id);
  });
  tick_->start();
  retranslate();
}

void JobsPanel::retranslate() {
  tree_->setHeaderLabels({tr("Job"), tr("Progress"), tr("Stage"), tr("Time"), QString()});
  clear_->setText(tr("Clear finished"));
  rebuild();  // the Cancel buttons, states and times
}

void JobsPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

QPushButton* JobsPanel::cancel_button(int id) const {
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = tree_->topLevelItem(i);
    if (item->data(kTitle, kIdRole).toInt() == id) return qobject_cast<QPushButton*>(tree_->itemWidget(item, kCancel));
  }
  return nullptr;
}

void JobsPanel::rebuild() {
  tree_->clear();
  // Newest first: the job just started is the one the user looks for.
  const auto& jobs = center_->jobs();
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {
    auto* item = new QTreeWidgetItem(tree_);
    item->setText(kTitle, it->title);
    item->setData(kTitle, kIdRole, it->id);
    auto* bar = new QProgressBar(tree_);
    bar->setRange(0, JobCenter::kSteps);
    bar->setMaximumHeight(16);
    tree_->setItemWidget(item, kProgress, bar);
    if (it->state == JobCenter::State::Running) {
      auto* cancel = new QPushButton(tr("Cancel"), tree_);
      const int id = it->id;
      connect(cancel, &QPushButton::clicked, center_, [this, id] { center_->cancel(id); });
      tree_->setItemWidget(item, kCancel, cancel);
    }
    refresh(it->id);
  }
  clear_->setEnabled(static_cast<int>(jobs.size()) > center_->running_count());
}

void JobsPanel::refresh(int id) {
  const JobCenter::Job* j = center_->job(id);
  if (!j) return;
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = tree_->topLevelItem(i);
    if (item->data(kTitle, kIdRole).toInt() != id) continue;
    if (auto* bar = qobject_cast<QProgressBar*>(tree_->itemWidget(item, kProgress)))
      bar->setValue(static_cast<int>(j->fraction * JobCenter::kSteps + 0.5));
    const bool running = j->state == JobCenter::State::Running;
    item->setText(kStage, running ? j->stage : j->state == JobCenter::State::Failed ? j->message : JobCenter::state_name(j->state));
    item->setToolTip(kStage, item->text(kStage));
    item->setText(kEta, running ? JobCenter::eta_text(j->eta_s())
                                : tr("took %1 s").arg(QLocale().toString(j->seconds, 'f', 1)));
    if (auto* cancel = qobject_cast<QPushButton*>(tree_->itemWidget(item, kCancel))) {
      cancel->setEnabled(running && !(j->cancel && j->cancel->cancelled()));
      if (!running) tree_->removeItemWidget(item, kCancel);
    }
    return;
  }
}

IssuesPanel::IssuesPanel(JobCenter* center, QWidget* parent) : QWidget(parent), center_(center) {
  tree_ = new QTreeWidget(this);
  tree_->setObjectName(QStringLiteral("issuesTree"));
  tree_->setColumnCount(3);
  tree_->setRootIsDecorated(false);
  tree_->setWordWrap(true);
  tree_->header()->setStretchLastSection(true);
  clear_ = new QPushButton(this);
  connect(clear_, &QPushButton::clicked, center_, &JobCenter::clear_issues);
  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  buttons->addWidget(clear_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(tree_, 1);
  layout->addLayout(buttons);
  connect(center_, &JobCenter::issues_changed, this, &IssuesPanel::rebuild);
  retranslate();
}

void IssuesPanel::retranslate() {
  tree_->setHeaderLabels({tr("Time"), tr("Job"), tr("Issue")});
  clear_->setText(tr("Clear"));
  rebuild();
}

void IssuesPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void IssuesPanel::rebuild() {
  tree_->clear();
  const QLocale locale;
  for (const JobCenter::Issue& issue : center_->issues()) {
    auto* item = new QTreeWidgetItem(tree_);
    item->setText(0, locale.toString(issue.when.time(), QLocale::ShortFormat));
    item->setText(1, issue.source);
    item->setText(2, issue.text);
    item->setToolTip(2, issue.text);
  }
  tree_->resizeColumnToContents(0);
  tree_->resizeColumnToContents(1);
}

}  // namespace lowbit
