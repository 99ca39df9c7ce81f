// EspCerts across deep sleep: what a wake keeps for the next, and takes back from the one
// before (docs/deep-sleep.md; the RTC memory image: rtc_keep.h).
#include <Arduino.h>
#include <stdio.h>

#include "EspCerts.h"
#include "report.h"

KeepOwner EspCerts::keepOwner() const {
  const br_x509_certificate &cert = _cred.cert->getX509Certs()[0];
  return {_config.caSha256, cert.data, cert.data_len, _config.host, _config.port, _config.build};
}

// In begin(), with the identity loaded: on a wake from deep sleep, what the wake before kept.
void EspCerts::takeKept() {
  if (!restoreKept(keepOwner(), _kept)) return;
  if (_kept.hasSession) _session = _kept.session;
  if (_kept.recordSizeChosen) {
    _recordSizeChosen = true;
    _recordSize = _kept.recordSize;
    if (_recordSize != 0) _tls.setBufferSizes(_recordSize, _recordSize);
    else _tls.setBufferSizes(16384, 512);
  }
  if (_kept.hasIp) {
    _keptAddress = true;
    snprintf(_keptDial, sizeof _keptDial, "%u.%u.%u.%u", _kept.ip[0], _kept.ip[1], _kept.ip[2], _kept.ip[3]);
  }
  if (_kept.hasClock) {
    _clock.resume(_kept.epoch, _kept.age);
    _clockSet = true;
  }
}

// The kept address or record size did not work (no broker there any more, or one that will not
// keep records small): forget them and go the long way now, lookup and probe included. Not a
// failure line: the long way reports its own.
void EspCerts::keptFailed() {
  report("rtc fail reason=stale");
  _tls.stop();
  _keptAddress = false;
  _recordSizeChosen = false;
  _retryAt = millis();
  enter(State::name);
}

void EspCerts::sleepFor(uint64_t us) {
  // Longer than the RTC timer can count, the chip would never wake.
  uint64_t longest = ESP.deepSleepMax();
  if (us > longest) us = longest;
  if (_mqtt.connected()) _mqtt.disconnect();
  _tls.stop();  // a completed handshake leaves its session in _session
  if (_cred.source != CredSource::none) {
    Kept kept;
    kept.session = _session;
    kept.hasSession = sessionPresent(_session);
    kept.recordSizeChosen = _recordSizeChosen;
    kept.recordSize = _recordSize;
    IPAddress ip = _hasLastGood ? _lastGood : IPAddress(_kept.ip[0], _kept.ip[1], _kept.ip[2], _kept.ip[3]);
    kept.hasIp = _hasLastGood || _keptAddress;
    for (int i = 0; i < 4; i++) kept.ip[i] = ip[i];
    kept.hasClock = _clockSet;
    kept.epoch = (uint32_t)_clock.now();
    kept.age = _clock.age();
    saveKept(keepOwner(), kept, us);
  }
  report("sleep ms=%lu us=%llu", (unsigned long)millis(), (unsigned long long)us);
  Serial.flush();
  ESP.deepSleep(us);
}
