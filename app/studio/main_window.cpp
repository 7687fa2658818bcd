#include "app/studio/main_window.h"

#include <QAction>
#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>

#include "app/studio/drop_zone.h"
#include "app/studio/model_page.h"
#include "app/studio/plan_page.h"
#include "app/studio/recent_files.h"
#include "app/studio/start_page.h"
#include "app/studio/studio_paths.h"
#include "widgets/views/tensor_table_model.h"

namespace lowbit {

namespace {

const char* const kLastDirKey = "lastOpenDirectory";

QString file_label(const QString& path) {
  const QFileInfo info(path);
  return info.fileName().isEmpty() ? QDir::toNativeSeparators(path) : info.fileName();
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  opener_ = new ModelOpener(this);
  recent_ = new RecentFiles(this);

  start_page_ = new StartPage(recent_, this);
  model_page_ = new ModelPage(this);
  plan_page_ = new PlanPage(this);
  stack_ = new QStackedWidget(this);
  stack_->insertWidget(StartPageIndex, start_page_);
  stack_->insertWidget(ModelPageIndex, model_page_);
  stack_->insertWidget(PlanPageIndex, plan_page_);

  nav_ = new QListWidget(this);
  nav_->setObjectName(QStringLiteral("pageList"));
  nav_->setFrameShape(QFrame::NoFrame);
  nav_->setFixedWidth(168);
  // Items need an explicit border for their padding to apply, and then their selection too.
  nav_->setStyleSheet(QStringLiteral(
      "QListWidget#pageList { background: palette(window); border-right: 1px solid palette(midlight); padding-top: 12px; }"
      "QListWidget#pageList::item { border: 0px; padding: 9px 18px; color: palette(text); }"
      "QListWidget#pageList::item:disabled { color: palette(mid); }"
      "QListWidget#pageList::item:hover:!selected:!disabled { background: rgba(0, 0, 0, 10); }"
      "QListWidget#pageList::item:selected { background: rgba(59, 125, 216, 38); border-left: 3px solid #3b7dd8;"
      " padding-left: 15px; font-weight: bold; }"));
  nav_->addItem(tr("Start"));
  nav_->addItem(tr("Model"));
  nav_->addItem(tr("Budget and plan"));
  connect(nav_, &QListWidget::currentRowChanged, this, [this](int row) {
    if (row >= 0) stack_->setCurrentIndex(row);
  });

  auto* central = new QWidget(this);
  auto* layout = new QHBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(nav_);
  layout->addWidget(stack_, 1);
  setCentralWidget(central);

  busy_bar_ = new QProgressBar(this);
  busy_bar_->setRange(0, 0);
  busy_bar_->setMaximumWidth(140);
  busy_bar_->setMaximumHeight(14);
  busy_bar_->setTextVisible(false);
  busy_bar_->hide();
  model_status_ = new QLabel(this);
  statusBar()->addPermanentWidget(busy_bar_);
  statusBar()->addPermanentWidget(model_status_);
  statusBar()->showMessage(tr("Drop a model on the window, or open one from the File menu"));

  build_menus();
  set_model_pages_enabled(false);
  setAcceptDrops(true);

  connect(start_page_, &StartPage::open_path_requested, this, &MainWindow::open_path);
  connect(start_page_, &StartPage::open_file_requested, this, &MainWindow::choose_file);
  connect(start_page_, &StartPage::open_folder_requested, this, &MainWindow::choose_folder);
  connect(start_page_, &StartPage::open_demo_requested, this, &MainWindow::open_demo_model);
  connect(opener_, &ModelOpener::started, this, &MainWindow::on_open_started);
  connect(opener_, &ModelOpener::opened, this, &MainWindow::on_opened);
  connect(opener_, &ModelOpener::failed, this, &MainWindow::on_failed);

  show_page(StartPageIndex);
  update_title();
  resize(1280, 800);
}

// The opener and the model page wait for their jobs in their own destructors (children of this).
MainWindow::~MainWindow() {
  if (busy_shown_) QApplication::restoreOverrideCursor();
}

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open_file = file->addAction(tr("&Open File…"), this, &MainWindow::choose_file);
  open_file->setShortcut(QKeySequence::Open);
  QAction* open_folder = file->addAction(tr("Open &Folder…"), this, &MainWindow::choose_folder);
  open_folder->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  file->addAction(tr("Open &Demo Model"), this, &MainWindow::open_demo_model);
  recent_menu_ = file->addMenu(tr("Open &Recent"));
  connect(recent_, &RecentFiles::changed, this, &MainWindow::refresh_recent_menu);
  refresh_recent_menu();
  file->addSeparator();
  close_action_ = file->addAction(tr("&Close Model"), this, &MainWindow::close_model);
  close_action_->setShortcut(QKeySequence::Close);
  close_action_->setEnabled(false);
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  QAction* start = view->addAction(tr("&Start Page"), this, [this] { show_page(StartPageIndex); });
  start->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
  model_page_action_ = view->addAction(tr("&Model"), this, [this] { show_page(ModelPageIndex); });
  model_page_action_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_2));
  plan_page_action_ = view->addAction(tr("&Budget and Plan"), this, [this] { show_page(PlanPageIndex); });
  plan_page_action_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_3));

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About Lowbit Studio"), this, [this] {
    QMessageBox::about(this, tr("About Lowbit Studio"),
                       tr("<b>Lowbit Studio %1</b><p>A desktop studio for compressing large language models.</p>")
                           .arg(QApplication::applicationVersion()));
  });
}

