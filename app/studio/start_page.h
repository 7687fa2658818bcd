// StartPage: the first page of the studio — a drop zone for a checkpoint, buttons to open a file, a
// folder or the demo model, and the recent models (RecentFiles). It opens nothing itself: it emits
// the path or the request and the main window runs the open, so the page stays a plain view.
#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace lowbit {

class DropZone;
class RecentFiles;

class StartPage : public QWidget {
  Q_OBJECT

 public:
  StartPage(RecentFiles* recent, QWidget* parent = nullptr);

  DropZone* drop_zone() const { return drop_zone_; }
  QTreeWidget* recent_list() const { return recent_list_; }
  // Disables the open buttons while a model is being opened.
  void set_busy(bool busy);

 signals:
  void open_path_requested(const QString& path);
  void open_file_requested();
  void open_folder_requested();
  void open_demo_requested();

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void refresh_recent();
  void activate_recent(QTreeWidgetItem* item);

  RecentFiles* recent_;
  QLabel* title_ = nullptr;
  QLabel* subtitle_ = nullptr;
  QLabel* recent_title_ = nullptr;
  DropZone* drop_zone_ = nullptr;
  QPushButton* open_file_ = nullptr;
  QPushButton* open_folder_ = nullptr;
  QPushButton* open_demo_ = nullptr;
  QTreeWidget* recent_list_ = nullptr;
  QLabel* recent_empty_ = nullptr;
  QPushButton* clear_recent_ = nullptr;
};

}  // namespace lowbit
