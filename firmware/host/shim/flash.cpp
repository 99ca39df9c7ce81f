// The chip's SPI flash, as far as the firmware reads it: the EEPROM library's sector, which
// holds the credential record (docs/credential-record.md). The rehearsal's environment:
//   ESP_CERTS_FLASH=<file>   the sector's contents (the record at its start; the rest, and
//                            the whole sector without the variable, reads as erased: 0xFF)
#include <Arduino.h>
#include <errno.h>
#include <fcntl.h>
#include <flash_hal.h>
#include <stdlib.h>
#include <unistd.h>

namespace {

const uint32_t kSectorSize = 4096;
const uint32_t kSector = EEPROM_start - 0x40200000;

}  // namespace

bool EspClass::flashRead(uint32_t address, uint8_t *data, size_t size) {
  if (address < kSector || address + size > kSector + kSectorSize) {
    fprintf(stderr, "firmware: the rehearsal has no flash at 0x%06x (only the credential sector 0x%06x)\n", address, kSector);
    return false;
  }
  memset(data, 0xFF, size);
  const char *file = getenv("ESP_CERTS_FLASH");
  if (file == nullptr || *file == '\0') return true;
  // POSIX calls, not stdio: a FILE stays on the C library's heap and would count against the sketch's.
  int fd = open(file, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "firmware: cannot open ESP_CERTS_FLASH %s: %s\n", file, strerror(errno));
    return false;
  }
  // A short file leaves the rest erased.
  ssize_t n = pread(fd, data, size, (off_t)(address - kSector));
  close(fd);
  return n >= 0;
}
