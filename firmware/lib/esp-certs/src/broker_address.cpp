#include "broker_address.h"

#include <Arduino.h>

#include "report.h"

BrokerAddress::BrokerAddress(const char *host, const char *configured) : _host(host) {
  // esp-certs checked the header's value; an unreadable one is no fallback.
  if (!_configured.fromString(configured)) _configured = IPAddress();
}

bool BrokerAddress::fallback(uint8_t which, IPAddress &out) const {
  out = which == 0 ? _lastGood : _configured;
  return out.isSet();
}

bool BrokerAddress::find(IPAddress &out, uint32_t timeoutMs) {
  uint32_t start = millis();
  IPAddress ip;
  if (WiFi.hostByName(_host, ip, timeoutMs) && ip.isSet()) {
    report("dns ok host=%s ip=%u.%u.%u.%u ms=%lu", _host, ip[0], ip[1], ip[2], ip[3], (unsigned long)(millis() - start));
    out = _current = ip;
    _currentIsFallback = false;
    return true;
  }
  report("dns fail host=%s ms=%lu", _host, (unsigned long)(millis() - start));
  // The last good address first: a responder that missed one query must not take a
  // running device offline. mqtt_address when that one no longer answers (unreachable()).
  for (uint8_t tried = 0; tried < 2; tried++) {
    uint8_t which = (_nextFallback + tried) % 2;
    if (!fallback(which, ip)) continue;
    _nextFallback = which;
    report("dns fallback host=%s ip=%u.%u.%u.%u from=%s", _host, ip[0], ip[1], ip[2], ip[3], which == 0 ? "last" : "mqtt_address");
    out = _current = ip;
    _currentIsFallback = true;
    return true;
  }
  return false;
}

void BrokerAddress::worked() {
  _lastGood = _current;
  _nextFallback = 0;
}

void BrokerAddress::unreachable() {
  if (_currentIsFallback) _nextFallback = (_nextFallback + 1) % 2;
}
