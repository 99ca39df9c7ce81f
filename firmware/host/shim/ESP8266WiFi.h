// Host stand-in for libraries/ESP8266WiFi: the station, name lookup, TCP client, and
// the BearSSL classes. The network is the host's; names come from ESP_CERTS_HOSTS.
#pragma once

#include <Arduino.h>

#include "Client.h"
#include "IPAddress.h"

typedef enum { WIFI_OFF = 0, WIFI_STA = 1, WIFI_AP = 2, WIFI_AP_STA = 3 } WiFiMode_t;

typedef enum {
  WL_IDLE_STATUS = 0,
  WL_NO_SSID_AVAIL = 1,
  WL_SCAN_COMPLETED = 2,
  WL_CONNECTED = 3,
  WL_CONNECT_FAILED = 4,
  WL_CONNECTION_LOST = 5,
  WL_WRONG_PASSWORD = 6,
  WL_DISCONNECTED = 7
} wl_status_t;

class ESP8266WiFiClass {
 public:
  bool mode(WiFiMode_t mode);
  wl_status_t begin(const char *ssid, const char *passphrase = nullptr);
  wl_status_t status();
  IPAddress localIP();
  // ESP_CERTS_HOSTS_FILE (read at every lookup, so a test can change it) or ESP_CERTS_HOSTS
  // ("name=1.2.3.4,other=5.6.7.8"; "name=" never resolves) stand in for DNS and mDNS.
  int hostByName(const char *hostname, IPAddress &result);
  int hostByName(const char *hostname, IPAddress &result, uint32_t timeout_ms);

 private:
  bool _begun = false;
};
extern ESP8266WiFiClass WiFi;

class WiFiClient : public Client {
 public:
  ~WiFiClient() override;
  int connect(IPAddress ip, uint16_t port) override;
  int connect(const char *host, uint16_t port) override;
  size_t write(const uint8_t *buf, size_t size) override;
  int available() override;
  int read() override;
  int read(uint8_t *buf, size_t size) override;
  void flush() override {}
  void stop() override;
  uint8_t connected() override;

 protected:
  // Waits up to timeoutMs for bytes to read; false on timeout or a closed socket.
  bool waitReadable(uint32_t timeoutMs);

 private:
  int _fd = -1;
};

#include "BearSSLHelpers.h"
#include "CertStoreBearSSL.h"
#include "WiFiClientSecureBearSSL.h"
