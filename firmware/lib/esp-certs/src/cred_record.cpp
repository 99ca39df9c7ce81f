#include "cred_record.h"

#include <Arduino.h>
#include <bearssl/bearssl.h>
#include <flash_hal.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

namespace {

// docs/credential-record.md
const uint8_t kMagic[4] = {'E', 'C', 'R', '1'};
const uint16_t kVersion = 1;
const size_t kSectorSize = 4096;
const size_t kHeaderSize = 16;
const size_t kChecksumSize = 32;
const size_t kMaxIdLength = 64;
const uint8_t kKeyEc = 1;
const uint8_t kKeyRsa = 2;
// Where the core maps flash for code; the linker's _EEPROM_start is an address in that window.
const uint32_t kFlashMapBase = 0x40200000;
// BearSSL counts days from 1 January of year 0.
const uint32_t kDaysTo1970 = 719528;

struct Record {
  uint8_t keyType;
  const char *id;
  size_t idLen;
  const uint8_t *cert;
  size_t certLen;
  const uint8_t *key;
  size_t keyLen;
  uint32_t notBefore;
};

uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

bool alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// The CLI's rule for a client id: a letter or digit, then letters, digits, '.', '_' or '-'
// (the length is checked with the layout).
bool validId(const char *id, size_t len) {
  if (len == 0 || !alnum(id[0])) return false;
  for (size_t i = 1; i < len; i++) {
    char c = id[i];
    if (!(alnum(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

// The layout checks; nullptr when the record is sound, else the reason's word.
const char *parse(const uint8_t *s, Record &r) {
  if (memcmp(s, kMagic, sizeof kMagic) != 0) return "magic";
  if (le16(s + 4) != kVersion) return "version";
  r.keyType = s[6];
  r.idLen = s[7];
  r.certLen = le16(s + 8);
  r.keyLen = le16(s + 10);
  r.notBefore = le32(s + 12);
  size_t end = kHeaderSize + r.idLen + r.certLen + r.keyLen;
  if (r.idLen == 0 || r.idLen > kMaxIdLength || r.certLen == 0 || r.keyLen == 0 || end + kChecksumSize > kSectorSize) return "length";
  br_sha256_context sha;
  uint8_t sum[br_sha256_SIZE];
  br_sha256_init(&sha);
  br_sha256_update(&sha, s, end);
  br_sha256_out(&sha, sum);
  if (memcmp(sum, s + end, sizeof sum) != 0) return "checksum";
  if (r.keyType != kKeyEc && r.keyType != kKeyRsa) return "key-type";
  r.id = (const char *)s + kHeaderSize;
  if (!validId(r.id, r.idLen)) return "id";
  r.cert = s + kHeaderSize + r.idLen;
  r.key = r.cert + r.certLen;
  return nullptr;
}

// Big-endian integers equal once leading zero bytes are set aside.
bool sameInteger(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  while (alen > 0 && *a == 0) a++, alen--;
  while (blen > 0 && *b == 0) b++, blen--;
  return alen == blen && memcmp(a, b, alen) == 0;
}

bool keyMatches(const BearSSL::PrivateKey &key, const br_x509_pkey &pub) {
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

// The certificate chains to the image's CA, checked at its own notBefore (the device's clock
// may not be set yet; the broker checks the dates). Fills the reason on failure.
const char *checkIssuerAndKey(const Record &r, const BearSSL::X509List &ca, const BearSSL::PrivateKey &key) {
  // Several KB: on the heap, not on the ESP8266's 4 KB stack.
  br_x509_minimal_context *x509 = new br_x509_minimal_context;
  br_x509_minimal_init_full(x509, ca.getTrustAnchors(), ca.getCount());
  br_x509_minimal_set_time(x509, r.notBefore / 86400 + kDaysTo1970, r.notBefore % 86400);
  const br_x509_class **engine = &x509->vtable;
  (*engine)->start_chain(engine, nullptr);
  (*engine)->start_cert(engine, r.certLen);
  (*engine)->append(engine, r.cert, r.certLen);
  (*engine)->end_cert(engine);
  unsigned err = (*engine)->end_chain(engine);
  const char *reason = nullptr;
  if (err == BR_ERR_X509_NOT_TRUSTED || err == BR_ERR_X509_BAD_SIGNATURE) {
    reason = "issuer";
  } else if (err != 0) {  // end_chain() says 0 for a trusted chain
    reason = "cert";
  } else {
    const br_x509_pkey *pub = (*engine)->get_pkey(engine, nullptr);
    if (pub == nullptr || !keyMatches(key, *pub)) reason = "mismatch";
  }
  delete x509;
  return reason;
}

// Builds the identity from a sound record; nullptr, or the reason it cannot be used.
const char *useRecord(const Record &r, const BearSSL::X509List &ca, Credentials &out) {
  std::unique_ptr<BearSSL::PrivateKey> key(new BearSSL::PrivateKey(r.key, r.keyLen));
  bool ec = key->isEC();
  if (!(ec || key->isRSA()) || ec != (r.keyType == kKeyEc)) return "key";
  const char *reason = checkIssuerAndKey(r, ca, *key);
  if (reason != nullptr) return reason;
  out.source = CredSource::flash;
  memcpy(out.clientId, r.id, r.idLen);
  out.clientId[r.idLen] = '\0';
  out.cert.reset(new BearSSL::X509List(r.cert, r.certLen));
  out.key = std::move(key);
  out.keyIsEc = ec;
  return nullptr;
}

// Reads the record once into a temporary buffer; X509List and PrivateKey keep their own copies.
const char *readRecord(const BearSSL::X509List &ca, Credentials &out) {
  uint8_t *sector = (uint8_t *)malloc(kSectorSize);
  if (sector == nullptr) return "memory";
  const char *reason = nullptr;
  if (!ESP.flashRead(EEPROM_start - kFlashMapBase, sector, kSectorSize)) {
    reason = "read";
  } else {
    // Erased flash: never provisioned.
    bool present = !(sector[0] == 0xFF && sector[1] == 0xFF && sector[2] == 0xFF && sector[3] == 0xFF);
    Record r;
    if (present) reason = parse(sector, r);
    if (present && reason == nullptr) reason = useRecord(r, ca, out);
  }
  memset(sector, 0, kSectorSize);  // it held the private key
  free(sector);
  return reason;
}

}  // namespace

void loadCredentials(Credentials &c, const BearSSL::X509List &ca, const HeaderIdentity &header) {
  const char *reason = readRecord(ca, c);
  if (c.source == CredSource::flash) return;
  if (reason != nullptr) report("cred fail reason=%s", reason);
  if (header.clientId == nullptr) return;
  c.source = CredSource::header;
  snprintf(c.clientId, sizeof c.clientId, "%s", header.clientId);
  c.cert.reset(new BearSSL::X509List(header.certDer, header.certLen));
  c.key.reset(new BearSSL::PrivateKey(header.keyDer, header.keyLen));
  c.keyIsEc = header.keyIsEc;
}

const char *credSourceName(CredSource source) {
  switch (source) {
    case CredSource::flash:
      return "flash";
    case CredSource::header:
      return "header";
    case CredSource::none:
      break;
  }
  return "none";
}
