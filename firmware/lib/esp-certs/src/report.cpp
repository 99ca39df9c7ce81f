#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

namespace {

const char kPrefix[] = "[esp-certs] ";
// Long enough for the longest boot line (a 64-character client id, a 253-character host).
const size_t kLineSize = 400;
// Ends a line that did not fit, so a reader knows fields are missing.
const char kCut[] = "...";

}  // namespace

void reportBegin() {
  Serial.begin(115200);
  // The ROM prints its 74880-baud boot banner without a final newline: start clean.
  Serial.println();
}

void reportP(const char *fmtInFlash, ...) {
  char line[kLineSize];
  size_t n = sizeof kPrefix - 1;
  memcpy(line, kPrefix, n);
  va_list args;
  va_start(args, fmtInFlash);
  int wanted = vsnprintf_P(line + n, sizeof line - n, fmtInFlash, args);
  va_end(args);
  if (wanted >= 0 && (size_t)wanted >= sizeof line - n) memcpy(line + sizeof line - sizeof kCut, kCut, sizeof kCut);
  Serial.println(line);
}
