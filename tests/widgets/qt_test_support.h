// Helpers for the Qt tests (tests/widgets, tests/app/studio): where ../shared is (LOWBIT_SHARED, set
// by ctest) and a skip that names the missing file, as LOWBIT_REQUIRE_SHARED does for GoogleTest.
#pragma once

#include <QDir>
#include <QFileInfo>
#include <QString>
#include <QTest>

namespace lowbit::test {

inline QString shared_path(const QString& relative) {
  const QString root = qEnvironmentVariable("LOWBIT_SHARED", QStringLiteral("../shared"));
  return QDir::cleanPath(QDir(root).absoluteFilePath(relative));
}

}  // namespace lowbit::test

// Skips the current test function with a message when a file or folder of ../shared is missing.
#define LOWBIT_QREQUIRE_SHARED(relative)                                                               \
  do {                                                                                                 \
    if (!QFileInfo::exists(::lowbit::test::shared_path(relative)))                                     \
      QSKIP(qPrintable(QStringLiteral("../shared/%1 is absent; this test needs it").arg(relative)));   \
  } while (0)
