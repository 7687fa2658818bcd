#include "app/studio/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
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
#include <QPushButton>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTimer>

#include "app/studio/analyze_page.h"
#include "app/studio/compare_page.h"
#include "app/studio/drop_zone.h"
#include "app/studio/export_page.h"
#include "app/studio/hessian_page.h"
#include "app/studio/job_center.h"
#include "app/studio/job_support.h"
#include "app/studio/jobs_panel.h"
#include "app/studio/model_page.h"
#include "app/studio/outlier_page.h"
#include "app/studio/plan_page.h"
#include "app/studio/recent_files.h"
#include "app/studio/scale_loss_page.h"
#include "app/studio/settings_dialog.h"
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
  jobs_ = new JobCenter(this);
  opener_ = new ModelOpener(this);
  recent_ = new RecentFiles(this);

  start_page_ = new StartPage(recent_, this);
  model_page_ = new ModelPage(this);
  analyze_page_ = new AnalyzePage(jobs_, this);
  hessian_page_ = new HessianPage(this);
  scale_loss_page_ = new ScaleLossPage(this);
  outlier_page_ = new OutlierPage(this);
  connect(analyze_page_, &AnalyzePage::views_changed, this, [this](std::shared_ptr<const ViewsFile> views) {
    hessian_page_->set_views(views);
    scale_loss_page_->set_views(views);
    outlier_page_->set_views(views);
  });
  plan_page_ = new PlanPage(jobs_, this);
  compare_page_ = new ComparePage(jobs_, this);
  export_page_ = new ExportPage(jobs_, this);
  auto plan_source = [this] { return plan_page_->current_layout(); };
  compare_page_->set_plan_source(plan_source);
  export_page_->set_plan_source(plan_source);
  export_page_->set_project_source([this] { return project(); });
  connect(export_page_, &ExportPage::exported, this, [this](const ProjectExport& e) {
    exports_.push_back(e);
    if (!export_page_->last_export()->cbq.windows.empty()) scale_loss_page_->set_cbq_report(export_page_->last_export()->cbq);
  });
  stack_ = new QStackedWidget(this);
  stack_->insertWidget(StartPageIndex, start_page_);
  stack_->insertWidget(ModelPageIndex, model_page_);
  stack_->insertWidget(AnalyzePageIndex, analyze_page_);
  stack_->insertWidget(HessianPageIndex, hessian_page_);
  stack_->insertWidget(ScaleLossPageIndex, scale_loss_page_);
  stack_->insertWidget(OutliersPageIndex, outlier_page_);
  stack_->insertWidget(PlanPageIndex, plan_page_);
  stack_->insertWidget(ComparePageIndex, compare_page_);
  stack_->insertWidget(ExportPageIndex, export_page_);

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
  for (int page = 0; page < PageCount; ++page) nav_->addItem(page_title(page));
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

  build_docks();
  build_menus();
  retranslate();
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

// The texts of the menus and actions are set by retranslate().
void MainWindow::build_menus() {
  QMenu* file = file_menu_ = menuBar()->addMenu(QString());
  open_file_action_ = file->addAction(QString(), this, &MainWindow::choose_file);
  open_file_action_->setShortcut(QKeySequence::Open);
  open_folder_action_ = file->addAction(QString(), this, &MainWindow::choose_folder);
  open_folder_action_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  open_demo_action_ = file->addAction(QString(), this, &MainWindow::open_demo_model);
  open_project_action_ = file->addAction(QString(), this, [this] {
    QSettings settings;
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Project"), settings.value(kLastDirKey).toString(),
                                                      tr("Lowbit projects (*.lowbit)"));
    if (!path.isEmpty()) open_project(path);
  });
  save_project_action_ = file->addAction(QString(), this, [this] {
    QString path = project_path_;
    if (path.isEmpty()) path = QFileDialog::getSaveFileName(this, tr("Save Project"), QString(), tr("Lowbit projects (*.lowbit)"));
    if (path.isEmpty()) return;
    if (!path.endsWith(QStringLiteral(".lowbit"))) path += QStringLiteral(".lowbit");
    save_project(path);
  });
  save_project_action_->setShortcut(QKeySequence::Save);
  save_project_action_->setEnabled(false);
  recent_menu_ = file->addMenu(QString());
  connect(recent_, &RecentFiles::changed, this, &MainWindow::refresh_recent_menu);
  refresh_recent_menu();
  file->addSeparator();
  close_action_ = file->addAction(QString(), this, &MainWindow::close_model);
  close_action_->setShortcut(QKeySequence::Close);
  close_action_->setEnabled(false);
  file->addSeparator();
  settings_action_ = file->addAction(QString(), this, [this] { open_settings(); });
  settings_action_->setShortcut(QKeySequence::Preferences);
  settings_action_->setMenuRole(QAction::PreferencesRole);
  file->addSeparator();
  quit_action_ = file->addAction(QString(), this, &QWidget::close);
  quit_action_->setShortcut(QKeySequence::Quit);

  QMenu* view = view_menu_ = menuBar()->addMenu(QString());
  for (int page = 0; page < PageCount; ++page) {
    QAction* a = view->addAction(QString(), this, [this, page] { show_page(page); });
    if (page < 9) a->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + page)));
    page_actions_.push_back(a);
  }
  view->addSeparator();
  for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());

  QMenu* help = help_menu_ = menuBar()->addMenu(QString());
  about_action_ = help->addAction(QString(), this, [this] {
    QMessageBox::about(this, tr("About Lowbit Studio"),
                       tr("<b>Lowbit Studio %1</b><p>A desktop studio for compressing large language models.</p>")
                           .arg(QApplication::applicationVersion()));
  });
}

