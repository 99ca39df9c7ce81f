// The clock BearSSL checks certificate dates against. NTP when it answers; otherwise
// the header's ESP_CERTS_GENERATED_AT, a floor no valid certificate predates, so a
// device without NTP still connects instead of failing with "expired" (code 54).
#pragma once

#include <stdint.h>
#include <time.h>

class DeviceClock {
 public:
  explicit DeviceClock(time_t floor) : _floor(floor) {}
  // Starts SNTP and waits up to timeoutMs for a time at or after the floor.
  void begin(uint32_t timeoutMs);
  // Seconds since 1970: NTP time, or the floor plus the time since begin() gave up on NTP.
  time_t now();
  bool fromNtp() const { return _fromNtp; }

 private:
  time_t _floor;
  // Seconds of uptime by time() when the floor was taken: before SNTP the core's time() counts
  // 64-bit uptime, where millis() would wrap every 49.7 days and set the clock back.
  time_t _floorSetAtUptime = 0;
  bool _fromNtp = false;
};
