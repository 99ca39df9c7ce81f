#include "cred_record.h"

#include <Arduino.h>
#include <bearssl/bearssl.h>
#include <flash_hal.h>
#include <stdlib.h>
#include <string.h>

#include <utility>

#include "cert_check.h"
#include "report.h"

namespace {

// docs/credential-record.md
const uint8_t kMagic[4] = {'E', 'C', 'R', '1'};
const uint16_t kVersion1 = 1;
const uint16_t kVersion2 = 2;
const size_t kSectorSize = 4096;
const size_t kHeaderSizeV1 = 16;
const size_t kHeaderSizeV2 = 20;
const size_t kChecksumSize = 32;
const size_t kMaxIdLength = 64;
const uint8_t kKeyEc = 1;
const uint8_t kKeyRsa = 2;
// Where the core maps flash for code; the linker's _EEPROM_start and _FS_end are addresses in that window.
const uint32_t kFlashMapBase = 0x40200000;
// Flash is programmed in pages of this size; a write is a multiple of 4 bytes from a 4-aligned buffer.
const size_t kPage = 256;

struct Record {
  uint8_t keyType;
  const char *id;
  size_t idLen;
  const uint8_t *cert;
  size_t certLen;
  const uint8_t *key;
  size_t keyLen;
  uint32_t notBefore;
  uint32_t seq;
  // Bytes from the start to the end of the checksum.
  size_t size;
};

// esp-certs' own flash layouts (esp-certs.flash.<layout>.ld, docs/flash-layout.md) keep the
// 8 KiB below the EEPROM sector for the record alone and provide their start as this symbol.
// Weak: the core's own linker scripts do not define it, and it then reads as 0. The rehearsal's
// flash_hal.h defines ESP_CERTS_CRED_START in its place, to build either kind of image.
#ifndef ESP_CERTS_CRED_START
extern "C" const char _ESP_CERTS_CRED_start[] __attribute__((weak));
#define ESP_CERTS_CRED_START ((uint32_t)(uintptr_t)_ESP_CERTS_CRED_start)
#endif

// On an own layout, kCoreSlot is the EEPROM sector, read only: where a board renewed on a core
// layout before it moved may have left its newest record (docs/flash-layout.md, "Moving a
// provisioned board"). It is never erased or written here: it may hold the sketch's EEPROM data.
const int kCoreSlot = 2;

// Flash offset of credential sector `slot`, or 0 when the layout has no such sector.
// On an own layout: its two sectors, slot 1 being the same flash as the core layout's spare
// sector on 4m1m, 4m2m, ... (a record provisioned there before is still read), and kCoreSlot.
// On a core layout: slot 0 is the EEPROM sector (where version 1 records live); slot 1 the
// sector below it, which is free only where the filesystem ends below it (its end aligned down
// to its block: 4m1m, 4m2m, ...).

uint32_t slotAddress(int slot) {
  uint32_t own = ESP_CERTS_CRED_START;
  if (own != 0 && slot == kCoreSlot) return EEPROM_start - kFlashMapBase;
  if (slot == kCoreSlot) return 0;
  if (own != 0) return own - kFlashMapBase + (uint32_t)slot * kSectorSize;
  uint32_t eeprom = EEPROM_start - kFlashMapBase;
  if (slot == 0) return eeprom;
  uint32_t spare = eeprom - kSectorSize;
  return FS_end - kFlashMapBase <= spare ? spare : 0;
}

uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

bool alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// The CLI's rule for a client id (config/validate.ts): a letter or digit, then letters, digits,
// '.', '_' or '-', not ending in '.' (the length is checked with the layout).
bool validId(const char *id, size_t len) {
  if (len == 0 || !alnum(id[0]) || id[len - 1] == '.') return false;
  for (size_t i = 1; i < len; i++) {
    char c = id[i];
    if (!(alnum(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

// The layout checks; nullptr when the record is sound, else the reason's word.
const char *parse(const uint8_t *s, Record &r) {
  if (memcmp(s, kMagic, sizeof kMagic) != 0) return "magic";
  uint16_t version = le16(s + 4);
  if (version != kVersion1 && version != kVersion2) return "version";
  size_t headerSize = version == kVersion1 ? kHeaderSizeV1 : kHeaderSizeV2;
  r.keyType = s[6];
  r.idLen = s[7];
  r.certLen = le16(s + 8);
  r.keyLen = le16(s + 10);
  r.notBefore = le32(s + 12);
  r.seq = version == kVersion1 ? 0 : le32(s + 16);
  size_t end = headerSize + r.idLen + r.certLen + r.keyLen;
  if (r.idLen == 0 || r.idLen > kMaxIdLength || r.certLen == 0 || r.keyLen == 0 || end + kChecksumSize > kSectorSize) return "length";
  br_sha256_context sha;
  uint8_t sum[br_sha256_SIZE];
  br_sha256_init(&sha);
  br_sha256_update(&sha, s, end);
  br_sha256_out(&sha, sum);
  if (memcmp(sum, s + end, sizeof sum) != 0) return "checksum";
  if (r.keyType != kKeyEc && r.keyType != kKeyRsa) return "key-type";
  r.id = (const char *)s + headerSize;
  if (!validId(r.id, r.idLen)) return "id";
  r.size = end + kChecksumSize;
  r.cert = s + headerSize + r.idLen;
  r.key = r.cert + r.certLen;
  return nullptr;
}

// Builds the identity from a sound record; nullptr, or the reason it cannot be used.
const char *useRecord(const Record &r, const BearSSL::X509List &ca, Credentials &out) {
  std::unique_ptr<BearSSL::PrivateKey> key(new BearSSL::PrivateKey(r.key, r.keyLen));
  bool ec = key->isEC();
  if (!(ec || key->isRSA()) || ec != (r.keyType == kKeyEc)) return "key";
  // Checked at the certificate's own notBefore: the device's clock may not be set yet, and the
  // broker checks the dates. The CN must be the record's id: the device connects under that id,
  // and the broker's access rules key on the certificate's CN (a record of dev03's certificate
  // saying dev01 is refused).
  CertCheck check = checkCert(r.cert, r.certLen, ca, r.notBefore, *key, r.id, r.idLen);
  if (check.chain == CertCheck::Chain::untrusted) return "issuer";
  if (check.chain != CertCheck::Chain::trusted) return "cert";
  if (!check.keyMatches) return "mismatch";
  if (!check.cnMatches) return "cn";
  out.source = CredSource::flash;
  memcpy(out.clientId, r.id, r.idLen);
  out.clientId[r.idLen] = '\0';
  out.cert.reset(new BearSSL::X509List(r.cert, r.certLen));
  out.key = std::move(key);
  out.keyIsEc = ec;
  return nullptr;
}

// What a sector holds: nothing (erased), a sound record (layout and checksum), or the reason not.
struct SlotState {
  bool present = false;
  const char *reason = nullptr;
  uint32_t seq = 0;
};

// Reads credential sector `slot` into `sector` (kSectorSize bytes) and checks its layout.
SlotState readSlot(int slot, uint8_t *sector, Record &r) {
  SlotState st;
  uint32_t address = slotAddress(slot);
  if (address == 0) return st;
  if (!ESP.flashRead(address, sector, kSectorSize)) {
    st.present = true;
    st.reason = "read";
    return st;
  }
  // Erased flash: nothing written there.
  st.present = !(sector[0] == 0xFF && sector[1] == 0xFF && sector[2] == 0xFF && sector[3] == 0xFF);
  if (st.present) st.reason = parse(sector, r);
  if (st.present && st.reason == nullptr) st.seq = r.seq;
  return st;
}

// Erases own slot `target`, programs the record `sector` holds (its first `size` bytes, the rest
// 0xFF) page by page and reads it back; the record becomes sound only with its last byte.
// nullptr, or "write" / "verify". `sector` is overwritten by the read-back.
const char *writeSlot(int target, uint8_t *sector, size_t size, uint32_t seq) {
  uint32_t address = slotAddress(target);
  if (target == kCoreSlot || address == 0) return "storage";
  if (!ESP.flashEraseSector(address / kSectorSize)) return "write";
  for (size_t at = 0; at < size; at += kPage) {
    if (!ESP.flashWrite(address + at, sector + at, kPage)) return "write";
  }
  Record back;
  SlotState st = readSlot(target, sector, back);
  if (!st.present || st.reason != nullptr || back.seq != seq) return "verify";
  return nullptr;
}

// Reads the sectors, one at a time through one temporary buffer (X509List and PrivateKey keep
// their own copies), and uses the sound record with the highest sequence number (on a tie the
// lower slot), else the next. A record cut short by a power cut fails its checksum and so never wins.
const char *readRecord(const BearSSL::X509List &ca, Credentials &out) {
  uint8_t *sector = (uint8_t *)malloc(kSectorSize);
  if (sector == nullptr) return "memory";
  Record r;
  SlotState slots[3] = {readSlot(0, sector, r), readSlot(1, sector, r), readSlot(kCoreSlot, sector, r)};
  // The EEPROM sector's content that is no record is the sketch's, not a failure.
  if (slots[kCoreSlot].reason != nullptr) slots[kCoreSlot].present = false;
  int order[3] = {0, 1, kCoreSlot};
  auto ahead = [&](int a, int b) {
    const SlotState &x = slots[a], &y = slots[b];
    bool soundX = x.present && x.reason == nullptr, soundY = y.present && y.reason == nullptr;
    return soundX && (!soundY || x.seq > y.seq);
  };
  for (int i = 1; i < 3; i++) {
    for (int j = i; j > 0 && ahead(order[j], order[j - 1]); j--) std::swap(order[j], order[j - 1]);
  }
  const char *reason = nullptr;
  for (int slot : order) {
    SlotState &st = slots[slot];
    if (!st.present) continue;
    if (st.reason == nullptr) {
      st = readSlot(slot, sector, r);
      if (st.reason == nullptr) st.reason = useRecord(r, ca, out);
      if (st.reason == nullptr) {
        out.slot = slot;
        out.seq = r.seq;
        reason = nullptr;
        break;
      }
    }
    if (reason == nullptr) reason = st.reason;
  }
  // Taken from the EEPROM sector: copied into the own slot not in use (the one without a usable
  // record, else the older) and used from there. A failed or cut copy leaves it in the EEPROM
  // sector, used from there this time (a renewal then writes an own slot) and copied next boot.
  if (out.source == CredSource::flash && out.slot == kCoreSlot) {
    bool usable0 = slots[0].present && slots[0].reason == nullptr, usable1 = slots[1].present && slots[1].reason == nullptr;
    int target = !usable0 ? 0 : !usable1 ? 1 : slots[1].seq < slots[0].seq ? 1 : 0;
    if (readSlot(kCoreSlot, sector, r).reason == nullptr) {
      size_t size = r.size;
      memset(sector + size, 0xFF, kSectorSize - size);
      if (writeSlot(target, sector, size, out.seq) == nullptr) out.slot = target;
    }
  }
  memset(sector, 0, kSectorSize);  // it held the private key
  free(sector);
  return reason;
}

}  // namespace

void loadCredentials(Credentials &c, const BearSSL::X509List &ca, const HeaderIdentity &header) {
  const char *reason = readRecord(ca, c);
  if (c.source == CredSource::flash) return;
  c.slot = -1;
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

const char *storeRenewedRecord(Credentials &cred, const HeaderIdentity &header, const uint8_t *certDer, size_t certLen, uint32_t notBefore) {
  // The sector not in use; the header's client may take either (slot 1 first: on a core layout
  // the spare one, nobody else's), and a broken record there leaves the header's client as it
  // was. On an own layout both slots always exist, so "storage" never happens there.
  // A record still in the EEPROM sector on an own layout (kCoreSlot: its copy failed) is renewed
  // into slot 1, like the header's: the EEPROM sector is never written.
  int target = cred.slot == 0 ? 1 : cred.slot == 1 ? 0 : (slotAddress(1) != 0 ? 1 : 0);
  if (slotAddress(target) == 0) return "storage";
  size_t idLen = strlen(cred.clientId);
  uint8_t *sector = (uint8_t *)malloc(kSectorSize);
  if (sector == nullptr) return "memory";
  // The key in use, where the new record wants it: after the header, id and new certificate.
  size_t keyAt = kHeaderSizeV2 + idLen + certLen;
  const char *reason = nullptr;
  size_t keyLen = 0;
  uint8_t keyType = cred.keyIsEc ? kKeyEc : kKeyRsa;
  if (cred.slot >= 0) {
    Record r;
    SlotState st = readSlot(cred.slot, sector, r);
    if (st.reason != nullptr || !st.present) reason = "read";
    keyLen = r.keyLen;
    if (reason == nullptr && keyAt + keyLen + kChecksumSize > kSectorSize) reason = "size";
    if (reason == nullptr) memmove(sector + keyAt, r.key, keyLen);
  } else {
    keyLen = header.keyLen;
    if (keyAt + keyLen + kChecksumSize > kSectorSize) reason = "size";
    else memcpy_P(sector + keyAt, header.keyDer, keyLen);
  }
  size_t end = keyAt + keyLen;
  if (reason == nullptr) {
    memcpy(sector, kMagic, sizeof kMagic);
    uint32_t seq = cred.seq + 1;
    const uint8_t fields[16] = {(uint8_t)kVersion2, (uint8_t)(kVersion2 >> 8), keyType, (uint8_t)idLen,
                                (uint8_t)certLen, (uint8_t)(certLen >> 8), (uint8_t)keyLen, (uint8_t)(keyLen >> 8),
                                (uint8_t)notBefore, (uint8_t)(notBefore >> 8), (uint8_t)(notBefore >> 16), (uint8_t)(notBefore >> 24),
                                (uint8_t)seq, (uint8_t)(seq >> 8), (uint8_t)(seq >> 16), (uint8_t)(seq >> 24)};
    memcpy(sector + sizeof kMagic, fields, sizeof fields);
    memcpy(sector + kHeaderSizeV2, cred.clientId, idLen);
    memcpy(sector + kHeaderSizeV2 + idLen, certDer, certLen);
    br_sha256_context sha;
    br_sha256_init(&sha);
    br_sha256_update(&sha, sector, end);
    br_sha256_out(&sha, sector + end);
    size_t size = end + kChecksumSize;
    memset(sector + size, 0xFF, kSectorSize - size);
    reason = writeSlot(target, sector, size, seq);
    if (reason == nullptr) {
      cred.slot = target;
      cred.seq = seq;
      cred.source = CredSource::flash;
    }
  }
  memset(sector, 0, kSectorSize);  // it held the private key
  free(sector);
  return reason;
}
