#include "device_clock.h"

#include <Arduino.h>

#include "report.h"

// Before SNTP answers, time() counts from 1970 at boot, so anything below the floor
// means "not synchronised yet".
void DeviceClock::begin(uint32_t timeoutMs) {
  configTime(0, 0, "pool.ntp.org", "time.nist.gov");
  uint32_t start = millis();
  while (time(nullptr) < _floor && millis() - start < timeoutMs) delay(100);
  _fromNtp = time(nullptr) >= _floor;
  _floorSetAtUptime = time(nullptr);
  report("time ok epoch=%lld source=%s", (long long)now(), _fromNtp ? "ntp" : "floor");
}

time_t DeviceClock::now() {
  if (!_fromNtp && time(nullptr) >= _floor) {
    // NTP answered late: from now on the real time is used, and the monitor is told.
    _fromNtp = true;
    report("time ok epoch=%lld source=ntp", (long long)time(nullptr));
  }
  if (_fromNtp) return time(nullptr);
  return _floor + (time(nullptr) - _floorSetAtUptime);
}
