// Host stand-in for the parts of the ESP8266 Arduino core that the esp-certs library and its sketch use.
// Signatures follow cores/esp8266/Arduino.h, HardwareSerial.h and Esp.h.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef bool boolean;

#ifndef PROGMEM
#define PROGMEM
#endif
// Flash and RAM are one address space here: a format "in flash" is read as any string.
#define PSTR(s) (s)
#define vsnprintf_P vsnprintf

#include "WString.h"

unsigned long millis();
void delay(unsigned long ms);
void yield();

// The chip's SNTP client. The rehearsal has none when ESP_CERTS_CLOCK is set.
void configTime(int timezone, int daylightOffset_sec, const char *server1, const char *server2 = nullptr,
                const char *server3 = nullptr);

// UART0: writes to the file or tty named by ESP_CERTS_SERIAL, else stdout.
class HardwareSerial {
 public:
  void begin(unsigned long baud);
  size_t print(const char *text);
  size_t println(const char *text = "");
  size_t printf(const char *format, ...) __attribute__((format(printf, 2, 3)));
  size_t write(const uint8_t *data, size_t len);
};
extern HardwareSerial Serial;

class EspClass {
 public:
  uint32_t getFreeHeap();
  // The chip's hardware random number generator.
  uint32_t random();
  // Any address and length, as the core's; only the credential sector exists (flash.cpp).
  bool flashRead(uint32_t address, uint8_t *data, size_t size);
};
extern EspClass ESP;

void setup();
void loop();
