#include "app/studio/start_page.h"

#include <QEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>

#include "app/studio/drop_zone.h"
#include "app/studio/recent_files.h"

namespace lowbit {

namespace {

enum { kPathRole = Qt::UserRole + 1 };

QString display_name(const QString& path) {
  const QFileInfo info(path);
  return info.fileName().isEmpty() ? path : info.fileName();
}

}  // namespace

StartPage::StartPage(RecentFiles* recent, QWidget* parent) : QWidget(parent), recent_(recent) {
  title_ = new QLabel(this);
  QFont title_font = title_->font();
  title_font.setPointSizeF(title_font.pointSizeF() * 2.0);
  title_font.setBold(true);
  title_->setFont(title_font);
  subtitle_ = new QLabel(this);
  subtitle_->setWordWrap(true);
  subtitle_->setForegroundRole(QPalette::PlaceholderText);

  drop_zone_ = new DropZone(this);

  open_file_ = new QPushButton(this);
  open_folder_ = new QPushButton(this);
  open_demo_ = new QPushButton(this);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(open_file_);
  buttons->addWidget(open_folder_);
  buttons->addStretch(1);
  buttons->addWidget(open_demo_);

  recent_title_ = new QLabel(this);
  QFont section_font = recent_title_->font();
  section_font.setBold(true);
  recent_title_->setFont(section_font);
  clear_recent_ = new QPushButton(this);
  clear_recent_->setFlat(true);
  auto* recent_header = new QHBoxLayout;
  recent_header->addWidget(recent_title_);
  recent_header->addStretch(1);
  recent_header->addWidget(clear_recent_);

  recent_list_ = new QTreeWidget(this);
  recent_list_->setColumnCount(2);
  recent_list_->setRootIsDecorated(false);
  recent_list_->setUniformRowHeights(true);
  recent_list_->setAlternatingRowColors(true);
  recent_list_->header()->setStretchLastSection(true);
  recent_list_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  recent_empty_ = new QLabel(this);
  recent_empty_->setForegroundRole(QPalette::PlaceholderText);

  // A centred column of readable width, however wide the window.
  auto* column = new QVBoxLayout;
  column->setSpacing(12);
  column->addWidget(title_);
  column->addWidget(subtitle_);
  column->addSpacing(8);
  column->addWidget(drop_zone_, 1);
  column->addLayout(buttons);
  column->addSpacing(12);
  column->addLayout(recent_header);
  column->addWidget(recent_list_);
  column->addWidget(recent_empty_);
  column->addStretch(1);
  auto* column_widget = new QWidget(this);
  column_widget->setLayout(column);
  column_widget->setMaximumWidth(820);
  auto* outer = new QHBoxLayout(this);
  outer->setContentsMargins(32, 32, 32, 24);
  outer->addStretch(1);
  outer->addWidget(column_widget, 12);
  outer->addStretch(1);

  connect(drop_zone_, &DropZone::path_dropped, this, &StartPage::open_path_requested);
  connect(drop_zone_, &DropZone::clicked, this, &StartPage::open_file_requested);
  connect(open_file_, &QPushButton::clicked, this, &StartPage::open_file_requested);
  connect(open_folder_, &QPushButton::clicked, this, &StartPage::open_folder_requested);
  connect(open_demo_, &QPushButton::clicked, this, &StartPage::open_demo_requested);
  connect(clear_recent_, &QPushButton::clicked, recent_, &RecentFiles::clear);
  connect(recent_list_, &QTreeWidget::itemActivated, this, &StartPage::activate_recent);
  connect(recent_, &RecentFiles::changed, this, &StartPage::refresh_recent);
  retranslate();
}

void StartPage::retranslate() {
  title_->setText(tr("Lowbit Studio"));
  subtitle_->setText(tr("Compress a language model: open a checkpoint to see what it holds, then choose "
                        "a bit budget, analyze and quantize it."));
  open_file_->setText(tr("Open File…"));
  open_folder_->setText(tr("Open Folder…"));
  open_demo_->setText(tr("Open Demo Model"));
  open_demo_->setToolTip(tr("A small model trained for this studio, to try every page in seconds"));
  recent_title_->setText(tr("Recent models"));
  clear_recent_->setText(tr("Clear"));
  recent_list_->setHeaderLabels({tr("Name"), tr("Location")});
  recent_empty_->setText(tr("Models you open appear here."));
  refresh_recent();  // the tooltips of missing files
}

void StartPage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void StartPage::set_busy(bool busy) {
  // The drop zone and the recent list stay live: a newer request supersedes the running open.
  for (QPushButton* b : {open_file_, open_folder_, open_demo_}) b->setEnabled(!busy);
}

void StartPage::refresh_recent() {
  recent_list_->clear();
  for (const QString& path : recent_->paths()) {
    auto* item = new QTreeWidgetItem(recent_list_, {display_name(path), QFileInfo(path).absolutePath()});
    item->setData(0, kPathRole, path);
    item->setToolTip(0, path);
    item->setToolTip(1, path);
    if (!QFileInfo::exists(path)) {
      item->setDisabled(true);
      item->setToolTip(0, tr("%1 no longer exists").arg(path));
    }
  }
  const bool empty = recent_->paths().isEmpty();
  // As tall as its rows (the page's stretch takes the rest), so one entry is not a large white box.
  if (!empty) {
    const int rows = static_cast<int>(recent_->paths().size());
    recent_list_->setFixedHeight(recent_list_->header()->sizeHint().height() + rows * std::max(recent_list_->sizeHintForRow(0), fontMetrics().height() + 6) +
                                 2 * recent_list_->frameWidth() + 2);
  }
  recent_list_->setVisible(!empty);
  recent_empty_->setVisible(empty);
  clear_recent_->setEnabled(!empty);
}

void StartPage::activate_recent(QTreeWidgetItem* item) {
  if (item && !item->isDisabled()) emit open_path_requested(item->data(0, kPathRole).toString());
}

}  // namespace lowbit
