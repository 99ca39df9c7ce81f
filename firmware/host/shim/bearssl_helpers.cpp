#include "BearSSLHelpers.h"

#include <string.h>

namespace BearSSL {

namespace {

void appendBytes(void *ctx, const void *data, size_t len) {
  auto *out = static_cast<std::vector<unsigned char> *>(ctx);
  const auto *bytes = static_cast<const unsigned char *>(data);
  out->insert(out->end(), bytes, bytes + len);
}

}  // namespace

X509List::X509List(const uint8_t *derCert, size_t derLen) { append(derCert, derLen); }

bool X509List::append(const uint8_t *derCert, size_t derLen) {
  auto owned = std::make_unique<Owned>();
  owned->der.assign(derCert, derCert + derLen);

  br_x509_decoder_context decoder;
  br_x509_decoder_init(&decoder, appendBytes, &owned->dn);
  br_x509_decoder_push(&decoder, owned->der.data(), owned->der.size());
  const br_x509_pkey *pk = br_x509_decoder_get_pkey(&decoder);
  if (pk == nullptr) return false;

  br_x509_trust_anchor ta{};
  ta.flags = br_x509_decoder_isCA(&decoder) ? BR_X509_TA_CA : 0;
  ta.pkey.key_type = pk->key_type;
  if (pk->key_type == BR_KEYTYPE_RSA) {
    owned->n.assign(pk->key.rsa.n, pk->key.rsa.n + pk->key.rsa.nlen);
    owned->e.assign(pk->key.rsa.e, pk->key.rsa.e + pk->key.rsa.elen);
    ta.pkey.key.rsa = {owned->n.data(), owned->n.size(), owned->e.data(), owned->e.size()};
  } else if (pk->key_type == BR_KEYTYPE_EC) {
    owned->q.assign(pk->key.ec.q, pk->key.ec.q + pk->key.ec.qlen);
    ta.pkey.key.ec = {pk->key.ec.curve, owned->q.data(), owned->q.size()};
  } else {
    return false;
  }
  ta.dn = {owned->dn.data(), owned->dn.size()};
  _certs.push_back({owned->der.data(), owned->der.size()});
  _anchors.push_back(ta);
  _owned.push_back(std::move(owned));
  return true;
}

PrivateKey::PrivateKey(const uint8_t *derKey, size_t derLen) : _decoder(new br_skey_decoder_context) {
  br_skey_decoder_init(_decoder.get());
  br_skey_decoder_push(_decoder.get(), derKey, derLen);
}

bool PrivateKey::isRSA() const {
  return br_skey_decoder_last_error(_decoder.get()) == 0 && br_skey_decoder_key_type(_decoder.get()) == BR_KEYTYPE_RSA;
}

bool PrivateKey::isEC() const {
  return br_skey_decoder_last_error(_decoder.get()) == 0 && br_skey_decoder_key_type(_decoder.get()) == BR_KEYTYPE_EC;
}

const br_rsa_private_key *PrivateKey::getRSA() const { return br_skey_decoder_get_rsa(_decoder.get()); }

const br_ec_private_key *PrivateKey::getEC() const { return br_skey_decoder_get_ec(_decoder.get()); }

}  // namespace BearSSL
