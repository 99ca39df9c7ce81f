#pragma once

#include <stdint.h>

// IPv4 only, like the ESP8266's lwIP build the firmware runs on.
class IPAddress {
 public:
  IPAddress() = default;
  IPAddress(uint8_t a, uint8_t b, uint8_t c, uint8_t d) : _bytes{a, b, c, d} {}
  uint8_t operator[](int index) const { return _bytes[index]; }
  uint8_t &operator[](int index) { return _bytes[index]; }
  // Dotted IPv4 only; false (and unchanged) for anything else, as the core's.
  bool fromString(const char *address);
  bool isSet() const { return _bytes[0] | _bytes[1] | _bytes[2] | _bytes[3]; }
  bool operator==(const IPAddress &o) const {
    return _bytes[0] == o._bytes[0] && _bytes[1] == o._bytes[1] && _bytes[2] == o._bytes[2] && _bytes[3] == o._bytes[3];
  }
  bool operator!=(const IPAddress &o) const { return !(*this == o); }

 private:
  uint8_t _bytes[4] = {0, 0, 0, 0};
};
