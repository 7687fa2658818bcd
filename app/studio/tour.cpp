#include "app/studio/tour.h"

#include <QDir>
#include <QPixmap>
#include <QTextStream>

#include "app/studio/analyze_page.h"
#include "app/studio/compare_page.h"
#include "app/studio/hessian_page.h"
#include "app/studio/main_window.h"
#include "app/studio/model_page.h"
#include "app/studio/plan_page.h"
#include "app/studio/studio_paths.h"

namespace lowbit {

namespace {
constexpr int kTimeoutMs = 300'000;
}

StudioTour::StudioTour(MainWindow* window, QString out_dir, QString model_path, QObject* parent)
    : QObject(parent), window_(window), out_dir_(std::move(out_dir)), model_path_(std::move(model_path)) {
  watchdog_.setSingleShot(true);
  connect(&watchdog_, &QTimer::timeout, this, [this] { fail(tr("the tour timed out")); });
}

void StudioTour::start() {
  if (!QDir().mkpath(out_dir_)) return fail(tr("cannot create %1").arg(out_dir_));
  if (model_path_.isEmpty()) {
    model_path_ = find_demo_model().path;
    if (model_path_.isEmpty()) return fail(tr("no demo model found; give one with --model PATH"));
  }
  watchdog_.start(kTimeoutMs);
  window_->show();
  // The start page is shot before the model opens; the window then moves to the model page itself.
  QTimer::singleShot(0, this, [this] { visit(MainWindow::StartPageIndex); });
}

void StudioTour::visit(int page) {
  if (finished_) return;
  if (page >= window_->page_count()) return done(0);
  if (page == MainWindow::ModelPageIndex) {
    connect(window_, &MainWindow::open_failed, this, [this](const QString&, const QString& message) { fail(message); });
    connect(window_, &MainWindow::model_opened, this, [this, page] {
      ModelPage* mp = window_->model_page();
      connect(mp, &ModelPage::histogram_shown, this, [this, page] { on_page_ready(page); }, Qt::SingleShotConnection);
      window_->show_page(page);
      if (!mp->select_tensor(mp->representative_tensor())) on_page_ready(page);
    }, Qt::SingleShotConnection);
    window_->open_path(model_path_);
    return;
  }
  if (page == MainWindow::AnalyzePageIndex) {
    // A quick analysis (few, short windows; a 7 × 7 landscape) that fills the three view pages.
    AnalyzePage* ap = window_->analyze_page();
    ap->set_calibration(ap->calibration_file(), 4, 64);
    ap->set_landscape_points(7);
    window_->show_page(page);
    connect(ap, &AnalyzePage::analyze_finished, this, [this, page](bool ok) {
      if (!ok) return fail(tr("the analysis failed: %1").arg(window_->analyze_page()->last_error()));
      on_page_ready(page);
    }, Qt::SingleShotConnection);
    if (!ap->start_analyze()) {
      disconnect(ap, &AnalyzePage::analyze_finished, this, nullptr);
      fail(tr("the analysis could not start: %1").arg(ap->last_error()));
    }
    return;
  }
  if (page == MainWindow::PlanPageIndex) {
    // A quick plan (few, short windows) so that the shot shows a filled table and meter.
    PlanPage* pp = window_->plan_page();
    pp->set_calibration(pp->calibration_file(), 4, 64);
    shoot_after(page, pp, &PlanPage::plan_finished, [pp] { return pp->start_plan(); });
    return;
  }
  if (page == MainWindow::ComparePageIndex) {
    // The plan against three uniform formats on a few short windows: the table and the chart filled.
    ComparePage* cp = window_->compare_page();
    cp->add_plan();
    cp->set_uniform_formats({QStringLiteral("q4_k"), QStringLiteral("q6_k"), QStringLiteral("q8_0")});
    cp->set_evaluation(cp->evaluation_text(), 64, 4);
    shoot_after(page, cp, &ComparePage::compare_finished, [cp] { return cp->start_compare(); });
    return;
  }
  if (page == MainWindow::HessianPageIndex && window_->model() && window_->model()->config) {
    // The last block's FFN input: block 0 has no earlier blocks, so its levels would all look alike.
    window_->hessian_page()->select_layer(window_->model()->config->n_layers - 1, LinearInput::kDown);
  }
  window_->show_page(page);
  on_page_ready(page);
}

template <class Page>
void StudioTour::shoot_after(int page, Page* sender, void (Page::*finished)(bool), const std::function<bool()>& start) {
  window_->show_page(page);
  connect(sender, finished, this, [this, page] { on_page_ready(page); }, Qt::SingleShotConnection);
  if (!start()) {
    disconnect(sender, finished, this, nullptr);
    on_page_ready(page);
  }
}

void StudioTour::on_page_ready(int page) {
  // Deferred so that the plots' batched replots (a timer, then a queued replot) and layouts land first.
  QTimer::singleShot(150, this, [this, page] {
    if (finished_) return;
    const QString file = QDir(out_dir_).filePath(QStringLiteral("%1-%2.png").arg(page + 1, 2, 10, QLatin1Char('0'))
                                                     .arg(MainWindow::page_key(page)));
    if (!window_->grab().save(file)) return fail(tr("cannot write %1").arg(file));
    saved_ << file;
    QTextStream(stdout) << file << '\n';
    visit(page + 1);
  });
}

void StudioTour::fail(const QString& message) {
  if (finished_) return;
  QTextStream(stderr) << "lowbit-studio --tour: " << message << '\n';
  done(1);
}

void StudioTour::done(int code) {
  if (finished_) return;
  finished_ = true;
  watchdog_.stop();
  emit finished(code);
}

}  // namespace lowbit
