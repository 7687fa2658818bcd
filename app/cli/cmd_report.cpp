// lowbit report PROJECT.lowbit --pdf OUT.pdf [--title TEXT]
// The PDF report of a project (app/report/report_pdf.h). It draws its charts with the studio's Qt
// widgets, so it exists in builds with the GUI (LOWBIT_GUI=ON); without a display it renders
// offscreen.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/terminal_progress.h"
#include "core/io/project_file.h"

#ifdef LOWBIT_HAVE_REPORT
#include <QApplication>

#include "app/report/report_pdf.h"
#endif

namespace lowbit::cli {

int run_report(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv, {{"pdf", "title"}, {"json", "quiet"}, {}}, err);
  const bool json = args && args->flag("json");
  if (!args) return usage_error("report", err, json);
  if (args->positional().size() != 1) return usage_error("report", "expects one PROJECT.lowbit", json);
  if (auto clash = args->output_clash({"pdf"}, {}); !clash.empty()) return usage_error("report", clash, json);
  const auto pdf = args->get("pdf");
  if (!pdf) return usage_error("report", "--pdf OUT.pdf is required", json);
  auto project = read_project(args->positional()[0]);
  if (!project) return fail(project.error(), json);
#ifdef LOWBIT_HAVE_REPORT
  // The chart widgets need a QApplication; with no display it runs on the offscreen platform.
  if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY") && !std::getenv("QT_QPA_PLATFORM"))
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
  if (!std::getenv("XDG_RUNTIME_DIR")) {  // Qt would make the same private folder, with a warning on stderr
    const std::string runtime = "/tmp/runtime-" + std::to_string(::getuid());
    if (::mkdir(runtime.c_str(), 0700) == 0 || errno == EEXIST) setenv("XDG_RUNTIME_DIR", runtime.c_str(), 1);
  }
  int qargc = 1;
  char name[] = "lowbit";
  char* qargv[] = {name, nullptr};
  QApplication app(qargc, qargv);
  TerminalProgress term(args->flag("quiet"));
  Progress progress = term.sink();
  ReportOptions options;
  if (auto t = args->get("title")) options.title = QString::fromStdString(*t);
  auto r = write_report_pdf(*project, *pdf, options, &progress, &interrupt_token());
  term.finish();
  if (!r) return fail(r.error(), json);
  std::vector<std::string> warnings;
  for (const QString& w : r->warnings) warnings.push_back(w.toStdString());
  if (json) {
    print_json({{"ok", true}, {"pdf", r->path.string()}, {"pages", r->pages}, {"charts", r->charts}, {"warnings", warnings}});
    return kOk;
  }
  for (const auto& w : warnings) std::fprintf(stderr, "lowbit: warning: %s\n", w.c_str());
  std::printf("wrote %s: %d pages, %d charts\n", r->path.string().c_str(), r->pages, r->charts);
  return kOk;
#else
  return fail({ErrorCode::Unsupported, "this build has no PDF report (it needs the Qt GUI: configure with LOWBIT_GUI=ON)"}, json);
#endif
}

}  // namespace lowbit::cli
