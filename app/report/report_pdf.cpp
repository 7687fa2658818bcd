#include "app/report/report_pdf.h"

#include <QAbstractTextDocumentLayout>
#include <QDateTime>
#include <QFile>
#include <QLocale>
#include <QPainter>
#include <QPdfWriter>
#include <QTextDocument>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/analysis/views_file.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "widgets/plots/bits_bar_chart.h"
#include "widgets/plots/channel_max_plot.h"
#include "widgets/plots/comparison_chart.h"
#include "widgets/plots/curve_plot.h"
#include "widgets/plots/heatmap_plot.h"
#include "widgets/plots/plot_render.h"
#include "widgets/plots/spectrum_plot.h"

namespace lowbit {

namespace {

namespace fs = std::filesystem;

QString qstr(const std::string& s) { return QString::fromStdString(s); }
QString esc(const QString& s) { return s.toHtmlEscaped(); }
QString esc(const std::string& s) { return qstr(s).toHtmlEscaped(); }
QString path_text(const fs::path& p) { return esc(QString::fromStdString(p.string())); }

QString bytes_text(double bytes) {
  const QLocale l;
  if (bytes >= 1024.0 * 1024 * 1024) return l.toString(bytes / (1024.0 * 1024 * 1024), 'f', 2) + QStringLiteral(" GiB");
  if (bytes >= 1024.0 * 1024) return l.toString(bytes / (1024.0 * 1024), 'f', 2) + QStringLiteral(" MiB");
  return l.toString(bytes / 1024.0, 'f', 1) + QStringLiteral(" KiB");
}

const char* const kStyle =
    "body { font-family: 'DejaVu Sans', sans-serif; font-size: 9pt; }"
    "h1 { font-size: 20pt; color: #1f3b63; } h2 { font-size: 13pt; color: #1f3b63; margin-top: 14px; }"
    "table { border-collapse: collapse; } th { background: #e8eef7; text-align: left; padding: 2px 6px; }"
    "td { padding: 2px 6px; border-bottom: 1px solid #dddddd; } .num { text-align: right; }"
    ".muted { color: #666666; }";

// Lays out pages on a QPdfWriter: flowing HTML (paginated by QTextDocument, never splitting a line)
// and charts placed in the remaining space of a page or on a new one.
class PageFlow {
 public:
  PageFlow(QPdfWriter& writer, QPainter& painter) : writer_(writer), painter_(painter) {
    const QRect r = writer_.pageLayout().paintRectPixels(writer_.resolution());
    width_ = r.width();
    height_ = r.height();
  }

  void html(const QString& body) {
    QTextDocument doc;
    doc.setDefaultStyleSheet(QString::fromLatin1(kStyle));
    doc.documentLayout()->setPaintDevice(&writer_);
    doc.setHtml(QStringLiteral("<html><body>") + body + QStringLiteral("</body></html>"));
    doc.setPageSize(QSizeF(width_, height_));
    for (int page = 0; page < doc.pageCount(); ++page) {
      if (page > 0 || used_ > 0) new_page();
      painter_.save();
      painter_.translate(0, -page * height_);
      doc.drawContents(&painter_, QRectF(0, page * height_, width_, height_));
      painter_.restore();
      used_ = height_;  // the next thing starts on a new page
    }
    // Where the last page's text ends, so a chart may follow on the same page.
    const double total = doc.documentLayout()->documentSize().height();
    const double last = total - (doc.pageCount() - 1) * height_;
    used_ = std::min<double>(height_, last + 0.02 * height_);
  }

  // A chart `fraction` of the page tall: below the text when it fits, else on a new page.
  void chart(QCustomPlot* plot, double fraction) {
    const double h = fraction * height_;
    if (used_ + h > height_) {
      new_page();
    }
    render_plot(plot, &painter_, QRectF(0, used_, width_, h), QSize(900, static_cast<int>(900.0 * h / width_)));
    used_ += h + 0.02 * height_;
    ++charts_;
  }

  void new_page() {
    if (pages_ > 0 || used_ > 0) writer_.newPage();
    ++pages_;
    used_ = 0;
  }
  int pages() const { return std::max(1, pages_); }
  int charts() const { return charts_; }

