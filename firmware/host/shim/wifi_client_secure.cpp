#include <ESP8266WiFi.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <vector>

#include "rehearsal.h"
#include "server_hello.h"
#include "ssl_errors.h"

namespace BearSSL {

namespace {

// The ESP8266 core gives a handshake 15 s.
const uint32_t kTimeoutMs = 15000;

// BearSSL's own preference order (br_ssl_client_init_full), which the core offers too.
const uint16_t kSuites[] = {
    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_CCM,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_CCM,
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8,
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
    BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    BR_TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384,
    BR_TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384,
    BR_TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256,
    BR_TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256,
    BR_TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384,
    BR_TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384,
    BR_TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA,
    BR_TLS_ECDH_RSA_WITH_AES_128_CBC_SHA,
    BR_TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA,
    BR_TLS_ECDH_RSA_WITH_AES_256_CBC_SHA,
    BR_TLS_RSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
    BR_TLS_RSA_WITH_AES_128_CCM,
    BR_TLS_RSA_WITH_AES_256_CCM,
    BR_TLS_RSA_WITH_AES_128_CCM_8,
    BR_TLS_RSA_WITH_AES_256_CCM_8,
    BR_TLS_RSA_WITH_AES_128_CBC_SHA256,
    BR_TLS_RSA_WITH_AES_256_CBC_SHA256,
    BR_TLS_RSA_WITH_AES_128_CBC_SHA,
    BR_TLS_RSA_WITH_AES_256_CBC_SHA,
    BR_TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA,
    BR_TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
    BR_TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA,
    BR_TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA,
    BR_TLS_RSA_WITH_3DES_EDE_CBC_SHA,
};

const struct {
  int id;
  const br_hash_class *impl;
} kHashes[] = {
    {br_md5_ID, &br_md5_vtable},       {br_sha1_ID, &br_sha1_vtable},     {br_sha224_ID, &br_sha224_vtable},
    {br_sha256_ID, &br_sha256_vtable}, {br_sha384_ID, &br_sha384_vtable}, {br_sha512_ID, &br_sha512_vtable},
};

// What the ESP8266's BearSSL picks by default: a 32-bit CPU with a slow multiplier
// (BR_LOMUL), so the i15/m15 big-integer code and the 32-bit constant-time ciphers.
// The host library's own defaults (i31/i62, ct64, SSE2) would count very differently.
void selectEsp8266Implementations(br_ssl_client_context *sc) {
  br_ssl_engine_context *eng = &sc->eng;
  br_ssl_client_set_rsapub(sc, br_rsa_i15_public);
  br_ssl_engine_set_rsavrfy(eng, br_rsa_i15_pkcs1_vrfy);
  br_ssl_engine_set_ec(eng, &br_ec_all_m15);
  br_ssl_engine_set_ecdsa(eng, br_ecdsa_i15_vrfy_asn1);
  for (const auto &h : kHashes) br_ssl_engine_set_hash(eng, h.id, h.impl);
  br_ssl_engine_set_prf10(eng, br_tls10_prf);
  br_ssl_engine_set_prf_sha256(eng, br_tls12_sha256_prf);
  br_ssl_engine_set_prf_sha384(eng, br_tls12_sha384_prf);
  br_ssl_engine_set_cbc(eng, &br_sslrec_in_cbc_vtable, &br_sslrec_out_cbc_vtable);
  br_ssl_engine_set_aes_cbc(eng, &br_aes_ct_cbcenc_vtable, &br_aes_ct_cbcdec_vtable);
  br_ssl_engine_set_des_cbc(eng, &br_des_ct_cbcenc_vtable, &br_des_ct_cbcdec_vtable);
  br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
  br_ssl_engine_set_aes_ctr(eng, &br_aes_ct_ctr_vtable);
  br_ssl_engine_set_ghash(eng, &br_ghash_ctmul32);
  br_ssl_engine_set_ccm(eng, &br_sslrec_in_ccm_vtable, &br_sslrec_out_ccm_vtable);
  br_ssl_engine_set_aes_ctrcbc(eng, &br_aes_ct_ctrcbc_vtable);
  br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
  br_ssl_engine_set_chacha20(eng, &br_chacha20_ct_run);
  br_ssl_engine_set_poly1305(eng, &br_poly1305_ctmul32_run);
}

}  // namespace

struct WiFiClientSecureCtx::Engine {
  br_ssl_client_context sc;
  br_x509_minimal_context x509;
  std::vector<unsigned char> in, out;
  // The first bytes from the broker, kept to read its ServerHello's extensions.
  std::vector<uint8_t> hello;
  bool mfln = false;
  br_ssl_engine_context *eng() { return &sc.eng; }
};

WiFiClientSecureCtx::WiFiClientSecureCtx() { setBufferSizes(16384, 512); }

WiFiClientSecureCtx::~WiFiClientSecureCtx() = default;

void WiFiClientSecureCtx::setClientRSACert(const X509List *cert, const PrivateKey *sk) {
  _chain = cert;
  _sk = sk;
}

void WiFiClientSecureCtx::setClientECCert(const X509List *cert, const PrivateKey *sk, unsigned allowed_usages,
                                       unsigned cert_issuer_key_type) {
  _chain = cert;
  _sk = sk;
  _allowedUsages = allowed_usages;
  _issuerKeyType = cert_issuer_key_type;
}

// The core's sizes: payload clamped to 512..16384, plus BearSSL's record overheads.
void WiFiClientSecureCtx::setBufferSizes(int recv, int xmit) {
  _inSize = std::max(512, std::min(16384, recv)) + 325;
  _outSize = std::max(512, std::min(16384, xmit)) + 85;
}

int WiFiClientSecureCtx::connect(IPAddress ip, uint16_t port) {
  stop();
  if (!WiFiClient::connect(ip, port)) return 0;
  return _connectSSL(nullptr);
}

int WiFiClientSecureCtx::connect(const char *name, uint16_t port) {
  stop();
  IPAddress ip;
  if (!WiFi.hostByName(name, ip) || !WiFiClient::connect(ip, port)) return 0;
  return _connectSSL(name);
}

bool WiFiClientSecureCtx::_connectSSL(const char *host) {
  rehearsalMeasureBegin();
  _engine.reset(new Engine());
  Engine &e = *_engine;
  e.in.resize(_inSize);
  e.out.resize(_outSize);
  br_ssl_client_zero(&e.sc);
  br_ssl_engine_add_flags(e.eng(), BR_OPT_NO_RENEGOTIATION);
  br_ssl_engine_set_versions(e.eng(), BR_TLS10, BR_TLS12);
  br_ssl_engine_set_suites(e.eng(), kSuites, sizeof kSuites / sizeof kSuites[0]);
  selectEsp8266Implementations(&e.sc);

  const br_x509_trust_anchor *anchors = _ta ? _ta->getTrustAnchors() : nullptr;
  br_x509_minimal_init(&e.x509, &br_sha256_vtable, anchors, _ta ? _ta->getCount() : 0);
  br_x509_minimal_set_rsa(&e.x509, br_ssl_engine_get_rsavrfy(e.eng()));
  br_x509_minimal_set_ecdsa(&e.x509, br_ssl_engine_get_ec(e.eng()), br_ssl_engine_get_ecdsa(e.eng()));
  for (const auto &h : kHashes) br_x509_minimal_set_hash(&e.x509, h.id, h.impl);
  if (_now != 0) {
    // Days since year 0 and seconds in the day, as BearSSL counts them.
    br_x509_minimal_set_time(&e.x509, (uint32_t)_now / 86400 + 719528, (uint32_t)_now % 86400);
  }
  if (_certStore) _certStore->installCertStore(&e.x509);
  br_ssl_engine_set_x509(e.eng(), &e.x509.vtable);
  br_ssl_engine_set_buffers_bidi(e.eng(), e.in.data(), e.in.size(), e.out.data(), e.out.size());

  const br_x509_certificate *chain = _chain ? _chain->getX509Certs() : nullptr;
  size_t chainLen = _chain ? _chain->getCount() : 0;
  if (_sk && _sk->isRSA()) {
    br_ssl_client_set_single_rsa(&e.sc, chain, chainLen, _sk->getRSA(), br_rsa_i15_pkcs1_sign);
  } else if (_sk && _sk->isEC()) {
    br_ssl_client_set_single_ec(&e.sc, chain, chainLen, _sk->getEC(), _allowedUsages, _issuerKeyType,
                                &br_ec_all_m15, br_ecdsa_i15_sign_asn1);
  }
  if (_session) br_ssl_engine_set_session_parameters(e.eng(), _session->getSession());
  if (!br_ssl_client_reset(&e.sc, host, _session ? 1 : 0) || !run(BR_SSL_SENDAPP)) {
    WiFiClient::stop();
    return false;
  }
  _handshakeDone = true;
  // BearSSL asks for small records only when its input buffer is small.
  unsigned logLen = e.eng()->log_max_frag_len;
  e.mfln = logLen < 14 && serverHelloEchoesFragmentLength(e.hello.data(), e.hello.size(), (int)logLen - 8);
  return true;
}

// Moves records between the engine and the socket until the engine reaches `target`;
// false when it closes, the socket dies, or the peer is silent for kTimeoutMs.
bool WiFiClientSecureCtx::run(unsigned target) {
  br_ssl_engine_context *eng = _engine->eng();
  for (;;) {
    unsigned state = br_ssl_engine_current_state(eng);
    if (state & BR_SSL_CLOSED) return false;
    if (state & BR_SSL_SENDREC) {
      size_t len;
      unsigned char *buf = br_ssl_engine_sendrec_buf(eng, &len);
      size_t sent = WiFiClient::write(buf, len);
      if (sent == 0) {
        // On loopback a broker that refuses us hangs up before our flight is out;
        // its alert is still queued, and the chip would have read it: so do we.
        receiveQueued();
        return false;
      }
      br_ssl_engine_sendrec_ack(eng, sent);
      continue;
    }
    if (state & target) return true;
    if (!(state & BR_SSL_RECVREC) || !waitReadable(kTimeoutMs)) return false;
    size_t len;
    unsigned char *buf = br_ssl_engine_recvrec_buf(eng, &len);
    int got = WiFiClient::read(buf, len);
    if (got <= 0) return false;
    std::vector<uint8_t> &hello = _engine->hello;
    if (hello.size() < serverHelloEnd(hello.data(), hello.size())) hello.insert(hello.end(), buf, buf + got);
    br_ssl_engine_recvrec_ack(eng, got);
  }
}

void WiFiClientSecureCtx::receiveQueued() {
  br_ssl_engine_context *eng = _engine->eng();
  while ((br_ssl_engine_current_state(eng) & BR_SSL_RECVREC) && WiFiClient::available() > 0) {
    size_t len;
    unsigned char *buf = br_ssl_engine_recvrec_buf(eng, &len);
    int got = WiFiClient::read(buf, len);
    if (got <= 0) return;
    br_ssl_engine_recvrec_ack(eng, got);
  }
}

bool WiFiClientSecureCtx::sendPending() {
  br_ssl_engine_flush(_engine->eng(), 0);
  return run(BR_SSL_SENDAPP | BR_SSL_RECVAPP);
}

size_t WiFiClientSecureCtx::write(const uint8_t *buf, size_t size) {
  if (!_engine) return 0;
  size_t done = 0;
  while (done < size) {
    if (!run(BR_SSL_SENDAPP)) return 0;
    size_t room;
    unsigned char *app = br_ssl_engine_sendapp_buf(_engine->eng(), &room);
    size_t n = std::min(room, size - done);
    memcpy(app, buf + done, n);
    br_ssl_engine_sendapp_ack(_engine->eng(), n);
    done += n;
  }
  sendPending();
  return size;
}

// Never blocks, like the core: decrypts only what the socket already holds.
int WiFiClientSecureCtx::available() {
  if (!_engine) return 0;
  br_ssl_engine_context *eng = _engine->eng();
  for (;;) {
    unsigned state = br_ssl_engine_current_state(eng);
    if (state & BR_SSL_RECVAPP) {
      size_t len;
      br_ssl_engine_recvapp_buf(eng, &len);
      return (int)len;
    }
    if (state & BR_SSL_SENDREC) {
      if (!sendPending()) return 0;
      continue;
    }
    if (!(state & BR_SSL_RECVREC) || WiFiClient::available() <= 0) return 0;
    size_t len;
    unsigned char *buf = br_ssl_engine_recvrec_buf(eng, &len);
    int got = WiFiClient::read(buf, len);
    if (got <= 0) return 0;
    br_ssl_engine_recvrec_ack(eng, got);
  }
}

int WiFiClientSecureCtx::read(uint8_t *buf, size_t size) {
  int avail = available();
  if (avail <= 0) return -1;
  size_t len;
  unsigned char *app = br_ssl_engine_recvapp_buf(_engine->eng(), &len);
  size_t n = std::min(len, size);
  memcpy(buf, app, n);
  br_ssl_engine_recvapp_ack(_engine->eng(), n);
  return (int)n;
}

int WiFiClientSecureCtx::read() {
  uint8_t b;
  return read(&b, 1) == 1 ? b : -1;
}

void WiFiClientSecureCtx::flush() {
  if (_engine) sendPending();
}

void WiFiClientSecureCtx::stop() {
  WiFiClient::stop();
  // Only a completed handshake leaves parameters worth offering again.
  if (_handshakeDone && _session) br_ssl_engine_get_session_parameters(_engine->eng(), _session->getSession());
  _handshakeDone = false;
  _engine.reset();
}

uint8_t WiFiClientSecureCtx::connected() {
  if (!_engine || (br_ssl_engine_current_state(_engine->eng()) & BR_SSL_CLOSED)) return 0;
  return WiFiClient::connected() || available() > 0;
}

int WiFiClientSecureCtx::getMFLNStatus() { return connected() && _engine->mfln; }

// As the core does: the alert flags leave the number and become words in the text.
int WiFiClientSecureCtx::getLastSSLError(char *dest, size_t len) {
  int err = _engine ? br_ssl_engine_last_error(_engine->eng()) : 0;
  const char *received = "";
  const char *sent = "";
  if (err & BR_ERR_RECV_FATAL_ALERT) {
    received = "SSL received fatal alert - ";
    err &= ~BR_ERR_RECV_FATAL_ALERT;
  }
  if (err & BR_ERR_SEND_FATAL_ALERT) {
    sent = "SSL sent fatal alert - ";
    err &= ~BR_ERR_SEND_FATAL_ALERT;
  }
  if (dest != nullptr && len > 0) snprintf(dest, len, "%s%s%s", received, sent, sslErrorText(err));
  return err;
}

}  // namespace BearSSL
