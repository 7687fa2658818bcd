// JobsPanel and IssuesPanel: the two docks of the main window that show what the JobCenter holds —
// every job with its progress bar, stage, ETA and a Cancel button, and the warnings and errors jobs
// returned (DESIGN.md "The studio"). Both redraw from the center's signals; a refresh timer (4 Hz)
// keeps the ETA of a job ticking between progress reports.
#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QTimer;
class QTreeWidget;

namespace lowbit {

class JobCenter;

class JobsPanel : public QWidget {
  Q_OBJECT

 public:
  explicit JobsPanel(JobCenter* center, QWidget* parent = nullptr);

  QTreeWidget* tree() const { return tree_; }
  // The Cancel button of a job's row (null when the job is not running or has no row).
  QPushButton* cancel_button(int id) const;

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void rebuild();
  void refresh(int id);

  JobCenter* center_ = nullptr;
  QTreeWidget* tree_ = nullptr;
  QPushButton* clear_ = nullptr;
  QTimer* tick_ = nullptr;
};

class IssuesPanel : public QWidget {
  Q_OBJECT

 public:
  explicit IssuesPanel(JobCenter* center, QWidget* parent = nullptr);
  QTreeWidget* tree() const { return tree_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void rebuild();

  JobCenter* center_ = nullptr;
  QTreeWidget* tree_ = nullptr;
  QPushButton* clear_ = nullptr;
};

}  // namespace lowbit
