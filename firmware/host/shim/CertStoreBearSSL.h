// Host stand-in for libraries/ESP8266WiFi/src/CertStoreBearSSL.h: the interface through which
// WiFiClientSecure lets an object see BearSSL's X.509 validator at every connect().
#pragma once

#include <bearssl/bearssl.h>

namespace BearSSL {

class CertStoreBase {
 public:
  virtual ~CertStoreBase() {}
  // Called by connect() after the validator is set up, before the handshake starts.
  virtual void installCertStore(br_x509_minimal_context *ctx) = 0;
};

}  // namespace BearSSL
