// What one deep-sleep wake leaves for the next in the ESP8266's user RTC memory, which deep
// sleep keeps powered: the TLS session (the next handshake resumes: no certificate, no
// public-key operation), the record size chosen (no probe), the broker address that worked (no
// name lookup) and the clock (no NTP wait). Layout, checks and bounds: docs/deep-sleep.md.
#pragma once

#include <ESP8266WiFi.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

// What the kept state belongs to: a wake whose owner differs in anything discards it.
struct KeepOwner {
  const char *caSha256;  // ESP_CERTS_CA_SHA256: 64 hex digits
  const uint8_t *certDer;  // the client certificate in use (a renewal changes it)
  size_t certLen;
  const char *host;
  uint16_t port;
  const char *build;  // names the firmware build: another build discards what an older one kept
};

struct Kept {
  BearSSL::Session session;
  bool hasSession = false;
  // The receive buffer's record size once chosen: 512 when the broker agreed to small records,
  // 0 for 16 KiB ones; recordSizeChosen false when nothing was chosen yet.
  uint16_t recordSize = 0;
  bool recordSizeChosen = false;
  uint8_t ip[4] = {0, 0, 0, 0};
  bool hasIp = false;
  // Unix seconds, and seconds since that clock was last set from NTP (or the floor) on a full
  // wake: at save, now; after restore, at the wake (the sleep added).
  bool hasClock = false;
  uint32_t epoch = 0;
  uint32_t age = 0;
};

// The longest a kept clock is trusted: RTC drift over it stays under the hour by which
// esp-certs backdates every certificate (docs/deep-sleep.md).
const uint32_t kKeptMaxAgeSeconds = 12 * 3600;

// True when `session` holds the parameters of a completed handshake (a session id to offer).
bool sessionPresent(const BearSSL::Session &session);

// On a wake from deep sleep: reads what the wake before kept, and when it is valid for `owner`
// fills `kept`, prints `rtc ok ...` and returns true; else prints `rtc fail reason=<word>` and
// returns false. After any other reset RTC memory means nothing: false, and no line.
bool restoreKept(const KeepOwner &owner, Kept &kept);

// Keeps `kept` for the wake after a deep sleep of `sleepUs`; its clock moves on by the sleep.
bool saveKept(const KeepOwner &owner, const Kept &kept, uint64_t sleepUs);
