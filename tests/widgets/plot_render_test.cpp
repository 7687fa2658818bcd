// render_plot: charts drawn into a QPdfWriter page come out as vectors (no image for a curve chart,
// its axis text extractable by pdftotext when poppler-utils is installed; the heatmap's colour map is
// an image by nature), land inside their target rectangle, need no shown widget, and leave a shown
// plot's screen layout as it was.
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QPdfWriter>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <qcustomplot.h>

#include "widgets/plots/curve_plot.h"
#include "widgets/plots/heatmap_plot.h"
#include "widgets/plots/plot_render.h"

using lowbit::CurvePlot;
using lowbit::HeatmapPlot;

namespace {

void fill_curve(CurvePlot& plot) {
  plot.set_axis_labels(QStringLiteral("iteration"), QStringLiteral("window loss"));
  lowbit::SeriesData s;
  s.name = "window 0";
  for (int i = 0; i < 200; ++i) {
    s.x.push_back(i);
    s.y.push_back(1.0 / (1 + i));
  }
  plot.set_series(s);
}

QByteArray read_all(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Writes one A4 page with `draw` and returns the file's bytes.
template <class Draw>
QByteArray pdf_page(const QString& path, Draw draw) {
  QPdfWriter writer(path);
  writer.setPageSize(QPageSize(QPageSize::A4));
  writer.setResolution(300);
  QPainter painter(&writer);
  draw(painter, writer);
  painter.end();
  return read_all(path);
}

}  // namespace

class PlotRenderTest : public QObject {
  Q_OBJECT

 private slots:
  void curve_chart_becomes_a_vector_pdf_page() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    CurvePlot plot;  // never shown
    fill_curve(plot);
    const QString path = dir.filePath(QStringLiteral("curve.pdf"));
    const QByteArray pdf = pdf_page(path, [&](QPainter& p, QPdfWriter& w) {
      const QRectF target(w.width() * 0.1, w.height() * 0.1, w.width() * 0.8, w.height() * 0.3);
      lowbit::render_plot(plot.plot(), &p, target);
    });
    QVERIFY(pdf.startsWith("%PDF"));
    QVERIFY2(pdf.size() > 2000, qPrintable(QString::number(pdf.size())));
    QVERIFY(!pdf.contains("/Subtype /Image"));  // lines and text, not a picture of them

    const QString pdftotext = QStandardPaths::findExecutable(QStringLiteral("pdftotext"));
    if (pdftotext.isEmpty()) QSKIP("pdftotext (poppler-utils) is not installed; the text check is skipped");
    QProcess proc;
    proc.start(pdftotext, {path, QStringLiteral("-")});
    QVERIFY(proc.waitForFinished(30000));
    const QString text = QString::fromUtf8(proc.readAllStandardOutput());
    QVERIFY2(text.contains(QStringLiteral("iteration")), qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("window loss")));
  }

  void heatmap_page_holds_its_colour_map_image() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    HeatmapPlot heatmap;
    lowbit::MatrixData m;
    m.rows = m.cols = 64;
    for (int i = 0; i < 64 * 64; ++i) m.values.push_back(float(1 + i % 17));
    heatmap.set_matrix(std::move(m));
    CurvePlot curve;
    fill_curve(curve);
    const QByteArray pdf = pdf_page(dir.filePath(QStringLiteral("report.pdf")), [&](QPainter& p, QPdfWriter& w) {
      lowbit::render_plot(heatmap.plot(), &p, QRectF(0, 0, w.width() / 2.0, w.height() / 3.0));
      lowbit::render_plot(curve.plot(), &p, QRectF(w.width() / 2.0, 0, w.width() / 2.0, w.height() / 3.0));
    });
    QVERIFY(pdf.startsWith("%PDF"));
    QVERIFY(pdf.contains("/Subtype /Image"));
  }

  void drawing_stays_inside_the_target() {
    CurvePlot plot;
    fill_curve(plot);
    QImage image(400, 300, QImage::Format_ARGB32);
    image.fill(Qt::transparent);
    {
      QPainter p(&image);
      lowbit::render_plot(plot.plot(), &p, QRectF(100, 50, 200, 150), QSize(400, 300));
    }
    auto painted = [&](int x, int y) { return qAlpha(image.pixel(x, y)) != 0; };
    QVERIFY(painted(200, 125));   // the background of the chart
    QVERIFY(!painted(50, 125));   // left of the target
    QVERIFY(!painted(350, 125));  // right of it
    QVERIFY(!painted(200, 20));   // above it
    QVERIFY(!painted(200, 260));  // below it
  }

  void device_resolution_does_not_change_the_picture() {
    // The same target and layout size on a 96-dpi and a 300-dpi image give the same drawing (a PDF
    // page is a high-resolution device; a QPicture would otherwise grow by 300/96 on it).
    CurvePlot plot;
    fill_curve(plot);
    auto draw = [&](int dots_per_meter) {
      QImage image(600, 400, QImage::Format_ARGB32);
      image.setDotsPerMeterX(dots_per_meter);
      image.setDotsPerMeterY(dots_per_meter);
      image.fill(Qt::transparent);
      QPainter p(&image);
      lowbit::render_plot(plot.plot(), &p, QRectF(50, 50, 500, 300), QSize(500, 300));
      return image;
    };
    const QImage screen = draw(3780), print = draw(11811);  // 96 and 300 dpi
    int differing = 0;
    for (int y = 0; y < 400; ++y)
      for (int x = 0; x < 600; ++x) differing += screen.pixel(x, y) != print.pixel(x, y);
    QVERIFY2(differing < 600 * 400 / 50, qPrintable(QString::number(differing)));
  }

  void shown_plot_keeps_its_screen_layout() {
    CurvePlot plot;
    fill_curve(plot);
    plot.resize(500, 340);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.plot()->replot();
    const QRect before = plot.plot()->axisRect()->rect();
    const double pixel = plot.plot()->xAxis->coordToPixel(100);
    QImage image(1200, 400, QImage::Format_ARGB32);
    {
      QPainter p(&image);
      lowbit::render_plot(plot.plot(), &p, QRectF(0, 0, 1200, 400), QSize(1200, 400));
    }
    QCOMPARE(plot.plot()->axisRect()->rect(), before);
    QCOMPARE(plot.plot()->xAxis->coordToPixel(100), pixel);
  }
};

QTEST_MAIN(PlotRenderTest)
#include "plot_render_test.moc"
