// Where the device dials the broker, found before every TLS attempt (docs/windows.md): the
// name first (a .local name is one mDNS query from lwIP), and when it does not resolve, the
// last address that worked, then mqtt_address. Whatever address is dialled, the broker
// certificate is checked against the name.
#pragma once

#include <ESP8266WiFi.h>
#include <stdint.h>

// BearSSL's client for an address found apart from its name. The core's connect(IPAddress)
// hands BearSSL no name, so no certificate name is checked at all; connect(name) looks the
// name up again. This one opens TCP to `ip` and then runs the core's own handshake with
// `name`, as connect(name) does after its lookup.
class BrokerClient : public BearSSL::WiFiClientSecureCtx {
 public:
  using BearSSL::WiFiClientSecureCtx::connect;
  int connect(IPAddress ip, uint16_t port, const char *name) {
    if (!WiFiClient::connect(ip, port)) return 0;
    return _connectSSL(name) ? 1 : 0;
  }
};

class BrokerAddress {
 public:
  // `configured`: mqtt_address, "" for none.
  BrokerAddress(const char *host, const char *configured);

  // The address to dial now, and its serial line (dns ok / dns fail, then dns fallback).
  // False when the name does not resolve and there is nothing to fall back on: no TLS attempt.
  bool find(IPAddress &out, uint32_t timeoutMs);
  // TLS came up at the address find() gave: it is the one to try when the name fails.
  void worked();
  // Nothing answered at a fallback address: the next find() offers the other fallback.
  void unreachable();

  // The last address that worked (unset: none yet), e.g. to keep it across deep sleep.
  IPAddress lastGood() const { return _lastGood; }
  void setLastGood(IPAddress ip) { _lastGood = ip; }

 private:
  const char *_host;
  IPAddress _configured;
  IPAddress _lastGood;
  IPAddress _current;
  // Which fallback comes first: 0 the last good address, 1 mqtt_address.
  uint8_t _nextFallback = 0;
  bool _currentIsFallback = false;

  bool fallback(uint8_t which, IPAddress &out) const;
};
