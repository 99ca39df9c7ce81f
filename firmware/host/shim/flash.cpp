// The chip's SPI flash, as far as the firmware uses it: the two credential sectors
// (docs/credential-record.md). On a core layout the spare sector below the EEPROM library's and
// the EEPROM sector itself; on esp-certs' own layout (make LAYOUT=own) the two from
// ESP_CERTS_CRED_START, and the EEPROM sector for reading (an erase or write there is refused).
// The rehearsal's environment:
//   ESP_CERTS_FLASH=<file>     the two sectors in address order (core layout: the spare sector at
//                              offset 0, the EEPROM sector at 4096; own layout: its first sector
//                              at 0, its second at 4096). A shorter file, or none, reads as
//                              erased flash (0xFF) past its end; erases and writes go to the file.
//   ESP_CERTS_EEPROM=<file>    own layout only: the EEPROM sector's 4 KiB, read only (what a core
//                              layout's record or the sketch's EEPROM data left there). None, or a
//                              shorter file, reads as erased; an erase or write there is refused.
//   ESP_CERTS_FLASH_CUT=<n>    a power cut: the n-th erase or write stops half-way and the
//                              process ends at once (exit 0), as a board losing power would.
#include <Arduino.h>
#include <errno.h>
#include <fcntl.h>
#include <flash_hal.h>
#include <stdlib.h>
#include <unistd.h>

namespace {

const uint32_t kSectorSize = 4096;
const uint32_t kFirst = ESP_CERTS_CRED_START != 0 ? ESP_CERTS_CRED_START - 0x40200000 : EEPROM_start - 0x40200000 - kSectorSize;
const uint32_t kEnd = kFirst + 2 * kSectorSize;
unsigned operations = 0;
// Own layout only: the EEPROM sector, readable from ESP_CERTS_EEPROM.
const uint32_t kEeprom = ESP_CERTS_CRED_START != 0 ? EEPROM_start - 0x40200000 : 0;

bool inEeprom(uint32_t address, size_t size) { return kEeprom != 0 && address >= kEeprom && address + size <= kEeprom + kSectorSize; }

bool inRange(uint32_t address, size_t size) {
  if (address >= kFirst && address + size <= kEnd) return true;
  if (inEeprom(address, size)) {
    fprintf(stderr, "firmware: an erase or write of the EEPROM sector 0x%06x: esp-certs' own layout only reads it\n", address);
    return false;
  }
  fprintf(stderr, "firmware: the rehearsal has no flash at 0x%06x (only the credential sectors 0x%06x-0x%06x)\n", address, kFirst, kEnd);
  return false;
}

const char *flashFile(const char *variable = "ESP_CERTS_FLASH") {
  const char *file = getenv(variable);
  return file != nullptr && *file != '\0' ? file : nullptr;
}

// Counts an erase or write; on the one ESP_CERTS_FLASH_CUT names, returns how much of it
// happens before the power goes (half), else all of it.
size_t beforeCut(size_t size, bool &cut) {
  operations++;
  const char *at = getenv("ESP_CERTS_FLASH_CUT");
  cut = at != nullptr && *at != '\0' && strtoul(at, nullptr, 10) == operations;
  return cut ? size / 2 : size;
}

bool writeFile(uint32_t address, const uint8_t *data, size_t size) {
  const char *file = flashFile();
  if (file == nullptr) {
    fprintf(stderr, "firmware: flash write without ESP_CERTS_FLASH\n");
    return false;
  }
  int fd = open(file, O_WRONLY | O_CREAT, 0600);
  if (fd < 0) {
    fprintf(stderr, "firmware: cannot open ESP_CERTS_FLASH %s: %s\n", file, strerror(errno));
    return false;
  }
  // A short file is erased flash past its end: fill the gap before writing beyond it.
  off_t end = lseek(fd, 0, SEEK_END);
  uint8_t erased[256];
  memset(erased, 0xFF, sizeof erased);
  while (end >= 0 && (uint32_t)end < address - kFirst) {
    size_t n = address - kFirst - (uint32_t)end < sizeof erased ? address - kFirst - (uint32_t)end : sizeof erased;
    if (pwrite(fd, erased, n, end) != (ssize_t)n) break;
    end += n;
  }
  bool ok = pwrite(fd, data, size, (off_t)(address - kFirst)) == (ssize_t)size;
  fsync(fd);
  close(fd);
  return ok;
}

}  // namespace

bool EspClass::flashRead(uint32_t address, uint8_t *data, size_t size) {
  bool eeprom = inEeprom(address, size);
  if (!eeprom && !inRange(address, size)) return false;
  memset(data, 0xFF, size);
  const char *variable = eeprom ? "ESP_CERTS_EEPROM" : "ESP_CERTS_FLASH";
  const char *file = flashFile(variable);
  if (file == nullptr) return true;
  // POSIX calls, not stdio: a FILE stays on the C library's heap and would count against the sketch's.
  int fd = open(file, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "firmware: cannot open %s %s: %s\n", variable, file, strerror(errno));
    return false;
  }
  ssize_t n = pread(fd, data, size, (off_t)(address - (eeprom ? kEeprom : kFirst)));
  close(fd);
  // Bytes past the file's end stay erased.
  if (n >= 0 && (size_t)n < size) memset(data + n, 0xFF, size - n);
  return n >= 0;
}

bool EspClass::flashEraseSector(uint32_t sector) {
  uint32_t address = sector * kSectorSize;
  if (!inRange(address, kSectorSize)) return false;
  bool cut;
  size_t n = beforeCut(kSectorSize, cut);
  uint8_t erased[kSectorSize];
  memset(erased, 0xFF, sizeof erased);
  bool ok = writeFile(address, erased, n);
  if (cut) _exit(0);
  return ok;
}

bool EspClass::flashWrite(uint32_t address, const uint8_t *data, size_t size) {
  if (!inRange(address, size) || address % 4 != 0 || size % 4 != 0) return false;
  // NOR flash programs bits from 1 to 0 only: what lands is the old content AND the new.
  uint8_t *merged = (uint8_t *)malloc(size);
  if (merged == nullptr || !flashRead(address, merged, size)) {
    free(merged);
    return false;
  }
  for (size_t i = 0; i < size; i++) merged[i] &= data[i];
  bool cut;
  size_t n = beforeCut(size, cut);
  bool ok = writeFile(address, merged, n);
  free(merged);
  if (cut) _exit(0);
  return ok;
}