 private:
  QPdfWriter& writer_;
  QPainter& painter_;
  double width_ = 0, height_ = 0, used_ = 0;
  int pages_ = 0, charts_ = 0;
};

QString title_page(const Project& p, const Model* model, const QString& title) {
  const QLocale l;
  QString h = QStringLiteral("<h1>%1</h1>").arg(esc(title));
  h += QStringLiteral("<p class='muted'>Lowbit Studio · %1</p>").arg(esc(l.toString(QDateTime::currentDateTime(), QLocale::LongFormat)));
  h += QStringLiteral("<h2>Model</h2><table>");
  auto row = [&h](const QString& k, const QString& v) { h += QStringLiteral("<tr><th>%1</th><td>%2</td></tr>").arg(k, v); };
  row(QStringLiteral("Checkpoint"), path_text(p.model));
  if (model) {
    row(QStringLiteral("Architecture"), esc(model->config.model_type));
    row(QStringLiteral("Parameters"), l.toString(static_cast<qulonglong>(model->checkpoint->parameter_count())));
    row(QStringLiteral("Size on disk"), bytes_text(static_cast<double>(model->checkpoint->file_bytes())));
    row(QStringLiteral("Blocks"), QString::number(model->config.n_layers));
    row(QStringLiteral("Hidden size"), QString::number(model->config.hidden));
  }
  h += QStringLiteral("</table><h2>Settings</h2><table>");
  if (!p.calibration_file.empty()) {
    row(QStringLiteral("Calibration text"), path_text(p.calibration_file));
    row(QStringLiteral("Calibration windows"), QStringLiteral("%1 × %2 tokens, seed %3")
                                                   .arg(p.calibration.samples)
                                                   .arg(p.calibration.ctx)
                                                   .arg(static_cast<qulonglong>(p.calibration.seed)));
  }
  if (p.plan) {
    if (p.plan->budget_bpw) row(QStringLiteral("Budget"), l.toString(*p.plan->budget_bpw, 'f', 3) + QStringLiteral(" bits per weight"));
    if (p.plan->budget_bytes) row(QStringLiteral("Budget"), bytes_text(static_cast<double>(*p.plan->budget_bytes)));
    QStringList formats;
    for (const auto& f : p.plan->formats) formats << qstr(f);
    row(QStringLiteral("Format menu"), esc(formats.join(QStringLiteral(", "))));
    row(QStringLiteral("Method"), esc(p.plan->method));
  }
  if (!p.analysis_dir.empty()) row(QStringLiteral("Analysis folder"), path_text(p.analysis_dir));
  h += QStringLiteral("</table>");
  return h;
}

QString summary_table(const ProjectComparison& c) {
  const QLocale l;
  QString h = QStringLiteral("<h2>Summary: layouts compared</h2>");
  h += QStringLiteral("<p>Perplexity of <b>%1</b> (strided, context %2); KL divergence against the unquantized model on the same windows.</p>")
           .arg(path_text(c.text))
           .arg(c.ctx);
  h += QStringLiteral("<table><tr><th>Layout</th><th>Method</th><th>File</th><th>Bits/weight</th><th>Perplexity</th>"
                      "<th>Predicted</th><th>KLD</th><th>Top-1</th><th>Time</th></tr>");
  for (const CompareRow& r : c.rows) {
    h += QStringLiteral("<tr><td>%1</td><td>%2</td><td class='num'>%3</td><td class='num'>%4</td><td class='num'>%5</td>"
                        "<td class='num'>%6</td><td class='num'>%7</td><td class='num'>%8</td><td class='num'>%9 s</td></tr>")
             .arg(esc(r.name), QString::fromLatin1(quant_method_name(r.method)),
                  r.file_bytes ? bytes_text(static_cast<double>(*r.file_bytes)) : QStringLiteral("—"),
                  l.toString(r.bits_per_weight, 'f', 3), l.toString(r.ppl, 'f', 4),
                  r.predicted_ppl ? l.toString(*r.predicted_ppl, 'f', 4) : QString(),
                  r.kld ? l.toString(r.kld->mean, 'f', 5) : QString(),
                  r.kld ? l.toString(100.0 * r.kld->top1_agreement, 'f', 2) + QLatin1Char('%') : QString(),
                  l.toString(r.seconds, 'f', 1));
  }
  return h + QStringLiteral("</table>");
}

// The [rows, cols] a format sees for a stored tensor (gpt2's Conv1D weights are stored [in, out]).
std::pair<int64_t, int64_t> quantized_shape(const Checkpoint& ck, const ModelConfig* config, const std::string& name) {
  const TensorInfo* t = ck.find(name);
  if (!t || t->shape.size() != 2) return {0, 0};
  const bool conv1d = config && config->conv1d_weights && name.find("wte") == std::string::npos &&
                      name.find("lm_head") == std::string::npos;
  return conv1d ? std::pair{t->shape[1], t->shape[0]} : std::pair{t->shape[0], t->shape[1]};
}

struct LayoutBits {
  BitsData chart;
  QString table;
};

LayoutBits layout_bits(const ProjectLayout& pl, const Model* model, int max_rows, QStringList& warnings) {
  LayoutBits out;
  out.chart.title = pl.name;
  const QLocale l;
  QString& h = out.table;
  h = QStringLiteral("<h2>Layout “%1” (%2)</h2>").arg(esc(pl.name), QString::fromLatin1(quant_method_name(pl.layout.method)));
  h += QStringLiteral("<table><tr><th>Tensor</th><th>Shape</th><th>Format</th><th>Bits/weight</th><th>Bytes</th></tr>");
  int rows = 0;
  for (const auto& [name, format] : pl.layout.tensors) {
    int64_t r = 0, c = 0;
    if (model) std::tie(r, c) = quantized_shape(*model->checkpoint, &model->config, name);
    const double bpw = r > 0 ? format.bits_per_weight(r, c) : 0;
    TensorBits tb;
    tb.name = name;
    tb.format = format.name();
    tb.bits_per_weight = bpw;
    const auto blk = name.find("layers.");
    const auto h_pos = name.find(".h.");
    if (blk != std::string::npos) tb.block = std::atoi(name.c_str() + blk + 7);
    else if (h_pos != std::string::npos) tb.block = std::atoi(name.c_str() + h_pos + 3);
    out.chart.tensors.push_back(tb);
    if (++rows > max_rows) continue;
    h += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td class='num'>%4</td><td class='num'>%5</td></tr>")
             .arg(esc(name), r > 0 ? QStringLiteral("%1 × %2").arg(r).arg(c) : QStringLiteral("?"), esc(format.name()),
                  r > 0 ? l.toString(bpw, 'f', 3) : QString(),
                  r > 0 ? l.toString(static_cast<qulonglong>(format.bytes(r, c))) : QString());
  }
  h += QStringLiteral("</table>");
  if (rows > max_rows) {
    h += QStringLiteral("<p class='muted'>%1 more tensors are not listed.</p>").arg(rows - max_rows);
    warnings << QStringLiteral("layout '%1': table cut at %2 rows").arg(qstr(pl.name)).arg(max_rows);
  }
  // File order (blocks ascending) reads better in the chart than the map's name order.
  std::stable_sort(out.chart.tensors.begin(), out.chart.tensors.end(),
                   [](const TensorBits& a, const TensorBits& b) { return a.block < b.block; });
  if (pl.layout.predicted.is_object() && pl.layout.predicted.contains("bits_per_weight") &&
      pl.layout.predicted["bits_per_weight"].is_number())
    out.chart.target_bpw = pl.layout.predicted["bits_per_weight"].get<double>();
  return out;
}

// What `lowbit analyze` measured (calibration.json of the analysis folder), as a table.
QString analysis_section(const fs::path& dir, QStringList& warnings) {
  const fs::path file = dir / "calibration.json";
  auto text = read_text_file(file);
  if (!text) {
    warnings << QStringLiteral("analysis: %1").arg(qstr(text.error().message));
    return {};
  }
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.contains("inputs") || !j["inputs"].is_array()) {
    warnings << QStringLiteral("analysis: %1 is not a calibration summary").arg(QString::fromStdString(file.string()));
    return {};
  }
  QString h = QStringLiteral("<h2>Analysis: inputs of the linear layers</h2>");
  h += QStringLiteral("<p>Per block and input: the Hessian trace, the mean of the per-channel mean |x|, the largest max |x| "
                      "and the channels beyond the upper interquartile fence of max |x|.</p>");
  h += QStringLiteral("<table><tr><th>Block</th><th>Input</th><th>Channels</th><th>tr H</th><th>mean |x|</th><th>max |x|</th>"
                      "<th>Outlier channels</th></tr>");
  const QLocale l;
  for (const auto& s : j["inputs"]) {
    if (!s.is_object()) continue;
    auto num = [&s](const char* k) { return s.contains(k) && s[k].is_number() ? s[k].get<double>() : 0.0; };
    const auto outliers = s.contains("outlier_channels") && s["outlier_channels"].is_array() ? s["outlier_channels"].size() : 0;
    const std::string input = s.contains("input") && s["input"].is_string() ? s["input"].get<std::string>() : "?";
    h += QStringLiteral("<tr><td>%1</td><td>%2</td><td class='num'>%3</td><td class='num'>%4</td><td class='num'>%5</td>"
                        "<td class='num'>%6</td><td class='num'>%7</td></tr>")
             .arg(static_cast<qlonglong>(num("block")))
             .arg(esc(input))
             .arg(static_cast<qlonglong>(num("channels")))
             .arg(l.toString(num("hessian_trace"), 'g', 5), l.toString(num("mean_abs_mean"), 'g', 4), l.toString(num("max_abs_max"), 'g', 4))
             .arg(static_cast<qulonglong>(outliers));
  }
  return h + QStringLiteral("</table>");
}

// The views of `lowbit analyze --views` (views.json in the analysis folder), when there are any: |H|
// of the layer whose Hessian gains the most off-diagonal mass at the lowest bit width, at full
// precision and at that width, with the spectra of every level; the channel maxima of the layer input
// with the most outlier channels, with its fences; kurtosis per block and part.
void analysis_figures(PageFlow& flow, const fs::path& dir, QStringList& warnings) {
  std::error_code ec;
  if (!fs::exists(dir / "views.json", ec)) return;
  auto views = ViewsFile::open(dir);
  if (!views) {
    warnings << QStringLiteral("analysis views: %1").arg(qstr(views.error().message));
    return;
  }
  const ViewsData& d = views->data();
  if (d.hessian && !d.hessian->layers.empty()) {
    const std::vector<std::string>& levels = d.hessian->levels;
    const std::string low = levels.size() > 1 ? levels[1] : levels.front();
    const HessianSummary* pick = nullptr;
    for (const HessianSummary& s : d.hessian->layers)
      if (s.level == low && (!pick || s.offdiag_mass > pick->offdiag_mass)) pick = &s;
    if (pick) {
      const QString input = QString::fromLatin1(linear_input_name(pick->input));
      flow.html(QStringLiteral("<h2>Hessian of block %1, %2 input</h2><p>|H| at full precision and with the earlier blocks at "
                               "%3 (the layer whose Hessian has the most off-diagonal mass there: %4), then the eigenvalue "
                               "spectra of every level.</p>")
                    .arg(pick->block)
                    .arg(esc(input.toStdString()), esc(low), QLocale().toString(pick->offdiag_mass, 'g', 4)));
      std::vector<SeriesData> spectra;
      for (const std::string& level : levels) {
        if (auto e = views->hessian_eigenvalues(pick->block, pick->input, level))
          spectra.push_back(sorted_spectrum(level, std::vector<double>(e->begin(), e->end())));
        if (level != "fp" && level != low) continue;
        auto h = views->hessian(pick->block, pick->input, level);
        if (!h) {
          warnings << QStringLiteral("analysis views: %1").arg(qstr(h.error().message));
          continue;
        }
        MatrixData m;
        m.rows = m.cols = pick->channels;
        m.values = std::move(*h);
        m.title = "|H|, " + (level == "fp" ? std::string("full precision") : "earlier blocks at " + level.substr(1) + " bits");
        HeatmapPlot plot;
        plot.set_matrix(std::move(m));
        flow.chart(plot.plot(), 0.4);
      }
      SpectrumPlot spectrum;
      spectrum.set_spectra(std::move(spectra));
      flow.chart(spectrum.plot(), 0.3);
    }
  }
  if (d.outliers && !d.outliers->inputs.empty()) {
    const InputOutliers* pick = &d.outliers->inputs.front();
    for (const InputOutliers& in : d.outliers->inputs)
      if (in.outlier_count > pick->outlier_count) pick = &in;
    const QString input = QString::fromLatin1(linear_input_name(pick->input));
    flow.html(QStringLiteral("<h2>Outliers</h2><p>Largest |x| per channel of block %1's %2 input (%3 outlier channels "
                             "beyond the fences), then the kurtosis of every weight matrix by block.</p>")
                  .arg(pick->block)
                  .arg(esc(input.toStdString()))
                  .arg(static_cast<qlonglong>(pick->outlier_count)));
    if (auto max_abs = views->max_abs(pick->block, pick->input)) {
      ChannelMaxData data;
      data.max_abs = std::move(*max_abs);
      data.coarse_fence = pick->cfp.coarse_threshold;
      data.fine_threshold = pick->cfp.threshold;
      data.outliers = pick->cfp.outliers;
      ChannelMaxPlot plot;
      plot.set_log_y(true);
      plot.set_channels(std::move(data));
      flow.chart(plot.plot(), 0.3);
    }
    CurvePlot kurtosis;
    kurtosis.set_axis_labels(QStringLiteral("block"), QStringLiteral("kurtosis"));
    for (const SeriesData& s : kurtosis_by_part(d.outliers->weights)) kurtosis.set_series(s);
    flow.chart(kurtosis.plot(), 0.3);
  }
}

QString exports_section(const Project& p) {
  const QLocale l;
  QString h;
  if (!p.exports.empty()) {
    h += QStringLiteral("<h2>Exports</h2><table><tr><th>File</th><th>Format</th><th>Layout</th><th>Size</th><th>Bits/weight</th>"
                        "<th>Time</th></tr>");
    for (const ProjectExport& e : p.exports)
      h += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td class='num'>%4</td><td class='num'>%5</td><td class='num'>%6 s</td></tr>")
               .arg(path_text(e.path), esc(e.to), esc(e.layout), bytes_text(static_cast<double>(e.bytes)),
                    l.toString(e.bits_per_weight, 'f', 3), l.toString(e.seconds, 'f', 1));
    h += QStringLiteral("</table>");
  }
  h += QStringLiteral("<h2>Warnings and notes</h2>");
  if (p.notes.empty()) return h + QStringLiteral("<p class='muted'>None.</p>");
  h += QStringLiteral("<ul>");
  for (const auto& n : p.notes) h += QStringLiteral("<li>%1</li>").arg(esc(n));
  return h + QStringLiteral("</ul>");
}

}  // namespace