void MainWindow::retranslate() {
  file_menu_->setTitle(tr("&File"));
  open_file_action_->setText(tr("&Open File…"));
  open_folder_action_->setText(tr("Open &Folder…"));
  open_demo_action_->setText(tr("Open &Demo Model"));
  open_project_action_->setText(tr("Open &Project…"));
  save_project_action_->setText(tr("&Save Project…"));
  recent_menu_->setTitle(tr("Open &Recent"));
  close_action_->setText(tr("&Close Model"));
  settings_action_->setText(tr("Se&ttings…"));
  quit_action_->setText(tr("&Quit"));
  view_menu_->setTitle(tr("&View"));
  for (int page = 0; page < PageCount; ++page) page_actions_[static_cast<size_t>(page)]->setText(page_title(page));
  help_menu_->setTitle(tr("&Help"));
  about_action_->setText(tr("&About Lowbit Studio"));
  refresh_recent_menu();
  for (int page = 0; page < nav_->count(); ++page) nav_->item(page)->setText(page_title(page));
  jobs_dock_->setWindowTitle(tr("Jobs"));  // also the View menu's toggle actions
  issues_dock_->setWindowTitle(tr("Issues"));
  update_model_status();
  update_title();
  if (!model_ && !busy()) statusBar()->showMessage(tr("Drop a model on the window, or open one from the File menu"));
}

void MainWindow::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QMainWindow::changeEvent(event);
}

SettingsDialog* MainWindow::open_settings() {
  if (!settings_dialog_) {
    settings_dialog_ = new SettingsDialog(this);
    settings_dialog_->setAttribute(Qt::WA_DeleteOnClose);
  }
  settings_dialog_->open();
  settings_dialog_->raise();
  return settings_dialog_;
}

QString MainWindow::page_title(int page) {
  switch (page) {
    case StartPageIndex: return tr("Start");
    case ModelPageIndex: return tr("Model");
    case AnalyzePageIndex: return tr("Analyze");
    case HessianPageIndex: return tr("Hessian");
    case ScaleLossPageIndex: return tr("Scale-loss");
    case OutliersPageIndex: return tr("Outliers");
    case PlanPageIndex: return tr("Budget and plan");
    case ComparePageIndex: return tr("Compare");
    case ExportPageIndex: return tr("Export");
    default: return page_key(page);
  }
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
    case AnalyzePageIndex: return QStringLiteral("analyze");
    case HessianPageIndex: return QStringLiteral("hessian");
    case ScaleLossPageIndex: return QStringLiteral("scale-loss");
    case OutliersPageIndex: return QStringLiteral("outliers");
    case PlanPageIndex: return QStringLiteral("plan");
    case ComparePageIndex: return QStringLiteral("compare");
    case ExportPageIndex: return QStringLiteral("export");
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
  analyze_page_->set_model(nullptr);
  scale_loss_page_->set_cbq_report({});
  plan_page_->set_model(nullptr);
  compare_page_->set_model(nullptr);
  export_page_->set_model(nullptr);
  exports_.clear();
  notes_.clear();
  jobs_->clear_issues();
  project_path_.clear();
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
  analyze_page_->set_model(model_);
  scale_loss_page_->set_cbq_report({});
  plan_page_->set_model(model_);
  compare_page_->set_model(model_);
  export_page_->set_model(model_);
  exports_.clear();
  notes_.clear();
  jobs_->clear_issues();  // the issues of the jobs on the model before (a project's own come back as notes)
  recent_->add(model_->path);
  set_model_pages_enabled(true);
  close_action_->setEnabled(true);
  update_model_status();
  const double s = model_->open_seconds;
  statusBar()->showMessage(s < 1 ? tr("Opened %1 in %2 ms").arg(model_->name, QLocale().toString(s * 1e3, 'f', 0))
                                 : tr("Opened %1 in %2 s").arg(model_->name, QLocale().toString(s, 'f', 1)),
                           8000);
  show_page(ModelPageIndex);
  // The pending project is restored only onto its own model (not onto one dropped while it opened).
  if (pending_project_ && QFileInfo(QFile::decodeName(pending_project_->model.c_str())).canonicalFilePath() !=
                              QFileInfo(model_->path).canonicalFilePath())
    pending_project_.reset();
  if (pending_project_) restore_project();
  else project_path_.clear();
  update_title();
  emit model_opened(model_->path);
}

