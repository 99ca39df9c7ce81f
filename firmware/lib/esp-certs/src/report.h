// One serial line per event, in the exact forms of docs/serial-protocol.md: `esp-certs monitor`
// parses them, so the prefix and field names are a contract.
#pragma once

void reportBegin();
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
