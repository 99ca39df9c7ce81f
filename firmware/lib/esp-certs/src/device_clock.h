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
  // Seconds since 1970: NTP time, or the floor (or the kept clock) plus the time since it was
  // taken. Prints nothing.
  time_t now() const;
  // A wake from deep sleep: the clock the wake before kept (`epoch` at this wake, last set from
  // NTP or the floor `age` s ago), decided at once without SNTP. Prints `time ok ... source=rtc`.
  void resume(time_t epoch, uint32_t age);
  bool settled() const { return _settled; }
  // Seconds since the clock was last set from NTP or the floor, for keeping it across deep sleep:
  // 0 while NTP sets it (SNTP keeps an awake clock right), else the time since it was taken, or
  // since the wake for a kept clock (its age then added).
  uint32_t age() const;

 private:
  bool synced() const { return time(nullptr) >= _floor; }

  time_t _floor;
  uint32_t _startedMs = 0;
  // Seconds of uptime by time() when the floor was taken: before SNTP the core's time() counts
  // 64-bit uptime, where millis() would wrap every 49.7 days and set the clock back.
  time_t _floorSetAtUptime = 0;
  bool _settled = false;
  bool _fromNtp = false;
  // A kept clock (resume()) stands where the floor would: `_base` at `_floorSetAtUptime`.
  time_t _base = 0;
  uint32_t _keptAge = 0;
};
