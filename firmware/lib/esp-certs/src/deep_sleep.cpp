// EspCerts across deep sleep: what a wake keeps for the next, and takes back from the one
// before (docs/deep-sleep.md; the RTC memory image: rtc_keep.h).
#include <Arduino.h>

#include "EspCerts.h"
#include "report.h"

KeepOwner EspCerts::keepOwner() const {
  const br_x509_certificate &cert = _cred.cert->getX509Certs()[0];
  return {_config.caSha256, cert.data, cert.data_len, _config.host, _config.port, _config.build};
}

// In begin(), with the identity loaded: on a wake from deep sleep, what the wake before kept.
void EspCerts::takeKept() {
  Kept kept;
  if (!restoreKept(keepOwner(), kept)) return;
  if (kept.hasSession) _session = kept.session;
  if (kept.recordSizeChosen) {
    _recordSizeChosen = true;
    _recordSize = kept.recordSize;
    if (_recordSize != 0) _tls.setBufferSizes(_recordSize, _recordSize);
    else _tls.setBufferSizes(16384, 512);
  }
  if (kept.hasIp) {
    _brokerIp = IPAddress(kept.ip[0], kept.ip[1], kept.ip[2], kept.ip[3]);
    // Also the fallback should the name be looked up later and fail.
    _broker.setLastGood(_brokerIp);
    _keptAddress = true;
  }
  if (kept.hasClock) {
    _clock.resume(kept.epoch, kept.age);
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
    IPAddress ip = _broker.lastGood();
    for (int i = 0; i < 4; i++) kept.ip[i] = ip[i];
    kept.hasIp = ip.isSet();
    kept.hasClock = _clockSet;
    kept.epoch = (uint32_t)_clock.now();
    kept.age = _clock.age();
    saveKept(keepOwner(), kept, us);
  }
  report("sleep ms=%lu us=%llu", (unsigned long)millis(), (unsigned long long)us);
  Serial.flush();
  ESP.deepSleep(us);
}
