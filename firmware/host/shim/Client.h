#pragma once

#include <stddef.h>
#include <stdint.h>

#include "IPAddress.h"

// The slice of Arduino's Client interface (cores/esp8266/Client.h) PubSubClient needs.
class Client {
 public:
  virtual ~Client() = default;
  virtual int connect(IPAddress ip, uint16_t port) = 0;
  virtual int connect(const char *host, uint16_t port) = 0;
  virtual size_t write(const uint8_t *buf, size_t size) = 0;
  virtual int available() = 0;
  virtual int read() = 0;
  virtual int read(uint8_t *buf, size_t size) = 0;
  virtual void flush() = 0;
  virtual void stop() = 0;
  virtual uint8_t connected() = 0;
};
