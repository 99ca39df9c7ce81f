// Host stand-in for BearSSL::WiFiClientSecure (libraries/ESP8266WiFi/src/
// WiFiClientSecureBearSSL.h): the same calls, the same checks on the real BearSSL
// library, with the big-integer and cipher code the ESP8266 build of BearSSL selects.
#pragma once

#include <bearssl/bearssl.h>
#include <time.h>

#include <memory>

#include "BearSSLHelpers.h"
#include "CertStoreBearSSL.h"

namespace BearSSL {

class WiFiClientSecure : public WiFiClient {
 public:
  WiFiClientSecure();
  ~WiFiClientSecure() override;

  int connect(const char *host, uint16_t port) override;
  size_t write(const uint8_t *buf, size_t size) override;
  int available() override;
  int read() override;
  int read(uint8_t *buf, size_t size) override;
  void flush() override;
  void stop() override;
  uint8_t connected() override;

  void setTrustAnchors(const X509List *ta) { _ta = ta; }
  void setX509Time(time_t now) { _now = now; }
  void setClientRSACert(const X509List *cert, const PrivateKey *sk);
  void setClientECCert(const X509List *cert, const PrivateKey *sk, unsigned allowed_usages,
                       unsigned cert_issuer_key_type);
  void setBufferSizes(int recv, int xmit);
  // Resumption as the core does it: stop() saves the session after a completed handshake,
  // connect() offers it (br_ssl_client_reset(..., 1)); the broker may accept or start afresh.
  void setSession(Session *session) { _session = session; }
  void setCertStore(CertStoreBase *certStore) { _certStore = certStore; }
  int getMFLNStatus();
  int getLastSSLError(char *dest = nullptr, size_t len = 0);

  static bool probeMaxFragmentLength(const char *hostname, uint16_t port, uint16_t len);

 private:
  struct Engine;
  bool run(unsigned target);
  bool sendPending();
  void receiveQueued();

  std::unique_ptr<Engine> _engine;
  const X509List *_ta = nullptr;
  time_t _now = 0;
  const X509List *_chain = nullptr;
  const PrivateKey *_sk = nullptr;
  unsigned _allowedUsages = 0;
  unsigned _issuerKeyType = 0;
  int _inSize = 0;
  int _outSize = 0;
  Session *_session = nullptr;
  CertStoreBase *_certStore = nullptr;
  bool _handshakeDone = false;
};

}  // namespace BearSSL
