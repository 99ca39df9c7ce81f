#pragma once

#include <stdint.h>

// IPv4 only, like the ESP8266's lwIP build the firmware runs on.
class IPAddress {
 public:
  IPAddress() = default;
  IPAddress(uint8_t a, uint8_t b, uint8_t c, uint8_t d) : _bytes{a, b, c, d} {}
  uint8_t operator[](int index) const { return _bytes[index]; }
  uint8_t &operator[](int index) { return _bytes[index]; }

 private:
  uint8_t _bytes[4] = {0, 0, 0, 0};
};
