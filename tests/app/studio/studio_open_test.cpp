// End-to-end tests of opening a model in the studio, driven the way a person does it: a drop on the
// start page's drop zone (a synthesized QDropEvent carrying a file URL), then waiting for the model
// page. A damaged file must leave the window as it was and name the file in the error.
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include "app/studio/drop_zone.h"
#include "app/studio/main_window.h"
#include "app/studio/model_page.h"
#include "app/studio/recent_files.h"
#include "app/studio/start_page.h"
#include "app/studio/studio_paths.h"
#include "tests/widgets/qt_test_support.h"
#include "widgets/plots/histogram_plot.h"
#include "widgets/views/tensor_table_model.h"

using lowbit::DropZone;
using lowbit::MainWindow;

namespace {

const QString kFixture = QStringLiteral("models/hf-fixtures/llama-gqa");

// QApplication routes a Drop to the widget that accepted the DragEnter before it (QDragManager's
// current target), so a drop is simulated as a file manager performs it: enter, then drop. A drag
// that is not dropped is ended with a DragLeave, which clears that target again.
bool drag_enter(QWidget* target, const QMimeData& mime) {
  QDragEnterEvent enter(target->rect().center(), Qt::CopyAction | Qt::LinkAction, &mime, Qt::LeftButton,
                        Qt::NoModifier);
  enter.setAccepted(false);
  QCoreApplication::sendEvent(target, &enter);
  return enter.isAccepted();
}

bool drag_enter_accepted(QWidget* target, const QUrl& url) {
  QMimeData mime;
  mime.setUrls({url});
  const bool accepted = drag_enter(target, mime);
  QDragLeaveEvent leave;
  QCoreApplication::sendEvent(target, &leave);
  return accepted;
}

// Drags `url` onto `target` and drops it there; returns whether the drop was accepted.
bool drop_url(QWidget* target, const QUrl& url) {
  QMimeData mime;
  mime.setUrls({url});
  if (!drag_enter(target, mime)) return false;
  QDropEvent drop(QPointF(target->rect().center()), Qt::CopyAction | Qt::LinkAction, &mime, Qt::LeftButton,
                  Qt::NoModifier);
  drop.setAccepted(false);
  QCoreApplication::sendEvent(target, &drop);
  return drop.isAccepted();
}

void close_error_boxes(QWidget* window) {
  for (QMessageBox* box : window->findChildren<QMessageBox*>()) box->close();
}

}  // namespace

class StudioOpenTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings go to a test location, not the user's
    QCoreApplication::setOrganizationName(QStringLiteral("Lowbit"));
    QCoreApplication::setApplicationName(QStringLiteral("lowbit-studio-test"));
  }

  void init() { QSettings().clear(); }

  void drag_enter_accepts_only_local_models() {
    MainWindow window;
    DropZone* zone = window.start_page()->drop_zone();
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile txt(dir.filePath(QStringLiteral("notes.txt")));
    QVERIFY(txt.open(QIODevice::WriteOnly));
    txt.close();
    QFile gguf(dir.filePath(QStringLiteral("m.GGUF")));
    QVERIFY(gguf.open(QIODevice::WriteOnly));
    gguf.close();
    QVERIFY(drag_enter_accepted(zone, QUrl::fromLocalFile(dir.path())));
    QVERIFY(drag_enter_accepted(zone, QUrl::fromLocalFile(gguf.fileName())));
    QVERIFY(!drag_enter_accepted(zone, QUrl::fromLocalFile(txt.fileName())));
    QVERIFY(!drag_enter_accepted(zone, QUrl::fromLocalFile(dir.filePath(QStringLiteral("missing.safetensors")))));
    QVERIFY(!drag_enter_accepted(zone, QUrl(QStringLiteral("https://huggingface.co/x/model.safetensors"))));
  }

  void drop_opens_the_model_page() {
    LOWBIT_QREQUIRE_SHARED(kFixture);
    const QString path = lowbit::test::shared_path(kFixture);
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.current_page(), int(MainWindow::StartPageIndex));
    QSignalSpy opened(&window, &MainWindow::model_opened);

    QVERIFY(drop_url(window.start_page()->drop_zone(), QUrl::fromLocalFile(path)));
    QTRY_COMPARE(opened.count(), 1);
    QTRY_COMPARE(window.current_page(), int(MainWindow::ModelPageIndex));
    lowbit::ModelPage* page = window.model_page();
    QVERIFY(page->isVisible());
    QCOMPARE(page->tensor_table()->model()->rowCount(), 21);
    QVERIFY(window.windowTitle().contains(QStringLiteral("llama-gqa")));
    QVERIFY(window.last_error().isEmpty());
    QVERIFY(window.model()->config.has_value());
    QCOMPARE(window.recent_files()->paths().value(0), path);

    // The filter line edit narrows the table.
    QTest::keyClicks(page->filter_edit(), QStringLiteral("q_proj"));
    QCOMPARE(page->tensor_table()->model()->rowCount(), 2);
    page->filter_edit()->clear();
    QCOMPARE(page->tensor_table()->model()->rowCount(), 21);

    // Selecting a 2-D tensor computes its histogram off the GUI thread and shows it.
    QSignalSpy shown(page, &lowbit::ModelPage::histogram_shown);
    QVERIFY(page->select_tensor(QStringLiteral("model.layers.1.mlp.up_proj.weight")));
    QTRY_COMPARE(shown.count(), 1);
    QCOMPARE(shown.at(0).at(0).toString(), QStringLiteral("model.layers.1.mlp.up_proj.weight"));
    QVERIFY(page->histogram_plot()->bar_count() > 0);
    QCOMPARE(page->histogram_plot()->histogram().total, quint64(192 * 64));
    // A 1-D tensor gets a placeholder instead.
    QVERIFY(page->select_tensor(QStringLiteral("model.norm.weight")));
    QTRY_COMPARE(shown.count(), 2);
    QCOMPARE(page->histogram_plot()->bar_count(), 0);
  }

  void damaged_file_names_the_file_and_keeps_the_window() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString bad = dir.filePath(QStringLiteral("bad.safetensors"));
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("0123456789", 10);
    f.close();

    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy failed(&window, &MainWindow::open_failed);
    QVERIFY(drop_url(window.start_page()->drop_zone(), QUrl::fromLocalFile(bad)));
    QTRY_COMPARE(failed.count(), 1);
    QVERIFY2(window.last_error().contains(QStringLiteral("bad.safetensors")), qPrintable(window.last_error()));
    QVERIFY(failed.at(0).at(1).toString().contains(QStringLiteral("bad.safetensors")));
    QCOMPARE(window.current_page(), int(MainWindow::StartPageIndex));
    QVERIFY(!window.model());
    QVERIFY(!window.busy());
    // The error box is up but does not block: the event loop (this test) kept running.
    const auto boxes = window.findChildren<QMessageBox*>();
    QCOMPARE(boxes.size(), 1);
    QVERIFY(boxes.front()->text().contains(QStringLiteral("bad.safetensors")));
    close_error_boxes(&window);
  }

  void failed_open_keeps_the_open_model() {
    LOWBIT_QREQUIRE_SHARED(kFixture);
    MainWindow window;
    window.show();
    QSignalSpy opened(&window, &MainWindow::model_opened);
    QSignalSpy failed(&window, &MainWindow::open_failed);
    window.open_path(lowbit::test::shared_path(kFixture));
    QTRY_COMPARE(opened.count(), 1);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(drop_url(window.start_page()->drop_zone(), QUrl::fromLocalFile(dir.path())));  // a folder, no config.json
    QTRY_COMPARE(failed.count(), 1);
    QVERIFY(window.last_error().contains(QDir(dir.path()).dirName()));
    QCOMPARE(window.current_page(), int(MainWindow::ModelPageIndex));
    QCOMPARE(window.model_page()->tensor_table()->model()->rowCount(), 21);
    QVERIFY(window.windowTitle().contains(QStringLiteral("llama-gqa")));
    close_error_boxes(&window);
  }

  void demo_model_comes_from_the_environment() {
    LOWBIT_QREQUIRE_SHARED(kFixture);
    qputenv("LOWBIT_DEMO_MODEL", QFile::encodeName(lowbit::test::shared_path(kFixture)));
    const lowbit::DemoModelLookup lookup = lowbit::find_demo_model();
    QCOMPARE(lookup.searched.value(0), lowbit::test::shared_path(kFixture));  // the environment comes first
    QCOMPARE(lookup.path, lowbit::test::shared_path(kFixture));
    MainWindow window;
    QSignalSpy opened(&window, &MainWindow::model_opened);
    QVERIFY(window.open_demo_model());
    QTRY_COMPARE(opened.count(), 1);
    QCOMPARE(window.model()->name, QStringLiteral("llama-gqa"));
    qunsetenv("LOWBIT_DEMO_MODEL");
  }

  void window_dies_cleanly_while_jobs_run() {
    LOWBIT_QREQUIRE_SHARED(kFixture);
    for (int i = 0; i < 3; ++i) {
      auto window = std::make_unique<MainWindow>();
      window->open_path(lowbit::test::shared_path(kFixture));
      window->open_path(lowbit::test::shared_path(kFixture));  // supersedes the first
      window.reset();  // must wait for the worker, not crash or leak it
    }
  }
};

QTEST_MAIN(StudioOpenTest)
#include "studio_open_test.moc"
