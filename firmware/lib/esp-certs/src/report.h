// One serial line per event, in the exact forms of docs/serial-protocol.md: `esp-certs monitor`
// parses them, so the prefix and field names are a contract.
#pragma once

#include <Arduino.h>

void reportBegin();
// The format string stays in flash (PSTR); the compiler still checks it against the arguments.
#define report(fmt, ...)                              \
  do {                                                \
    if (false) reportFormatCheck(fmt, ##__VA_ARGS__); \
    reportP(PSTR(fmt), ##__VA_ARGS__);                \
  } while (0)

void reportP(const char *fmtInFlash, ...);
inline void reportFormatCheck(const char *, ...) __attribute__((format(printf, 1, 2)));
inline void reportFormatCheck(const char *, ...) {}
