#include "rtc_keep.h"

#include <Arduino.h>
#include <string.h>
#include <user_interface.h>

#include <type_traits>

#include "report.h"

namespace {

// The session is kept as the bytes of the core's object: one br_ssl_session_parameters.
static_assert(std::is_trivially_copyable<BearSSL::Session>::value, "BearSSL::Session must be copyable as bytes");

const uint32_t kMagic = 0x6b706365;  // "ecpk"
const uint16_t kVersion = 1;
// The core's OTA update uses the first 32 blocks (128 bytes) of user RTC memory for the
// bootloader's command (bootloaders/eboot/eboot_command.h): the image goes after them.
const uint32_t kOffsetBlocks = 32;
const size_t kDigest = 8;

enum Flags : uint8_t { kSession = 1, kIp = 2, kRecordSize = 4, kClock = 8 };

struct alignas(4) Image {
  uint32_t magic;
  uint16_t version;
  uint16_t length;
  uint8_t ca[kDigest];
  uint8_t identity[kDigest];
  uint8_t broker[kDigest];
  uint8_t build[kDigest];
  uint32_t epoch;
  uint32_t age;
  uint16_t recordSize;
  uint8_t flags;
  uint8_t ip[4];
  uint8_t session[sizeof(BearSSL::Session)];
  uint8_t checksum[kDigest];
};
static_assert(sizeof(Image) % 4 == 0, "RTC memory is written in 4-byte blocks");
static_assert(kOffsetBlocks * 4 + sizeof(Image) <= 512, "the image must fit the 512 bytes of user RTC memory");

struct Sha {
  br_sha256_context ctx;
  Sha() { br_sha256_init(&ctx); }
  Sha &add(const void *data, size_t len) {
    br_sha256_update(&ctx, data, len);
    return *this;
  }
  Sha &add(const char *text) { return add(text, strlen(text)); }
  void out(uint8_t (&digest)[kDigest]) {
    uint8_t full[br_sha256_SIZE];
    br_sha256_out(&ctx, full);
    memcpy(digest, full, kDigest);
  }
};

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

// The fields that bind an image to its firmware, CA, client certificate and broker.
void ownerDigests(const KeepOwner &owner, Image &img) {
  for (size_t i = 0; i < kDigest; i++) {
    img.ca[i] = (uint8_t)(hexDigit(owner.caSha256[2 * i]) << 4 | hexDigit(owner.caSha256[2 * i + 1]));
  }
  Sha().add(owner.certDer, owner.certLen).out(img.identity);
  char port[8];
  snprintf(port, sizeof port, ":%u", owner.port);
  Sha().add(owner.host).add(port).out(img.broker);
  Sha().add(owner.build != nullptr ? owner.build : "").out(img.build);
}

void checksumOf(const Image &img, uint8_t (&digest)[kDigest]) { Sha().add(&img, offsetof(Image, checksum)).out(digest); }

// The word for `rtc fail reason=`, or nullptr when the image is valid for `owner`.
const char *problemWith(const Image &img, const KeepOwner &owner) {
  if (img.magic != kMagic || img.version != kVersion || img.length != sizeof(Image)) return "layout";
  uint8_t sum[kDigest];
  checksumOf(img, sum);
  if (memcmp(sum, img.checksum, kDigest) != 0) return "checksum";
  Image mine;
  ownerDigests(owner, mine);
  // The most telling difference first: a new CA or identity comes with a new build too.
  if (memcmp(mine.ca, img.ca, kDigest) != 0) return "ca";
  if (memcmp(mine.identity, img.identity, kDigest) != 0) return "identity";
  if (memcmp(mine.broker, img.broker, kDigest) != 0) return "broker";
  if (memcmp(mine.build, img.build, kDigest) != 0) return "image";
  if ((img.flags & kClock) != 0 && img.age > kKeptMaxAgeSeconds) return "age";
  return nullptr;
}

}  // namespace

bool sessionPresent(const BearSSL::Session &session) {
  br_ssl_session_parameters params;
  static_assert(sizeof params == sizeof session, "BearSSL::Session must be one br_ssl_session_parameters");
  memcpy(&params, static_cast<const void *>(&session), sizeof params);
  return params.session_id_len != 0;
}

bool restoreKept(const KeepOwner &owner, Kept &kept) {
  if (ESP.getResetInfoPtr()->reason != REASON_DEEP_SLEEP_AWAKE) return false;
  Image img;
  if (!ESP.rtcUserMemoryRead(kOffsetBlocks, reinterpret_cast<uint32_t *>(&img), sizeof img)) return false;
  const char *problem = problemWith(img, owner);
  if (problem != nullptr) {
    report("rtc fail reason=%s", problem);
    return false;
  }
  kept.hasSession = (img.flags & kSession) != 0;
  if (kept.hasSession) memcpy(static_cast<void *>(&kept.session), img.session, sizeof img.session);
  kept.recordSizeChosen = (img.flags & kRecordSize) != 0;
  kept.recordSize = img.recordSize;
  kept.hasIp = (img.flags & kIp) != 0;
  memcpy(kept.ip, img.ip, sizeof kept.ip);
  kept.hasClock = (img.flags & kClock) != 0;
  kept.epoch = img.epoch;
  kept.age = img.age;

  char ip[16] = "none";
  if (kept.hasIp) snprintf(ip, sizeof ip, "%u.%u.%u.%u", kept.ip[0], kept.ip[1], kept.ip[2], kept.ip[3]);
  char mfln[8] = "none";
  if (kept.recordSizeChosen && kept.recordSize != 0) snprintf(mfln, sizeof mfln, "%u", kept.recordSize);
  char age[12] = "none";
  if (kept.hasClock) snprintf(age, sizeof age, "%lu", (unsigned long)kept.age);
  report("rtc ok age=%s ip=%s mfln=%s session=%d", age, ip, mfln, kept.hasSession ? 1 : 0);
  return true;
}

bool saveKept(const KeepOwner &owner, const Kept &kept, uint64_t sleepUs) {
  Image img;
  memset(&img, 0, sizeof img);
  img.magic = kMagic;
  img.version = kVersion;
  img.length = sizeof img;
  ownerDigests(owner, img);
  uint32_t slept = (uint32_t)(sleepUs / 1000000);
  img.epoch = kept.epoch + slept;
  img.age = kept.age + slept;
  img.recordSize = kept.recordSize;
  img.flags = (kept.hasSession ? kSession : 0) | (kept.hasIp ? kIp : 0) | (kept.recordSizeChosen ? kRecordSize : 0) |
              (kept.hasClock ? kClock : 0);
  memcpy(img.ip, kept.ip, sizeof img.ip);
  if (kept.hasSession) memcpy(img.session, static_cast<const void *>(&kept.session), sizeof img.session);
  checksumOf(img, img.checksum);
  return ESP.rtcUserMemoryWrite(kOffsetBlocks, reinterpret_cast<uint32_t *>(&img), sizeof img);
}
