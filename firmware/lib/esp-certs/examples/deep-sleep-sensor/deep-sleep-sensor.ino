// A battery sensor: it wakes from deep sleep, publishes one reading (retained, so whoever
// subscribes later sees the last one at once) and sleeps again. Wire GPIO16 (D0) to RST: the RTC
// timer wakes the chip through it.
//
// The wake after the first resumes its TLS session and takes the record size, the broker address
// and the clock from what the wake before kept in RTC memory: no public-key operation, no probe,
// no name lookup, no NTP wait (docs/deep-sleep.md). What is left is the radio's time.
#include <ESP8266WiFi.h>

#if !__has_include("wifi_secrets.h")
#error "firmware/include/wifi_secrets.h is missing: copy firmware/include/wifi_secrets.example.h to firmware/include/wifi_secrets.h and write your WiFi name and password in it (it is git-ignored)"
#endif
#include "wifi_secrets.h"

#if !__has_include("esp_certs.h")
#error "firmware/include/esp_certs.h is missing: run `npx esp-certs generate` in the project folder (pio run also makes it, through the esp-certs hook)"
#endif
#include "esp_certs.h"
#include <EspCerts.h>

// Five minutes between readings (ESP.deepSleepMax(), 3 to 4 hours, is the chip's limit).
const uint64_t kSleepUs = 5ULL * 60 * 1000000;
// A wake that cannot publish within this sleeps anyway: the battery outlives one lost reading.
const uint32_t kGiveUpMs = 20000;

EspCerts device(ESP_CERTS_CONFIG);

void setup() {
  WiFi.mode(WIFI_STA);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  device.begin();
}

void loop() {
  device.loop();
  if (device.online()) {
    char reading[16];
    snprintf(reading, sizeof reading, "%d", analogRead(A0));
    device.publish(device.topic("reading").c_str(), reading, true);
    device.sleepFor(kSleepUs);  // closes the session cleanly, keeps what the next wake needs
  } else if (millis() >= kGiveUpMs) {
    device.sleepFor(kSleepUs);
  }
}
