#include "device_clock.h"

#include <Arduino.h>

#include "report.h"

void DeviceClock::start() {
  configTime(0, 0, "pool.ntp.org", "time.nist.gov");
  _startedMs = millis();
  _settled = false;
  _fromNtp = false;
}

// Before SNTP answers, time() counts from 1970 at boot, so anything below the floor
// means "not synchronised yet".
bool DeviceClock::settle(uint32_t timeoutMs) {
  if (_settled) return true;
  _fromNtp = synced();
  if (!_fromNtp && millis() - _startedMs < timeoutMs) return false;
  _settled = true;
  _floorSetAtUptime = time(nullptr);
  _base = _floor;
  _keptAge = 0;
  report("time ok epoch=%lld source=%s", (long long)now(), _fromNtp ? "ntp" : "floor");
  return true;
}

void DeviceClock::poll() {
  if (!_settled || _fromNtp || !synced()) return;
  // NTP answered late: from now on the real time is used, and the monitor is told.
  _fromNtp = true;
  report("time ok epoch=%lld source=ntp", (long long)time(nullptr));
}

time_t DeviceClock::now() const {
  if (synced()) return time(nullptr);
  return _base + (time(nullptr) - _floorSetAtUptime);
}

void DeviceClock::resume(time_t epoch, uint32_t age) {
  _settled = true;
  _fromNtp = false;
  _base = epoch;
  _keptAge = age;
  _floorSetAtUptime = time(nullptr);
  report("time ok epoch=%lld source=rtc", (long long)now());
}

uint32_t DeviceClock::age() const {
  if (synced()) return 0;
  return _keptAge + (uint32_t)(time(nullptr) - _floorSetAtUptime);
}
