#include "EspCerts.h"

#include <stdio.h>
#include <string.h>

#include "report.h"

namespace {

const uint32_t kWifiReportMs = 20000;
const uint32_t kNtpTimeoutMs = 5000;
// The core's default; lwIP itself gives up on a .local name after about 7 s.
const uint32_t kDnsTimeoutMs = 10000;
const uint32_t kFirstBackoffMs = 2000;
const uint32_t kMaxBackoffMs = 60000;
// The smallest record size TLS can negotiate: the receive buffer shrinks from 16384 + 325
// bytes to 512 + 325.
const uint16_t kFragmentLength = 512;

// A random wait in [ms/2, ms]: a fleet that lost its broker at the same moment does not come
// back in lockstep. ESP.random() reads the chip's hardware generator, different on every board.
uint32_t jittered(uint32_t ms) { return ms / 2 + ESP.random() % (ms / 2 + 1); }

}  // namespace

EspCerts::EspCerts(const EspCertsConfig &config)
    : _config(config), _broker(config.host, config.address), _mqtt(_tls), _clock(config.generatedAt) {}

void EspCerts::begin() {
  reportBegin();
  // Built here, not in a global constructor: BearSSL parses the certificate.
  _ca.reset(new BearSSL::X509List(_config.caDer, _config.caLen));
  loadCredentials(_cred, *_ca, _config.client);
  report("boot client=%s host=%s port=%u ca=%.16s cred=%s", _cred.clientId, _config.host, _config.port, _config.caSha256,
         credSourceName(_cred.source));
  if (_cred.source == CredSource::none) {
    // Without an identity the device never dials: the broker would refuse it anyway.
    report("cred none hint=\"unprovisioned: esp-certs provision --port <port> --client <id> writes its identity\"");
    _state = State::noIdentity;
    return;
  }
  snprintf(_statusTopic, sizeof _statusTopic, "%s/status", _cred.clientId);
  configureTls();
  _mqtt.setServer(_config.host, _config.port);
  _mqtt.setCallback([this](char *topic, uint8_t *payload, unsigned int length) { dispatch(topic, payload, length); });
  _renewal.reset(new CredRenewal(_cred, *_ca, _config.client, _clock));
  _renewal->begin(_mqtt);
  _backoffMs = kFirstBackoffMs;
  takeKept();
  enter(State::wifi);
}

bool EspCerts::loop() {
  if (_state == State::noIdentity) return false;
  if (_wifiJoined && _state != State::wifi && WiFi.status() != WL_CONNECTED) {
    // A drop after boot: the session is gone with the network; back to the first step.
    report("wifi fail status=%d", (int)WiFi.status());
    _tls.stop();  // keeps the TLS session for the reconnect
    enter(State::wifi);
  }
  switch (_state) {
    case State::wifi: stepWifi(); break;
    case State::time: stepTime(); break;
    case State::name: stepName(); break;
    case State::tls: stepTls(); break;
    case State::mqtt: stepMqtt(); break;
    case State::online: stepOnline(); break;
    case State::noIdentity: break;
  }
  if (_clockSet) _clock.poll();
  return online();
}

void EspCerts::enter(State next) {
  _state = next;
  _stateSince = millis();
}

