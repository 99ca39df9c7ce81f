#include "cert_check.h"

#include <bearssl/bearssl.h>
#include <stdlib.h>
#include <string.h>

namespace {

// BearSSL counts days from 1 January of year 0.
const uint32_t kDaysTo1970 = 719528;
const unsigned char kOidCommonName[] = {3, 0x55, 0x04, 0x03};
// The longest client id (docs/credential-record.md).
const size_t kMaxIdLength = 64;

// Big-endian integers equal once leading zero bytes are set aside.
bool sameInteger(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  while (alen > 0 && *a == 0) a++, alen--;
  while (blen > 0 && *b == 0) b++, blen--;
  return alen == blen && memcmp(a, b, alen) == 0;
}

// Whether `key` is the pair of the public key `pub` (EC: the point; RSA: the modulus).
bool keyMatchesPublic(const BearSSL::PrivateKey &key, const br_x509_pkey &pub) {
  if (key.isEC()) {
    if (pub.key_type != BR_KEYTYPE_EC) return false;
    uint8_t q[BR_EC_KBUF_PUB_MAX_SIZE];
    br_ec_public_key derived;
    if (br_ec_compute_pub(br_ec_get_default(), &derived, q, key.getEC()) == 0) return false;
    return derived.curve == pub.key.ec.curve && sameInteger(derived.q, derived.qlen, pub.key.ec.q, pub.key.ec.qlen);
  }
  if (pub.key_type != BR_KEYTYPE_RSA) return false;
  br_rsa_compute_modulus modulus = br_rsa_compute_modulus_get_default();
  size_t len = modulus(nullptr, key.getRSA());
  uint8_t *n = (uint8_t *)malloc(len);
  if (n == nullptr) return false;
  bool same = modulus(n, key.getRSA()) == len && sameInteger(n, len, pub.key.rsa.n, pub.key.rsa.nlen);
  free(n);
  return same;
}

}  // namespace

CertCheck checkCert(const uint8_t *der, size_t len, const BearSSL::X509List &ca, uint32_t unixSeconds,
                    const BearSSL::PrivateKey &key, const char *id, size_t idLen) {
  // Several KB: on the heap, not on the ESP8266's 4 KB stack.
  br_x509_minimal_context *x509 = new br_x509_minimal_context;
  br_x509_minimal_init_full(x509, ca.getTrustAnchors(), ca.getCount());
  br_x509_minimal_set_time(x509, unixSeconds / 86400 + kDaysTo1970, unixSeconds % 86400);
  char cn[kMaxIdLength + 1];
  br_name_element cnElement = {kOidCommonName, cn, sizeof cn, 0};
  br_x509_minimal_set_name_elements(x509, &cnElement, 1);
  const br_x509_class **engine = &x509->vtable;
  (*engine)->start_chain(engine, nullptr);
  (*engine)->start_cert(engine, len);
  (*engine)->append(engine, der, len);
  (*engine)->end_cert(engine);
  unsigned err = (*engine)->end_chain(engine);
  CertCheck check = {CertCheck::Chain::trusted, false, false};
  if (err == BR_ERR_X509_EXPIRED) {
    check.chain = CertCheck::Chain::expired;
  } else if (err == BR_ERR_X509_NOT_TRUSTED || err == BR_ERR_X509_BAD_SIGNATURE) {
    check.chain = CertCheck::Chain::untrusted;
  } else if (err != 0) {  // end_chain() says 0 for a trusted chain
    check.chain = CertCheck::Chain::malformed;
  } else {
    const br_x509_pkey *pub = (*engine)->get_pkey(engine, nullptr);
    check.keyMatches = pub != nullptr && keyMatchesPublic(key, *pub);
    // status 1: found and decoded (NUL-terminated); -1: found but too long for the buffer.
    check.cnMatches = cnElement.status == 1 && strlen(cn) == idLen && memcmp(cn, id, idLen) == 0;
  }
  delete x509;
  return check;
}
