// Tells whether the last TLS handshake resumed the saved session. The ESP8266 core has no
// call for it, but it hands every connect()'s X.509 validator to a CertStoreBase: a broker
// that resumes sends no certificate chain (RFC 5246 §7.3, abbreviated handshake), so the
// validator is never started. docs/reconnect.md.
#pragma once

#include <ESP8266WiFi.h>

class HandshakeWatch : public BearSSL::CertStoreBase {
 public:
  // Adds no trust anchor: the validator keeps the ones setTrustAnchors() gave it.
  void installCertStore(br_x509_minimal_context *ctx) override;
  // After a successful connect(): true when the broker sent no certificate chain.
  bool resumed() const { return !_chainSeen; }

 private:
  static void startChain(const br_x509_class **ctx, const char *serverName);
  bool _chainSeen = false;
};
