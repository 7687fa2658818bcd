// The PDF report (`lowbit report PROJECT.lowbit --pdf OUT.pdf`, and the studio's Export page): what
// was done to a model and what it measured, from a project file. Pages: a title page (model,
// architecture, parameters, size, calibration and plan settings, date), the summary table of the
// compared layouts, the size-vs-perplexity chart, per layout the bits of every tensor as a chart and
// as a table, the analysis figures found in the project's analysis folder, and the exports with
// their timings and the warnings. Text is laid out by QTextDocument (selectable in the PDF, so
// pdftotext reads it) and charts are drawn by the studio's own plot widgets as vectors (render_plot).
// Needs a QGuiApplication (QApplication for the chart widgets); the writer makes nothing global.
// The file is written to OUT.partial and renamed at the end: cancel or failure leave no file.
#pragma once

#include <QString>
#include <QStringList>
#include <filesystem>

#include "core/io/project_file.h"
#include "core/jobs/progress.h"

namespace lowbit {

struct ReportOptions {
  QString title;          // empty: "Quantization report: <model>"
  int max_layout_rows = 2000;  // a longer layout table is cut, saying so
};

struct ReportSummary {
  std::filesystem::path path;
  int pages = 0;
  int charts = 0;
  QStringList warnings;   // what the report could not include (missing analysis files, …)
};

Expected<ReportSummary> write_report_pdf(const Project& project, const std::filesystem::path& out,
                                         const ReportOptions& options = {}, Progress* progress = nullptr,
                                         const CancelToken* cancel = nullptr);

}  // namespace lowbit
