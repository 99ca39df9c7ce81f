// Host stand-in for BearSSL::WiFiClientSecure (libraries/ESP8266WiFi/src/
// WiFiClientSecureBearSSL.h): the same calls, the same checks on the real BearSSL
// library, with the big-integer and cipher code the ESP8266 build of BearSSL selects.
// As in core 3.x, the work is done by WiFiClientSecureCtx, and WiFiClientSecure forwards to
// one it holds; what the core keeps protected or private is kept so here, so that code the
// rehearsal builds also builds against the core.
#pragma once

#include <bearssl/bearssl.h>
#include <time.h>

#include <memory>

#include "BearSSLHelpers.h"
#include "CertStoreBearSSL.h"

namespace BearSSL {

class WiFiClientSecureCtx : public WiFiClient {
 public:
  WiFiClientSecureCtx();
  WiFiClientSecureCtx(const WiFiClientSecureCtx &rhs) = delete;
  ~WiFiClientSecureCtx() override;
  WiFiClientSecureCtx &operator=(const WiFiClientSecureCtx &) = delete;

  // As the core: TLS with no server name at all (no SNI, no name check).
  int connect(IPAddress ip, uint16_t port) override;
  // As the core: hostByName, then TLS checking the certificate against `name`.
  int connect(const char *name, uint16_t port) override;
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

 protected:
  // The handshake over the TCP connection already open; hostName may be null (no name check).
  bool _connectSSL(const char *hostName);

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

class WiFiClientSecure : public WiFiClient {
 public:
  WiFiClientSecure() : _ctx(new WiFiClientSecureCtx()) {}

  int connect(IPAddress ip, uint16_t port) override { return _ctx->connect(ip, port); }
  int connect(const char *name, uint16_t port) override { return _ctx->connect(name, port); }
  size_t write(const uint8_t *buf, size_t size) override { return _ctx->write(buf, size); }
  int available() override { return _ctx->available(); }
  int read() override { return _ctx->read(); }
  int read(uint8_t *buf, size_t size) override { return _ctx->read(buf, size); }
  void flush() override { _ctx->flush(); }
  void stop() override { _ctx->stop(); }
  uint8_t connected() override { return _ctx->connected(); }

  void setTrustAnchors(const X509List *ta) { _ctx->setTrustAnchors(ta); }
  void setX509Time(time_t now) { _ctx->setX509Time(now); }
  void setClientRSACert(const X509List *cert, const PrivateKey *sk) { _ctx->setClientRSACert(cert, sk); }
  void setClientECCert(const X509List *cert, const PrivateKey *sk, unsigned allowed_usages,
                       unsigned cert_issuer_key_type) {
    _ctx->setClientECCert(cert, sk, allowed_usages, cert_issuer_key_type);
  }
  void setBufferSizes(int recv, int xmit) { _ctx->setBufferSizes(recv, xmit); }
  void setSession(Session *session) { _ctx->setSession(session); }
  void setCertStore(CertStoreBase *certStore) { _ctx->setCertStore(certStore); }
  int getMFLNStatus() { return _ctx->getMFLNStatus(); }
  int getLastSSLError(char *dest = nullptr, size_t len = 0) { return _ctx->getLastSSLError(dest, len); }

  static bool probeMaxFragmentLength(IPAddress ip, uint16_t port, uint16_t len);
  static bool probeMaxFragmentLength(const char *hostname, uint16_t port, uint16_t len);

 private:
  std::shared_ptr<WiFiClientSecureCtx> _ctx;
};

}  // namespace BearSSL
