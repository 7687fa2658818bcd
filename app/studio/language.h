// The studio's language: English (the source texts) or Simplified Chinese (translations/
// lowbit_zh_CN.ts, compiled by qt_add_translations into the resource :/i18n/lowbit_zh_CN.qm). One
// application-wide QTranslator is installed or removed at run time; Qt then sends
// QEvent::LanguageChange to every widget, and each page re-sets its texts in retranslate(). Qt's own
// texts (standard dialogs) follow when the system has Qt's translations installed (qtbase_*.qm); the
// studio does not depend on them. The choice is kept in QSettings under "language"; with none saved,
// the system locale picks (Chinese → zh_CN), and anything unsupported falls back to English.
#pragma once

#include <QString>
#include <QStringList>

namespace lowbit {

inline constexpr char kLanguageSettingsKey[] = "language";

// The language codes the studio ships, English first: {"en", "zh_CN"}.
QStringList supported_languages();
// The language's own name ("English", "简体中文"), never translated, so a user can always find theirs.
QString language_native_name(const QString& code);
// The supported code for a locale name ("zh_CN", "zh_Hans_SG" → "zh_CN"; "de_DE" → "en").
QString language_for_locale(const QString& locale_name);
// The saved choice, else the system locale's language.
QString saved_language();

// Installs the translations of `code` (removing the previous ones; "en" removes them all) and
// returns false, leaving English, when `code` is unsupported or its .qm cannot be loaded. Needs a
// QCoreApplication. Does not save the choice (apply_language does).
bool set_language(const QString& code);
// The language installed by set_language ("en" before any call).
QString current_language();
// set_language(code) and, when it worked, saves the choice.
bool apply_language(const QString& code);

}  // namespace lowbit