int MainWindow::current_page() const { return stack_->currentIndex(); }

void MainWindow::show_page(int page) {
  if (page < 0 || page >= PageCount) return;
  if (page != StartPageIndex && !model_) return;  // every other page shows the open model
  stack_->setCurrentIndex(page);
  nav_->setCurrentRow(page);
}

QString MainWindow::page_key(int page) {
  switch (page) {
    case StartPageIndex: return QStringLiteral("start");
    case ModelPageIndex: return QStringLiteral("model");
    case PlanPageIndex: return QStringLiteral("plan");
    default: return QStringLiteral("page%1").arg(page);
  }
}

void MainWindow::open_path(const QString& path) {
  if (!path.isEmpty()) opener_->open(path);
}

bool MainWindow::open_demo_model() {
  const DemoModelLookup demo = find_demo_model();
  if (demo.path.isEmpty()) {
    QStringList places;
    for (const QString& p : demo.searched) places << QDir::toNativeSeparators(p);
    show_error(tr("No demo model"), tr("The demo model is not installed."),
               tr("Looked in:\n%1\n\nSet LOWBIT_DEMO_MODEL to a checkpoint folder or file to use another one.")
                   .arg(places.join(QLatin1Char('\n'))));
    return false;
  }
  open_path(demo.path);
  return true;
}

void MainWindow::close_model() {
  model_.reset();
  model_page_->set_model(nullptr);
  plan_page_->set_model(nullptr);
  set_model_pages_enabled(false);
  close_action_->setEnabled(false);
  model_status_->clear();
  show_page(StartPageIndex);
  update_title();
}

void MainWindow::choose_file() {
  QSettings settings;
  const QString path = QFileDialog::getOpenFileName(this, tr("Open Model"), settings.value(kLastDirKey).toString(),
                                                    tr("Model files (*.safetensors *.gguf);;All files (*)"));
  if (path.isEmpty()) return;
  settings.setValue(kLastDirKey, QFileInfo(path).absolutePath());
  open_path(path);
}

void MainWindow::choose_folder() {
  QSettings settings;
  const QString path = QFileDialog::getExistingDirectory(this, tr("Open Model Folder"), settings.value(kLastDirKey).toString());
  if (path.isEmpty()) return;
  settings.setValue(kLastDirKey, QFileInfo(path).absolutePath());
  open_path(path);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (DropZone::checkpoint_path(event->mimeData()).isEmpty())
    event->ignore();
  else
    event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QString path = DropZone::checkpoint_path(event->mimeData());
  if (path.isEmpty()) {
    event->ignore();
    return;
  }
  event->acceptProposedAction();
  open_path(path);
}