void EspCerts::stepWifi() {
  wl_status_t status = WiFi.status();
  if (status == WL_CONNECTED) {
    IPAddress ip = WiFi.localIP();
    report("wifi ok ip=%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
    _wifiJoined = true;
    if (_clockSet) {
      enter(State::name);
    } else {
      _clock.start();
      enter(State::time);
    }
  } else if (millis() - _stateSince >= kWifiReportMs) {
    // The SDK keeps trying by itself; the monitor hears about it every kWifiReportMs.
    report("wifi fail status=%d", (int)status);
    _stateSince = millis();
  }
}

void EspCerts::stepTime() {
  if (!_clock.settle(kNtpTimeoutMs)) return;
  _clockSet = true;
  enter(State::name);
}

// Waits out the delay after a failure, then finds the broker's address (dns ok, or dns fail
// and a fallback, docs/windows.md). Without one there is no TLS attempt.
void EspCerts::stepName() {
  if ((int32_t)(millis() - _retryAt) < 0) return;
  // A deep-sleep wake dials the address the wake before kept, with no lookup.
  if (!_keptAddress && !_broker.find(_brokerIp, kDnsTimeoutMs)) {
    retryLater();
    return;
  }
  enter(State::tls);
}

void EspCerts::stepTls() {
  if (_renewal->takeRenewed()) {
    // A resumed session would show the broker the certificate it was made with.
    _session = BearSSL::Session();
    configureTls();
  }
  _tls.setX509Time(_clock.now());
  if (!chooseRecordSize()) {
    tlsFailed();
    return;
  }
  uint32_t start = millis();
  // Whichever address it dials, the broker certificate must name the host.
  if (!_tls.connect(_brokerIp, _config.port, _config.host)) {
    if (_keptAddress) keptFailed();
    else tlsFailed();
    return;
  }
  if (_keptAddress) _broker.setLastGood(_brokerIp);
  else _broker.worked();
  char mfln[8] = "none";
  if (_tls.getMFLNStatus()) snprintf(mfln, sizeof mfln, "%u", kFragmentLength);
  report("tls ok host=%s port=%u ms=%lu heap=%lu mfln=%s resumed=%d", _config.host, _config.port,
         (unsigned long)(millis() - start), (unsigned long)ESP.getFreeHeap(), mfln, _watch.resumed() ? 1 : 0);
  enter(State::mqtt);
}

void EspCerts::stepMqtt() {
  // The broker keeps "offline" as the retained status should the device vanish.
  if (!_mqtt.connect(_cred.clientId, _statusTopic, 0, true, "offline")) {
    report("mqtt fail state=%d", _mqtt.state());
    _tls.stop();
    retryLater();
    return;
  }
  report("mqtt ok client=%s", _cred.clientId);
  _mqtt.publish(_statusTopic, "online", true);
  _renewal->connected(_mqtt);
  _backoffMs = kFirstBackoffMs;
  enter(State::online);
  if (_onConnect != nullptr) _onConnect();
}

void EspCerts::stepOnline() {
  if (_mqtt.loop()) {
    if (!_renewal->reconnectWanted()) return;
    // Connect again at once with the renewed certificate (not a failure: no line).
    _mqtt.disconnect();
    enter(State::tls);
    return;
  }
  report("mqtt fail state=%d", _mqtt.state());
  _tls.stop();  // keeps the session of the connection that ended
  // The first attempt after a lost session within kFirstBackoffMs, at a random moment.
  _retryAt = millis() + ESP.random() % kFirstBackoffMs;
  _backoffMs = kFirstBackoffMs;
  enter(State::name);
}

void EspCerts::configureTls() {
  if (_cred.keyIsEc) {
    // BearSSL wants the key type of the CA that signed the client certificate. The key
    // only signs: its certificate allows digitalSignature, not the keyAgreement that
    // static ECDH (BR_KEYTYPE_KEYX) would use.
    unsigned issuerKeyType = _ca->getCount() > 0 ? _ca->getTrustAnchors()[0].pkey.key_type : BR_KEYTYPE_RSA;
    _tls.setClientECCert(_cred.cert.get(), _cred.key.get(), BR_KEYTYPE_SIGN, issuerKeyType);
  } else {
    _tls.setClientRSACert(_cred.cert.get(), _cred.key.get());
  }
  // Last: it resets the other ways of authenticating the server (insecure, fingerprint).
  _tls.setTrustAnchors(_ca.get());
  _tls.setSession(&_session);
  _tls.setCertStore(&_watch);
}

// A 16 KiB receive buffer does not fit beside WiFi on the ESP8266's heap; ask whether the
// broker will keep its records small. Once per program, as soon as the broker answers on TCP:
// asking opens a connection and a TLS hello that the broker logs as a protocol error. False
// when nothing listens (then no probe and no TLS attempt: one TCP connection per retry).
bool EspCerts::chooseRecordSize() {
  if (_recordSizeChosen) return true;
  WiFiClient tcp;
  if (!tcp.connect(_brokerIp, _config.port)) return false;
  tcp.stop();
  _recordSizeChosen = true;
  if (BearSSL::WiFiClientSecure::probeMaxFragmentLength(_brokerIp, _config.port, kFragmentLength)) {
    _recordSize = kFragmentLength;
    _tls.setBufferSizes(kFragmentLength, kFragmentLength);
  } else {
    _recordSize = 0;
    _tls.setBufferSizes(16384, 512);
  }
  return true;
}

// The ESP8266 core (3.x) moves BearSSL's "fatal alert" flag (256 received, 512 sent) from
// the number into the text; it is put back so the number alone reads as an alert:
// 296 is the broker's handshake_failure, where a bare 40 would name an X.509 error.
void EspCerts::tlsFailed() {
  char text[160];
  int code = _tls.getLastSSLError(text, sizeof text);
  if (code > 0 && code < BR_ERR_RECV_FATAL_ALERT) {
    if (strstr(text, "received fatal alert") != nullptr) code += BR_ERR_RECV_FATAL_ALERT;
    else if (strstr(text, "sent fatal alert") != nullptr) code += BR_ERR_SEND_FATAL_ALERT;
  }
  // 0 ("OK"): TLS never started, or the broker hung up without a word.
  if (code == 0) {
    snprintf(text, sizeof text, "no TLS from %s:%u at %u.%u.%u.%u (no broker listening, or it hung up)", _config.host,
             _config.port, _brokerIp[0], _brokerIp[1], _brokerIp[2], _brokerIp[3]);
    _broker.unreachable();
  }
  report("tls fail code=%d text=\"%s\"", code, text);
  _tls.stop();
  retryLater();
}

// After a failed attempt: 1-2 s, then 2-4, 4-8 ... up to 30-60 s.
void EspCerts::retryLater() {
  _retryAt = millis() + jittered(_backoffMs);
  _backoffMs = _backoffMs * 2 > kMaxBackoffMs ? kMaxBackoffMs : _backoffMs * 2;
  enter(State::name);
}

void EspCerts::dispatch(char *topic, uint8_t *payload, unsigned int length) {
  if (_renewal->onMessage(topic, payload, length)) return;
  if (_onMessage) _onMessage(topic, payload, length);
}

String EspCerts::topic(const char *suffix) const {
  String t(_cred.clientId);
  t += '/';
  t += suffix;
  return t;
}

bool EspCerts::publish(const char *topic, const char *payload, bool retained) {
  return online() && _mqtt.publish(topic, payload, retained);
}

bool EspCerts::publish(const char *topic, const uint8_t *payload, unsigned int length, bool retained) {
  return online() && _mqtt.publish(topic, payload, length, retained);
}

bool EspCerts::subscribe(const char *topic, uint8_t qos) { return online() && _mqtt.subscribe(topic, qos); }
