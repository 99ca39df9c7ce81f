// The chip's RTC memory and deep sleep. The rehearsal's environment:
//   ESP_CERTS_RTC=<file>   the 512 bytes of user RTC memory, kept across runs as the chip keeps
//                          them across deep sleep; after them, 4 bytes: the reset reason of the
//                          next run (ESP.getResetInfoPtr()->reason). A missing file is a power-on.
// ESP.deepSleep(us) ends the run as the chip's deep sleep ends the program: the next run, with
// the same file, is the wake ("Deep-Sleep Wake", the ROM's rst cause:5). A run that ends any other
// way leaves an external reset (rst cause 6) for the next, with the memory kept, as the reset
// button would.
#include <Arduino.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <user_interface.h>

#include "rehearsal.h"

namespace {

const size_t kUserBytes = 512;

struct Rtc {
  uint8_t user[kUserBytes];
  uint32_t nextReason;
};

Rtc rtc;
rst_info resetInfo;
const char *rtcFile = nullptr;

void save() {
  if (rtcFile == nullptr) return;
  int fd = open(rtcFile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write(fd, &rtc, sizeof rtc) != (ssize_t)sizeof rtc) {
    fprintf(stderr, "firmware: cannot write ESP_CERTS_RTC %s: %s\n", rtcFile, strerror(errno));
    _exit(2);
  }
  close(fd);
}

// Before the firmware's globals: the reset reason is known from the first instruction.
__attribute__((constructor(102))) void loadRtc() {
  // A power-on leaves RTC memory undefined: the firmware must not trust what it reads then.
  memset(rtc.user, 0xA5, sizeof rtc.user);
  resetInfo.reason = REASON_DEFAULT_RST;
  rtcFile = getenv("ESP_CERTS_RTC");
  if (rtcFile == nullptr || *rtcFile == '\0') {
    rtcFile = nullptr;
    return;
  }
  int fd = open(rtcFile, O_RDONLY);
  if (fd >= 0) {
    Rtc kept;
    if (read(fd, &kept, sizeof kept) == (ssize_t)sizeof kept) {
      rtc = kept;
      resetInfo.reason = kept.nextReason;
    }
    close(fd);
  }
  rtc.nextReason = REASON_EXT_SYS_RST;
  save();
}

}  // namespace

bool EspClass::rtcUserMemoryRead(uint32_t offset, uint32_t *data, size_t size) {
  if (offset * 4 + size > kUserBytes || size == 0) return false;
  memcpy(data, rtc.user + offset * 4, size);
  return true;
}

bool EspClass::rtcUserMemoryWrite(uint32_t offset, uint32_t *data, size_t size) {
  if (offset * 4 + size > kUserBytes || size == 0) return false;
  memcpy(rtc.user + offset * 4, data, size);
  save();
  return true;
}

void EspClass::deepSleep(uint64_t, RFMode) {
  rtc.nextReason = REASON_DEEP_SLEEP_AWAKE;
  save();
  rehearsalWakeEnd();
  _exit(0);
}

// The core computes it from the RTC clock's calibration (3 to 4 hours, varying with temperature);
// the rehearsal takes a period of 5.5 us per tick: 2^31 ticks.
uint64_t EspClass::deepSleepMax() { return (uint64_t)(5.5 * 4096) * 0x7FFFFFFFULL / 4096; }

rst_info *EspClass::getResetInfoPtr() { return &resetInfo; }
