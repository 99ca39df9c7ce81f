#include "cred_renew.h"

#include <Arduino.h>
#include <bearssl/bearssl.h>
#include <stdio.h>
#include <string.h>

#include "cert_info.h"
#include "report.h"

namespace {

// The largest certificate taken (an RSA-2048 client certificate is about 1 KB); the MQTT
// buffer holds it with the packet's header and topic, and a little more, so that a payload
// somewhat too large is refused with reason=size (one larger than the buffer PubSubClient
// drops by itself, unseen).
const size_t kMaxCertLen = 1800;
const uint16_t kMqttBufferSize = 2048;
const uint32_t kDaysTo1970 = 719528;
const uint8_t kOidCommonName[] = {3, 0x55, 0x04, 0x03};

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
  // Several KB: on the heap, not on the ESP8266's 4 KB stack.
  br_x509_minimal_context *x509 = new br_x509_minimal_context;
  br_name_element cn = {kOidCommonName, 0, 0, 0};
  char name[65];
  cn.buf = name;
  cn.len = sizeof name;
  br_x509_minimal_init_full(x509, _ca.getTrustAnchors(), _ca.getCount());
  br_x509_minimal_set_name_elements(x509, &cn, 1);
  time_t now = _clock.now();
  br_x509_minimal_set_time(x509, (uint32_t)(now / 86400) + kDaysTo1970, (uint32_t)(now % 86400));
  const br_x509_class **engine = &x509->vtable;
  (*engine)->start_chain(engine, nullptr);
  (*engine)->start_cert(engine, len);
  (*engine)->append(engine, der, len);
  (*engine)->end_cert(engine);
  unsigned err = (*engine)->end_chain(engine);
  const char *reason = nullptr;
  if (err == BR_ERR_X509_EXPIRED) {
    reason = "expired";
  } else if (err == BR_ERR_X509_NOT_TRUSTED || err == BR_ERR_X509_BAD_SIGNATURE) {
    reason = "issuer";
  } else if (err != 0) {
    reason = "cert";
  } else if (!cn.status || strcmp(name, _cred.clientId) != 0) {
    reason = "id";
  } else {
    const br_x509_pkey *pub = (*engine)->get_pkey(engine, nullptr);
    if (pub == nullptr || !keyMatchesPublic(*_cred.key, *pub)) reason = "key";
  }
  delete x509;
  if (reason != nullptr) return reason;
  CertInfo offered, current;
  if (!readCertInfo(der, len, offered) || !readCertInfo(in.data, in.data_len, current)) return "cert";
  if (offered.notAfter <= current.notAfter) return "older";
  return nullptr;
}

void CredRenewal::onMessage(const char *topic, const uint8_t *payload, unsigned int length) {
  if (strcmp(topic, _certTopic) != 0 || _renewed != nullptr) return;
  const char *reason = check(payload, length);
  if (reason != nullptr && *reason == '\0') return;
  CertInfo info;
  if (reason == nullptr && !readCertInfo(payload, length, info)) reason = "cert";
  if (reason == nullptr) reason = storeRenewedRecord(_cred, _header, payload, length, info.notBefore);
  if (reason != nullptr) {
    report("cred renew fail reason=%s", reason);
    return;
  }
  _renewed = new BearSSL::X509List(payload, length);
  _reconnect = true;
  report("cred renewed serial=%s until=%lu", info.serial, (unsigned long)info.notAfter);
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
