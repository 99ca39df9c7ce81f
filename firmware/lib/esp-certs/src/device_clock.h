// The clock BearSSL checks certificate dates against. NTP when it answers; otherwise
// the header's ESP_CERTS_GENERATED_AT, a floor no valid certificate predates, so a
// device without NTP still connects instead of failing with "expired" (code 54).
#pragma once

#include <stdint.h>
#include <time.h>

class DeviceClock {
 public:
  explicit DeviceClock(time_t floor) : _floor(floor) {}
  // Starts SNTP; returns at once.
  void start();
  // True once the time is decided: NTP answered, or timeoutMs passed since start() and the
  // floor is taken. Prints `time ok` when it decides.
  bool settle(uint32_t timeoutMs);
  // After settle(): prints `time ok ... source=ntp` once, when NTP answers after the floor was taken.
  void poll();
  // Seconds since 1970: NTP time, or the floor plus the time since it was taken. Prints nothing.
  time_t now() const;

 private:
  bool synced() const { return time(nullptr) >= _floor; }

  time_t _floor;
  uint32_t _startedMs = 0;
  // Seconds of uptime by time() when the floor was taken: before SNTP the core's time() counts
  // 64-bit uptime, where millis() would wrap every 49.7 days and set the clock back.
  time_t _floorSetAtUptime = 0;
  bool _settled = false;
  bool _fromNtp = false;
};