void MainWindow::on_open_started(const QString& path) {
  set_busy(true);
  statusBar()->showMessage(tr("Opening %1…").arg(file_label(path)));
}

void MainWindow::on_opened(std::shared_ptr<const OpenedModel> model) {
  set_busy(false);
  model_ = std::move(model);
  last_error_.clear();
  model_page_->set_model(model_);
  plan_page_->set_model(model_);
  recent_->add(model_->path);
  set_model_pages_enabled(true);
  close_action_->setEnabled(true);
  const Checkpoint& ck = *model_->checkpoint;
  const QString arch = model_->config ? QString::fromLatin1(arch_name(model_->config->arch)) : tr("unknown architecture");
  model_status_->setText(tr("%1 · %2 parameters · %3").arg(arch, format_count(ck.parameter_count()), format_bytes(ck.file_bytes())));
  const double s = model_->open_seconds;
  statusBar()->showMessage(s < 1 ? tr("Opened %1 in %2 ms").arg(model_->name, QLocale().toString(s * 1e3, 'f', 0))
                                 : tr("Opened %1 in %2 s").arg(model_->name, QLocale().toString(s, 'f', 1)),
                           8000);
  show_page(ModelPageIndex);
  update_title();
  emit model_opened(model_->path);
}

void MainWindow::on_failed(const QString& path, const QString& message) {
  set_busy(false);
  show_error(tr("Cannot open model"), tr("Could not open “%1”.").arg(file_label(path)), message);
  emit open_failed(path, message);
}

void MainWindow::show_error(const QString& title, const QString& text, const QString& details) {
  last_error_ = details.isEmpty() ? text : text + QLatin1Char(' ') + details;
  statusBar()->showMessage(text);
  // One box at a time, never modal-blocking: open() returns at once, so the event loop (and a test
  // driving it) keeps running while the box is up.
  if (error_box_) error_box_->close();
  error_box_ = new QMessageBox(QMessageBox::Warning, title, text, QMessageBox::Ok, this);
  error_box_->setInformativeText(details);
  error_box_->setAttribute(Qt::WA_DeleteOnClose);
  error_box_->open();
}

void MainWindow::set_busy(bool busy) {
  if (busy == busy_shown_) return;  // a superseding request starts again while already busy
  busy_shown_ = busy;
  busy_bar_->setVisible(busy);
  start_page_->set_busy(busy);
  if (busy)
    QApplication::setOverrideCursor(Qt::BusyCursor);
  else
    QApplication::restoreOverrideCursor();
}

void MainWindow::refresh_recent_menu() {
  recent_menu_->clear();
  for (const QString& path : recent_->paths()) {
    QAction* a = recent_menu_->addAction(file_label(path), this, [this, path] { open_path(path); });
    a->setToolTip(QDir::toNativeSeparators(path));
    a->setEnabled(QFileInfo::exists(path));
  }
  if (!recent_->paths().isEmpty()) {
    recent_menu_->addSeparator();
    recent_menu_->addAction(tr("Clear Recent Models"), recent_, &RecentFiles::clear);
  }
  recent_menu_->setEnabled(!recent_->paths().isEmpty());
}

void MainWindow::update_title() {
  setWindowTitle(model_ ? tr("%1 — Lowbit Studio").arg(model_->name) : tr("Lowbit Studio"));
}

void MainWindow::set_model_pages_enabled(bool enabled) {
  for (int page = ModelPageIndex; page < PageCount; ++page)
    nav_->item(page)->setFlags(enabled ? Qt::ItemIsEnabled | Qt::ItemIsSelectable : Qt::NoItemFlags);
  model_page_action_->setEnabled(enabled);
  plan_page_action_->setEnabled(enabled);
}

}  // namespace lowbit