void MainWindow::on_failed(const QString& path, const QString& message) {
  set_busy(false);
  pending_project_.reset();
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

void MainWindow::closeEvent(QCloseEvent* event) {
  const int running = jobs_->running_count();
  if (running == 0 || quit_confirmed_) {
    jobs_->cancel_all();
    event->accept();
    return;
  }
  event->ignore();
  if (quit_box_) return;  // already asking
  quit_box_ = new QMessageBox(QMessageBox::Question, tr("Quit Lowbit Studio"),
                              tr("%n job(s) still running: quitting cancels them and their work is lost (an export keeps its "
                                 "finished blocks for the next export of the same layout).",
                                 nullptr, running),
                              QMessageBox::NoButton, this);
  QPushButton* quit = quit_box_->addButton(tr("Quit"), QMessageBox::DestructiveRole);
  quit_box_->addButton(QMessageBox::Cancel);
  quit_box_->setAttribute(Qt::WA_DeleteOnClose);
  connect(quit, &QPushButton::clicked, this, [this] {
    quit_confirmed_ = true;
    QTimer::singleShot(0, this, &QWidget::close);
  });
  quit_box_->open();
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

void MainWindow::update_model_status() {
  if (!model_) {
    model_status_->clear();
    return;
  }
  const Checkpoint& ck = *model_->checkpoint;
  const QString arch = model_->config ? QString::fromLatin1(arch_name(model_->config->arch)) : tr("unknown architecture");
  model_status_->setText(tr("%1 · %2 parameters · %3").arg(arch, format_count(ck.parameter_count()), format_bytes(ck.file_bytes())));
}

void MainWindow::update_title() {
  setWindowTitle(model_ ? tr("%1 — Lowbit Studio").arg(model_->name) : tr("Lowbit Studio"));
}

void MainWindow::set_model_pages_enabled(bool enabled) {
  for (int page = ModelPageIndex; page < PageCount; ++page)
    nav_->item(page)->setFlags(enabled ? Qt::ItemIsEnabled | Qt::ItemIsSelectable : Qt::NoItemFlags);
  for (int page = ModelPageIndex; page < PageCount; ++page) page_actions_[static_cast<size_t>(page)]->setEnabled(enabled);
  save_project_action_->setEnabled(enabled);
}

void MainWindow::build_docks() {
  auto* jobs_dock = jobs_dock_ = new QDockWidget(this);
  jobs_dock->setObjectName(QStringLiteral("jobsDock"));
  jobs_dock->setWidget(new JobsPanel(jobs_, jobs_dock));
  addDockWidget(Qt::BottomDockWidgetArea, jobs_dock);
  auto* issues_dock = issues_dock_ = new QDockWidget(this);
  issues_dock->setObjectName(QStringLiteral("issuesDock"));
  issues_dock->setWidget(new IssuesPanel(jobs_, issues_dock));
  addDockWidget(Qt::BottomDockWidgetArea, issues_dock);
  tabifyDockWidget(jobs_dock, issues_dock);
  jobs_dock->raise();
  resizeDocks({jobs_dock}, {150}, Qt::Vertical);  // the pages keep most of the height
  // A new job or a new issue brings its dock to the front.
  connect(jobs_, &JobCenter::job_added, jobs_dock, [jobs_dock] { jobs_dock->show(), jobs_dock->raise(); });
  connect(jobs_, &JobCenter::issues_changed, issues_dock, [this, issues_dock] {
    if (!jobs_->issues().empty() && jobs_->running_count() == 0) issues_dock->show(), issues_dock->raise();
  });
}

Project MainWindow::project() const {
  Project p;
  if (model_) p.model = path_str(model_->path);
  p.calibration_file = path_str(plan_page_->calibration_file());
  p.calibration.samples = plan_page_->calibration_samples();
  p.calibration.ctx = plan_page_->calibration_ctx();
  p.calibration.seed = static_cast<uint64_t>(plan_page_->calibration_seed());
  p.analysis_dir = path_str(analyze_page_->views_dir());
  p.plan = plan_page_->plan_settings();
  // The Plan page's plan, or the "plan" layout a reopened project brought to Compare until there is one.
  const auto plan = plan_page_->current_layout();
  if (plan) p.layouts.push_back({"plan", *plan});
  for (const CompareCandidate& c : compare_page_->candidates())
    if (c.name != "plan" || !plan) p.layouts.push_back({c.name, c.layout});
  if (!compare_page_->rows().empty()) {
    ProjectComparison cmp;
    cmp.text = path_str(compare_page_->evaluation_text());
    cmp.ctx = compare_page_->evaluation_ctx();
    cmp.rows = compare_page_->rows();
    p.comparison = std::move(cmp);
  }
  p.exports = exports_;
  p.notes = notes_;
  for (const JobCenter::Issue& issue : jobs_->issues()) p.notes.push_back((issue.source + QStringLiteral(": ") + issue.text).toStdString());
  return p;
}

bool MainWindow::save_project(const QString& path) {
  if (!model_) {
    last_error_ = tr("Open a model before saving a project.");
    return false;
  }
  if (auto w = write_project(project(), path_str(path)); !w) {
    show_error(tr("Cannot save project"), tr("Could not save “%1”.").arg(file_label(path)), QString::fromStdString(w.error().message));
    return false;
  }
  project_path_ = path;
  statusBar()->showMessage(tr("Saved the project %1").arg(file_label(path)), 8000);
  return true;
}

bool MainWindow::open_project(const QString& path) {
  auto p = read_project(path_str(path));
  if (!p) {
    show_error(tr("Cannot open project"), tr("Could not open “%1”.").arg(file_label(path)), QString::fromStdString(p.error().message));
    return false;
  }
  if (p->model.empty()) {
    show_error(tr("Cannot open project"), tr("Could not open “%1”.").arg(file_label(path)), tr("The project names no model."));
    return false;
  }
  pending_project_ = std::move(*p);
  pending_project_path_ = path;  // the project's path only once its model has opened: a failed open keeps the one before
  open_path(QFile::decodeName(pending_project_->model.c_str()));
  return true;
}

void MainWindow::restore_project() {
  Project p = std::move(*pending_project_);
  pending_project_.reset();
  project_path_ = pending_project_path_;
  if (!p.calibration_file.empty())
    plan_page_->set_calibration(QFile::decodeName(p.calibration_file.c_str()), static_cast<int>(p.calibration.samples),
                                static_cast<int>(p.calibration.ctx), static_cast<int>(p.calibration.seed));
  if (!p.analysis_dir.empty() && !analyze_page_->open_views(QFile::decodeName(p.analysis_dir.c_str())))
    jobs_->add_issue(tr("Project"), tr("The analysis of the project could not be opened: %1").arg(analyze_page_->last_error()));
  if (p.plan) plan_page_->apply_plan_settings(*p.plan);
  for (ProjectLayout& l : p.layouts) compare_page_->add_layout(l.name, std::move(l.layout));
  if (p.comparison) {
    compare_page_->set_evaluation(QFile::decodeName(p.comparison->text.c_str()), static_cast<int>(p.comparison->ctx), 0);
    compare_page_->set_rows(std::move(p.comparison->rows));
  }
  exports_ = std::move(p.exports);
  notes_ = std::move(p.notes);
  statusBar()->showMessage(tr("Opened the project %1").arg(file_label(project_path_)), 8000);
}

}  // namespace lowbit
