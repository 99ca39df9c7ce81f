// Host stand-in for libraries/ESP8266WiFi/src/BearSSLHelpers.h: the DER constructors
// the firmware uses, the accessors WiFiClientSecure reads, and the TLS session holder.
#pragma once

#include <bearssl/bearssl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <memory>
#include <vector>

namespace BearSSL {

// Certificates, and for each the trust anchor the core derives from it with
// br_x509_decoder (DN, public key, CA flag), so a CA certificate can be trusted directly.
class X509List {
 public:
  X509List(const uint8_t *derCert, size_t derLen);
  X509List(const X509List &) = delete;
  X509List &operator=(const X509List &) = delete;

  bool append(const uint8_t *derCert, size_t derLen);
  size_t getCount() const { return _certs.size(); }
  const br_x509_certificate *getX509Certs() const { return _certs.data(); }
  const br_x509_trust_anchor *getTrustAnchors() const { return _anchors.data(); }

 private:
  struct Owned {
    std::vector<unsigned char> der, dn, n, e, q;
  };
  std::vector<std::unique_ptr<Owned>> _owned;
  std::vector<br_x509_certificate> _certs;
  std::vector<br_x509_trust_anchor> _anchors;
};

// An RSA or EC private key, decoded with br_skey_decoder (PKCS#1, SEC1 or PKCS#8).
class PrivateKey {
 public:
  PrivateKey(const uint8_t *derKey, size_t derLen);
  PrivateKey(const PrivateKey &) = delete;
  PrivateKey &operator=(const PrivateKey &) = delete;

  bool isRSA() const;
  bool isEC() const;
  const br_rsa_private_key *getRSA() const;
  const br_ec_private_key *getEC() const;

 private:
  // The decoded key points into the decoder's own buffer, so the decoder is kept.
  std::unique_ptr<br_skey_decoder_context> _decoder;
};

// The parameters of the last TLS handshake (session id, version, suite, master secret),
// saved by WiFiClientSecureCtx::stop() and offered by its next connect(): as the core's
// class, opaque to the sketch.
class Session {
  friend class WiFiClientSecureCtx;

 public:
  Session() { memset(&_session, 0, sizeof _session); }

 private:
  br_ssl_session_parameters *getSession() { return &_session; }
  br_ssl_session_parameters _session;
};

}  // namespace BearSSL
