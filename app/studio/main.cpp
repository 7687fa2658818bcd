// lowbit-studio: the desktop studio. `lowbit-studio [MODEL]` opens the window (and MODEL, if given);
// `lowbit-studio --tour DIR [--model PATH]` saves a screenshot of every page into DIR and exits.
#include <QApplication>
#include <QCommandLineParser>
#include <QStyleFactory>
#include <QTextStream>

#include "app/studio/main_window.h"
#include "app/studio/studio_settings.h"
#include "app/studio/tour.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("Lowbit"));
  QApplication::setApplicationName(QStringLiteral("Lowbit Studio"));
  QApplication::setApplicationVersion(QStringLiteral(LOWBIT_VERSION));
  QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
  lowbit::apply_saved_settings();  // the language (before any text is made) and the thread count

  QCommandLineParser parser;
  parser.setApplicationDescription(QApplication::translate("main", "A desktop studio for compressing language models."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption tour({QStringLiteral("tour")},
                                QApplication::translate("main", "Save a screenshot of every page into DIR, then exit."),
                                QStringLiteral("DIR"));
  const QCommandLineOption model({QStringLiteral("model")},
                                 QApplication::translate("main", "The model to open (default for --tour: the demo model)."),
                                 QStringLiteral("PATH"));
  parser.addOption(tour);
  parser.addOption(model);
  parser.addPositionalArgument(QStringLiteral("MODEL"), QApplication::translate("main", "A checkpoint folder, .safetensors or .gguf file."),
                               QStringLiteral("[MODEL]"));
  parser.process(app);
  QString model_path = parser.value(model);
  if (model_path.isEmpty() && !parser.positionalArguments().isEmpty()) model_path = parser.positionalArguments().front();

  lowbit::MainWindow window;
  if (parser.isSet(tour)) {
    lowbit::StudioTour studio_tour(&window, parser.value(tour), model_path);
    QObject::connect(&studio_tour, &lowbit::StudioTour::finished, &app, [](int code) { QApplication::exit(code); },
                     Qt::QueuedConnection);
    studio_tour.start();
    return QApplication::exec();
  }
  window.show();
  if (!model_path.isEmpty()) window.open_path(model_path);
  return QApplication::exec();
}
