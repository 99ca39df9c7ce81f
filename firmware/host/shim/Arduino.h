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
#define memcpy_P memcpy
// Flash and RAM are one address space here: a format "in flash" is read as any string.
#define PSTR(s) (s)
#define vsnprintf_P vsnprintf

#include "WString.h"

unsigned long millis();
void delay(unsigned long ms);
void yield();

// The ADC pin: the rehearsal reads ESP_CERTS_A0 (default 512), the chip 0 to 1023.
#define A0 17
int analogRead(uint8_t pin);

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
  // Waits until the UART has sent everything: the rehearsal writes at once.
  void flush() {}
};
extern HardwareSerial Serial;

// Esp.h's wake modes for deepSleep().
enum RFMode { RF_DEFAULT = 0, RF_CAL = 1, RF_NO_CAL = 2, RF_DISABLED = 4 };
#define WAKE_RF_DEFAULT RF_DEFAULT
#define WAKE_RFCAL RF_CAL
#define WAKE_NO_RFCAL RF_NO_CAL
#define WAKE_RF_DISABLED RF_DISABLED

struct rst_info;

class EspClass {
 public:
  uint32_t getFreeHeap();
  // The chip's hardware random number generator.
  uint32_t random();
  // As the core's; only the two credential sectors exist (flash.cpp).
  bool flashRead(uint32_t address, uint8_t *data, size_t size);
  bool flashEraseSector(uint32_t sector);
  // address and size multiples of 4, as on the chip.
  bool flashWrite(uint32_t address, const uint8_t *data, size_t size);
  // RTC memory and deep sleep (rtc.cpp): `offset` in 4-byte blocks, `size` in bytes, within the
  // 512 bytes of user memory. deepSleep() ends the run; ESP_CERTS_RTC keeps the memory for the next.
  static bool rtcUserMemoryRead(uint32_t offset, uint32_t *data, size_t size);
  static bool rtcUserMemoryWrite(uint32_t offset, uint32_t *data, size_t size);
  static void deepSleep(uint64_t time_us, RFMode mode = RF_DEFAULT);
  static uint64_t deepSleepMax();
  static struct rst_info *getResetInfoPtr();
};
extern EspClass ESP;

void setup();
void loop();
