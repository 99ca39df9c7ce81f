#include "cred_renew.h"

#include <Arduino.h>
#include <bearssl/bearssl.h>
#include <stdio.h>
#include <string.h>

#include "cert_check.h"
#include "cert_info.h"
#include "report.h"

namespace {

// The largest certificate taken (an RSA-2048 client certificate is about 1 KB); the MQTT
// buffer holds it with the packet's header and topic, and a little more, so that a payload
// somewhat too large is refused with reason=size (one larger than the buffer PubSubClient
// drops by itself, unseen).
const size_t kMaxCertLen = 1800;
const uint16_t kMqttBufferSize = 2048;

}  // namespace

void CredRenewal::begin(PubSubClient &mqtt) {
  snprintf(_certTopic, sizeof _certTopic, "%s/esp-certs/cert", _cred.clientId);
  snprintf(_stateTopic, sizeof _stateTopic, "%s/esp-certs/state", _cred.clientId);
  mqtt.setBufferSize(kMqttBufferSize);
}

void CredRenewal::connected(PubSubClient &mqtt) {
  // QoS 1: the broker keeps sending the retained certificate until the device acknowledges it.
  mqtt.subscribe(_certTopic, 1);
  const br_x509_certificate &in = _cred.cert->getX509Certs()[0];
  CertInfo info;
  if (!readCertInfo(in.data, in.data_len, info)) return;
  char state[112];
  snprintf(state, sizeof state, "{\"serial\":\"%s\",\"until\":%lu,\"cred\":\"%s\"}", info.serial, (unsigned long)info.notAfter,
           credSourceName(_cred.source));
  mqtt.publish(_stateTopic, state, true);
}

const char *CredRenewal::check(const uint8_t *der, size_t len) {
  const br_x509_certificate &in = _cred.cert->getX509Certs()[0];
  // An empty message is a cleared retained one; the certificate in use comes at every connect.
  if (len == 0 || (len == in.data_len && memcmp(der, in.data, len) == 0)) return "";
  if (len > kMaxCertLen) return "size";
  CertCheck check = checkCert(der, len, _ca, (uint32_t)_clock.now(), *_cred.key, _cred.clientId, strlen(_cred.clientId));
  switch (check.chain) {
    case CertCheck::Chain::expired: return "expired";
    case CertCheck::Chain::untrusted: return "issuer";
    case CertCheck::Chain::malformed: return "cert";
    case CertCheck::Chain::trusted: break;
  }
  if (!check.cnMatches) return "id";
  if (!check.keyMatches) return "key";
  CertInfo offered, current;
  if (!readCertInfo(der, len, offered) || !readCertInfo(in.data, in.data_len, current)) return "cert";
  if (offered.notAfter <= current.notAfter) return "older";
  return nullptr;
}

bool CredRenewal::onMessage(const char *topic, const uint8_t *payload, unsigned int length) {
  if (strcmp(topic, _certTopic) != 0) return false;
  if (_renewed != nullptr) return true;
  const char *reason = check(payload, length);
  if (reason != nullptr && *reason == '\0') return true;
  CertInfo info;
  if (reason == nullptr && !readCertInfo(payload, length, info)) reason = "cert";
  if (reason == nullptr) reason = storeRenewedRecord(_cred, _header, payload, length, info.notBefore);
  if (reason != nullptr) {
    report("cred renew fail reason=%s", reason);
    return true;
  }
  _renewed = new BearSSL::X509List(payload, length);
  _reconnect = true;
  report("cred renewed serial=%s until=%lu", info.serial, (unsigned long)info.notAfter);
  return true;
}

bool CredRenewal::reconnectWanted() {
  bool wanted = _reconnect;
  _reconnect = false;
  return wanted;
}

bool CredRenewal::takeRenewed() {
  if (_renewed == nullptr) return false;
  _cred.cert.reset(_renewed);
  _renewed = nullptr;
  return true;
}
