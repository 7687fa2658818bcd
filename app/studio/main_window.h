// MainWindow: the studio's frame — a page list on the left, a QStackedWidget of pages (start, model,
// analyze, the Hessian, scale-loss and outlier views, budget and plan, compare, export), the jobs and issues docks over the JobCenter every long job runs
// through, the File and View menus, the project file (*.lowbit), and a status bar with a busy
// indicator while a model opens. It owns the ModelOpener, so every open of a path,
// dropped, chosen, recent or demo, goes through open_path() and ends in model_opened or
// open_failed. A failed open leaves the window as it was and reports the error three ways: the
// status bar, a non-blocking message box (QMessageBox::open), and last_error() for tests and tours.
#pragma once

#include <QMainWindow>
#include <QPointer>
#include <memory>
#include <optional>
#include <vector>

#include "app/studio/model_opener.h"
#include "core/io/project_file.h"

class QAction;
class QDockWidget;
class QLabel;
class QListWidget;
class QMenu;
class QMessageBox;
class QProgressBar;
class QStackedWidget;

namespace lowbit {

class AnalyzePage;
class ComparePage;
class HessianPage;
class OutlierPage;
class ScaleLossPage;
class ExportPage;
class JobCenter;
class ModelPage;
class PlanPage;
class RecentFiles;
class SettingsDialog;
class StartPage;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  enum Page {
    StartPageIndex,
    ModelPageIndex,
    AnalyzePageIndex,
    HessianPageIndex,
    ScaleLossPageIndex,
    OutliersPageIndex,
    PlanPageIndex,
    ComparePageIndex,
    ExportPageIndex,
    PageCount
  };

  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  void open_path(const QString& path);
  // Opens the demo model, or says where it looked when there is none; false in that case.
  bool open_demo_model();
  void close_model();

  int page_count() const { return PageCount; }
  int current_page() const;
  void show_page(int page);
  // A short file-name-safe key for a page ("start", "model", "plan").
  static QString page_key(int page);
  // The page's name in the page list, in the current language ("Budget and plan").
  static QString page_title(int page);
  // Opens File › Settings… (one dialog at a time, not modal-blocking) and returns it.
  SettingsDialog* open_settings();

  StartPage* start_page() const { return start_page_; }
  ModelPage* model_page() const { return model_page_; }
  AnalyzePage* analyze_page() const { return analyze_page_; }
  HessianPage* hessian_page() const { return hessian_page_; }
  ScaleLossPage* scale_loss_page() const { return scale_loss_page_; }
  OutlierPage* outlier_page() const { return outlier_page_; }
  PlanPage* plan_page() const { return plan_page_; }
  ComparePage* compare_page() const { return compare_page_; }
  ExportPage* export_page() const { return export_page_; }
  JobCenter* jobs() const { return jobs_; }

  // The project (*.lowbit): the open model and what was done to it. Saving writes it; opening opens
  // its model and, once that is open, restores calibration, plan settings, layouts, the comparison
  // and the export list. False (and last_error()) on failure; the window stays as it was.
  Project project() const;
  bool save_project(const QString& path);
  bool open_project(const QString& path);
  const QString& project_path() const { return project_path_; }
  RecentFiles* recent_files() const { return recent_; }
  const std::shared_ptr<const OpenedModel>& model() const { return model_; }
  bool busy() const { return opener_->busy(); }
  // The last failure shown to the user (file name and reason); empty after a successful open.
  const QString& last_error() const { return last_error_; }

 signals:
  void model_opened(const QString& path);
  void open_failed(const QString& path, const QString& message);

 protected:
  // Drops anywhere on the window open the model, as drops on the start page's zone do.
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;
  void changeEvent(QEvent* event) override;
  // With jobs running, closing asks first (their work would be lost); the question does not block
  // the event loop: Quit there closes again, with the jobs cancelled.
  void closeEvent(QCloseEvent* event) override;

 private:
  void build_menus();
  // Re-sets every text of the frame (menus, page list, docks, status bar) in the current language.
  void retranslate();
  void update_model_status();
  void choose_file();
  void choose_folder();
  void on_open_started(const QString& path);
  void on_opened(std::shared_ptr<const OpenedModel> model);
  void on_failed(const QString& path, const QString& message);
  void show_error(const QString& title, const QString& text, const QString& details);
  void set_busy(bool busy);
  void refresh_recent_menu();
  void update_title();
  // Enables the pages that need a model, or disables them when none is open.
  void set_model_pages_enabled(bool enabled);
  void build_docks();
  void restore_project();

  ModelOpener* opener_ = nullptr;
  RecentFiles* recent_ = nullptr;
  std::shared_ptr<const OpenedModel> model_;
  QListWidget* nav_ = nullptr;
  QStackedWidget* stack_ = nullptr;
  StartPage* start_page_ = nullptr;
  ModelPage* model_page_ = nullptr;
  AnalyzePage* analyze_page_ = nullptr;
  HessianPage* hessian_page_ = nullptr;
  ScaleLossPage* scale_loss_page_ = nullptr;
  OutlierPage* outlier_page_ = nullptr;
  PlanPage* plan_page_ = nullptr;
  ComparePage* compare_page_ = nullptr;
  ExportPage* export_page_ = nullptr;
  JobCenter* jobs_ = nullptr;
  QString project_path_;
  std::optional<Project> pending_project_;  // restored once its model has opened
  QString pending_project_path_;            // its file: the project's path once it is restored
  std::vector<ProjectExport> exports_;
  std::vector<std::string> notes_;
  QProgressBar* busy_bar_ = nullptr;
  QLabel* model_status_ = nullptr;
  QMenu* file_menu_ = nullptr;
  QMenu* view_menu_ = nullptr;
  QMenu* help_menu_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QAction* open_file_action_ = nullptr;
  QAction* open_folder_action_ = nullptr;
  QAction* open_demo_action_ = nullptr;
  QAction* open_project_action_ = nullptr;
  QAction* settings_action_ = nullptr;
  QAction* quit_action_ = nullptr;
  std::vector<QAction*> page_actions_;  // View › one per page, Ctrl+1 …
  QAction* about_action_ = nullptr;
  QDockWidget* jobs_dock_ = nullptr;
  QDockWidget* issues_dock_ = nullptr;
  QPointer<SettingsDialog> settings_dialog_;
  QAction* close_action_ = nullptr;
  QAction* save_project_action_ = nullptr;
  QPointer<QMessageBox> error_box_;
  QPointer<QMessageBox> quit_box_;  // "jobs are running: quit anyway?"
  bool quit_confirmed_ = false;
  QString last_error_;
  bool busy_shown_ = false;
};

}  // namespace lowbit
