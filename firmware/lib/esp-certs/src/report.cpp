#include "report.h"

#include <Arduino.h>
#include <stdarg.h>
#include <stdio.h>

void reportBegin() {
  Serial.begin(115200);
  // The ROM prints its 74880-baud boot banner without a final newline: start clean.
  Serial.println();
}

void report(const char *fmt, ...) {
  char line[224];
  int n = snprintf(line, sizeof line, "[esp-certs] ");
  va_list args;
  va_start(args, fmt);
  vsnprintf(line + n, sizeof line - n, fmt, args);
  va_end(args);
  Serial.println(line);
}
