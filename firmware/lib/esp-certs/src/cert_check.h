// One device certificate checked with BearSSL's X.509 engine against the image's CA: the
// credential record's certificate at boot, and a renewal pushed over MQTT.
#pragma once

#include <ESP8266WiFi.h>
#include <stddef.h>
#include <stdint.h>

struct CertCheck {
  // What the engine says of the chain: trusted, expired (at the time given), issued by another
  // CA or badly signed (untrusted), or anything else (malformed).
  enum class Chain { trusted, expired, untrusted, malformed } chain;
  // Only when trusted: its public key is the pair of the key given, and its subject's CN is the id given.
  bool keyMatches;
  bool cnMatches;
};

// Checks `der` as a chain of its own, issued by `ca`, valid at `unixSeconds`; each caller names
// the failures in its own words and order.
CertCheck checkCert(const uint8_t *der, size_t len, const BearSSL::X509List &ca, uint32_t unixSeconds,
                    const BearSSL::PrivateKey &key, const char *id, size_t idLen);
