// Certificates renewed in the field (docs/renewal.md): esp-certs
// renews a device's certificate on the device's own key and publishes it, retained, on
// `<id>/esp-certs/cert`. The device checks it, stores it beside the record in use so that a power
// cut leaves a usable identity, and connects with it. After every connect it publishes, retained,
// what it holds on `<id>/esp-certs/state`.
#pragma once

#include <PubSubClient.h>
#include <stddef.h>
#include <stdint.h>

#include "cred_record.h"
#include "device_clock.h"

class CredRenewal {
 public:
  CredRenewal(Credentials &cred, const BearSSL::X509List &ca, const HeaderIdentity &header, DeviceClock &clock)
      : _cred(cred), _ca(ca), _header(header), _clock(clock) {}

  // Once, before the first connect: the topics, and an MQTT buffer a certificate fits in.
  void begin(PubSubClient &mqtt);
  // After every connect: subscribes to the certificate topic and publishes the state.
  void connected(PubSubClient &mqtt);
  // PubSubClient's callback: a message on the certificate topic is a candidate renewal. True when
  // the message was on that topic (the library's own, binary: not the sketch's to see).
  bool onMessage(const char *topic, const uint8_t *payload, unsigned int length);
  // True once after a renewal was stored: the caller ends the connection and connects again
  // (takeRenewed() first) so that the broker sees the new certificate at once.
  bool reconnectWanted();
  // Before a connect: puts a stored renewal's certificate in use. True when it did (the TLS
  // client must take the new certificate, and a saved session must not be resumed).
  bool takeRenewed();

 private:
  // nullptr when `der` is this device's renewal, "" for the certificate in use (no line), else the reason.
  const char *check(const uint8_t *der, size_t len);

  Credentials &_cred;
  const BearSSL::X509List &_ca;
  const HeaderIdentity &_header;
  DeviceClock &_clock;
  char _certTopic[96] = "";
  char _stateTopic[96] = "";
  BearSSL::X509List *_renewed = nullptr;
  bool _reconnect = false;
};
