#include "app/studio/language.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QPointer>
#include <QSettings>
#include <QTranslator>

namespace lowbit {

namespace {

// Owned by the application object; QPointer notices a QCoreApplication that was destroyed and
// recreated (as some tests do).
QPointer<QTranslator> g_studio;
QPointer<QTranslator> g_qt;
QString g_current = QStringLiteral("en");

void remove_translator(QPointer<QTranslator>& t) {
  if (!t) return;
  QCoreApplication::removeTranslator(t);
  delete t;
}

}  // namespace

QStringList supported_languages() { return {QStringLiteral("en"), QStringLiteral("zh_CN")}; }

QString language_native_name(const QString& code) {
  if (code == QLatin1String("zh_CN")) return QStringLiteral("简体中文");
  return QStringLiteral("English");
}

QString language_for_locale(const QString& locale_name) {
  const QLocale locale(locale_name);
  // Simplified Chinese wherever the script is (or defaults to) Han Simplified: China, Singapore.
  if (locale.language() == QLocale::Chinese && locale.script() != QLocale::TraditionalHanScript)
    return QStringLiteral("zh_CN");
  return QStringLiteral("en");
}

QString saved_language() {
  const QString saved = QSettings().value(QLatin1String(kLanguageSettingsKey)).toString();
  if (supported_languages().contains(saved)) return saved;
  return language_for_locale(QLocale::system().name());
}

bool set_language(const QString& code) {
  if (!QCoreApplication::instance() || !supported_languages().contains(code)) return false;
  if (code == g_current && (code == QLatin1String("en") || g_studio)) return true;
  remove_translator(g_studio);
  remove_translator(g_qt);
  g_current = QStringLiteral("en");
  // removeTranslator and installTranslator each send QEvent::LanguageChange to the application,
  // which passes it on to every window.
  if (code == QLatin1String("en")) return true;
  auto* studio = new QTranslator(QCoreApplication::instance());
  if (!studio->load(QStringLiteral(":/i18n/lowbit_%1.qm").arg(code))) {
    delete studio;
    return false;
  }
  // Qt's own texts, where the system has them; optional.
  auto* qt = new QTranslator(QCoreApplication::instance());
  if (qt->load(QStringLiteral("qtbase_%1").arg(code), QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
    QCoreApplication::installTranslator(qt);
    g_qt = qt;
  } else {
    delete qt;
  }
  QCoreApplication::installTranslator(studio);
  g_studio = studio;
  g_current = code;
  return true;
}

QString current_language() { return g_studio || g_current == QLatin1String("en") ? g_current : QStringLiteral("en"); }

bool apply_language(const QString& code) {
  if (!set_language(code)) return false;
  QSettings().setValue(QLatin1String(kLanguageSettingsKey), code);
  return true;
}

}  // namespace lowbit