Expected<ReportSummary> write_report_pdf(const Project& project, const fs::path& out, const ReportOptions& options,
                                         Progress* progress, const CancelToken* cancel) {
  Progress none;
  Progress& prog = progress ? *progress : none;
  std::error_code dir_ec;
  if (out.empty() || !out.has_filename() || fs::is_directory(out, dir_ec))
    return make_error(ErrorCode::InvalidArgument, "'" + out.string() + "': the report needs a file name to write (OUT.pdf)");
  ReportSummary summary;
  summary.path = out;
  auto cancelled = [cancel] { return cancel && cancel->cancelled(); };
  prog.report(0, "reading the model");
  auto model = open_model(project.model, false);
  if (!model) summary.warnings << QStringLiteral("model: %1").arg(qstr(model.error().message));
  const Model* m = model ? &*model : nullptr;
  const QString name = QString::fromStdString(project.model.filename().empty() ? project.model.parent_path().filename().string()
                                                                                : project.model.filename().string());
  const QString title = options.title.isEmpty() ? QStringLiteral("Quantization report: %1").arg(name) : options.title;

  fs::path temp = out;
  temp += ".partial";
  const QString temp_name = QFile::decodeName(temp.c_str());
  {
    QPdfWriter writer(temp_name);
    writer.setTitle(title);
    writer.setCreator(QStringLiteral("Lowbit Studio"));
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setPageMargins(QMarginsF(16, 16, 16, 16), QPageLayout::Millimeter);
    writer.setResolution(300);
    QPainter painter;
    if (!painter.begin(&writer)) return make_error(ErrorCode::Io, out.string() + ".partial: cannot be created");
    PageFlow flow(writer, painter);
    flow.html(title_page(project, m, title));
    prog.report(0.2, "summary");

    if (project.comparison && !project.comparison->rows.empty()) {
      flow.html(summary_table(*project.comparison));
      ComparisonChart chart;
      chart.set_comparison(comparison_data(project.comparison->rows, "Size against perplexity"));
      flow.chart(chart.plot(), 0.45);
    }
    if (cancelled()) {
      painter.end();
      QFile::remove(temp_name);
      return make_error(ErrorCode::Cancelled, "report: cancelled");
    }
    prog.report(0.4, "layouts");
    for (const ProjectLayout& pl : project.layouts) {
      LayoutBits lb = layout_bits(pl, m, options.max_layout_rows, summary.warnings);
      BitsBarChart chart;
      chart.set_bits(lb.chart);
      flow.html(lb.table);
      flow.chart(chart.plot(), 0.35);
      if (cancelled()) {
        painter.end();
        QFile::remove(temp_name);
        return make_error(ErrorCode::Cancelled, "report: cancelled");
      }
    }
    prog.report(0.7, "analysis");
    if (!project.analysis_dir.empty()) {
      const QString a = analysis_section(project.analysis_dir, summary.warnings);
      if (!a.isEmpty()) flow.html(a);
      analysis_figures(flow, project.analysis_dir, summary.warnings);
    }
    flow.html(exports_section(project));
    summary.pages = flow.pages();
    summary.charts = flow.charts();
    if (!painter.end()) {
      QFile::remove(temp_name);
      return make_error(ErrorCode::Io, out.string() + ".partial: writing the PDF failed");
    }
  }
  std::error_code ec;
  fs::rename(temp, out, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temp, ec);
    return make_error(ErrorCode::Io, out.string() + ": cannot rename into place: " + why);
  }
  prog.report(1, "done");
  return summary;
}

}  // namespace lowbit
