#include <PubSubClient.h>

#include <string>

#include "rehearsal.h"

namespace {

const uint32_t kSocketTimeoutMs = 15000;  // PubSubClient's MQTT_SOCKET_TIMEOUT

void putString(std::string &out, const char *s) {
  size_t n = strlen(s);
  out += (char)(n >> 8);
  out += (char)(n & 0xff);
  out += s;
}

}  // namespace

PubSubClient &PubSubClient::setServer(const char *domain, uint16_t port) {
  _domain = domain;
  _port = port;
  return *this;
}

boolean PubSubClient::connect(const char *id) { return connect(id, nullptr, 0, false, nullptr); }

// Like the library: reuses a client that is already connected (the firmware connects
// TLS itself to report the handshake), else dials setServer's host.
boolean PubSubClient::connect(const char *id, const char *willTopic, uint8_t willQos, boolean willRetain,
                              const char *willMessage) {
  if (connected()) return true;
  if (!_client->connected() && (_domain == nullptr || !_client->connect(_domain, _port))) {
    _state = MQTT_CONNECT_FAILED;
    return false;
  }
  std::string body("\0\4MQTT\4", 7);
  uint8_t flags = 0x02;  // clean session
  if (willTopic != nullptr) flags |= 0x04 | (uint8_t)(willQos << 3) | (willRetain ? 0x20 : 0);
  body += (char)flags;
  body += (char)(_keepAliveSeconds >> 8);
  body += (char)(_keepAliveSeconds & 0xff);
  putString(body, id);
  if (willTopic != nullptr) {
    putString(body, willTopic);
    putString(body, willMessage);
  }
  if (!sendPacket(0x10, reinterpret_cast<const uint8_t *>(body.data()), body.size())) {
    _state = MQTT_CONNECTION_LOST;
    return false;
  }
  int type = readPacket(kSocketTimeoutMs);
  rehearsalMeasureEnd();
  if (type < 0) {
    _state = MQTT_CONNECTION_TIMEOUT;
    _client->stop();
    return false;
  }
  if (type == 0x20 && _inLen == 4 && _in[3] == 0) {
    _state = MQTT_CONNECTED;
    _pingOutstanding = false;
    return true;
  }
  if (type == 0x20 && _inLen == 4) _state = _in[3];
  _client->stop();
  return false;
}

void PubSubClient::disconnect() {
  sendPacket(0xe0, nullptr, 0);
  _client->stop();
  _state = MQTT_DISCONNECTED;
}

boolean PubSubClient::publish(const char *topic, const char *payload) { return publish(topic, payload, false); }

boolean PubSubClient::publish(const char *topic, const char *payload, boolean retained) {
  return publish(topic, reinterpret_cast<const uint8_t *>(payload), strlen(payload), retained);
}

boolean PubSubClient::publish(const char *topic, const uint8_t *payload, unsigned int length, boolean retained) {
  if (!connected()) return false;
  // The library builds the packet in its buffer: a larger one is not sent.
  if (5 + 2 + strlen(topic) + length > _bufferSize) return false;
  std::string body;
  putString(body, topic);
  body.append(reinterpret_cast<const char *>(payload), length);
  return sendPacket(retained ? 0x31 : 0x30, reinterpret_cast<const uint8_t *>(body.data()), body.size());
}

boolean PubSubClient::subscribe(const char *topic, uint8_t qos) {
  if (!connected() || qos > 1) return false;
  std::string body;
  uint16_t id = _nextPacketId++;
  if (_nextPacketId == 0) _nextPacketId = 1;
  body += (char)(id >> 8);
  body += (char)(id & 0xff);
  putString(body, topic);
  body += (char)qos;
  return sendPacket(0x82, reinterpret_cast<const uint8_t *>(body.data()), body.size());
}

PubSubClient &PubSubClient::setCallback(MQTT_CALLBACK_SIGNATURE) {
  _callback = callback;
  return *this;
}

boolean PubSubClient::setBufferSize(uint16_t size) {
  if (size == 0) return false;
  uint8_t *bigger = (uint8_t *)realloc(_in, size);
  if (bigger == nullptr) return false;
  _in = bigger;
  _bufferSize = size;
  return true;
}

void PubSubClient::deliver() {
  // _in: fixed header byte, remaining length (1 to 4 bytes), topic, [packet id], payload.
  size_t at = 1;
  while (at < _inLen && (_in[at] & 0x80)) at++;
  at++;
  if (at + 2 > _inLen) return;
  size_t topicLen = (size_t)_in[at] << 8 | _in[at + 1];
  size_t topicAt = at + 2;
  size_t payloadAt = topicAt + topicLen;
  uint8_t qos = (_in[0] >> 1) & 3;
  uint16_t id = 0;
  if (qos > 0) {
    if (payloadAt + 2 > _inLen) return;
    id = (uint16_t)(_in[payloadAt] << 8 | _in[payloadAt + 1]);
    payloadAt += 2;
  }
  if (payloadAt > _inLen) return;
  // As the library: the topic is moved one byte back and ended with a NUL in the buffer.
  memmove(_in + topicAt - 1, _in + topicAt, topicLen);
  _in[topicAt - 1 + topicLen] = '\0';
  const char *topic = reinterpret_cast<char *>(_in + topicAt - 1);
  static const char kCertSuffix[] = "/esp-certs/cert";
  bool certMessage = topicLen >= sizeof kCertSuffix - 1 && strcmp(topic + topicLen - (sizeof kCertSuffix - 1), kCertSuffix) == 0;
  if (certMessage) rehearsalRenewalBegin();
  if (_callback) _callback(reinterpret_cast<char *>(_in + topicAt - 1), _in + payloadAt, (unsigned int)(_inLen - payloadAt));
  if (certMessage) rehearsalRenewalEnd();
  if (qos == 1) {
    uint8_t ack[2] = {(uint8_t)(id >> 8), (uint8_t)(id & 0xff)};
    sendPacket(0x40, ack, sizeof ack);
  }
}

boolean PubSubClient::loop() {
  if (!connected()) return false;
  unsigned long now = millis();
  if (now - _lastIn > _keepAliveSeconds * 1000UL || now - _lastOut > _keepAliveSeconds * 1000UL) {
    if (_pingOutstanding) {
      _state = MQTT_CONNECTION_TIMEOUT;
      _client->stop();
      return false;
    }
    sendPacket(0xc0, nullptr, 0);
    _lastIn = now;
    _pingOutstanding = true;
  }
  if (_client->available() > 0) {
    int type = readPacket(kSocketTimeoutMs);
    if (type == 0xd0) _pingOutstanding = false;
    else if (type == 0x30) deliver();
  }
  return true;
}

boolean PubSubClient::connected() {
  if (_client->connected()) return _state == MQTT_CONNECTED;
  if (_state == MQTT_CONNECTED) {
    _state = MQTT_CONNECTION_LOST;
    _client->stop();
  }
  return false;
}

boolean PubSubClient::sendPacket(uint8_t header, const uint8_t *body, size_t len) {
  std::string packet(1, (char)header);
  size_t remaining = len;
  do {
    uint8_t digit = remaining % 128;
    remaining /= 128;
    packet += (char)(remaining > 0 ? digit | 0x80 : digit);
  } while (remaining > 0);
  packet.append(reinterpret_cast<const char *>(body), len);
  _lastOut = millis();
  return _client->write(reinterpret_cast<const uint8_t *>(packet.data()), packet.size()) == packet.size();
}

int PubSubClient::readPacket(uint32_t timeoutMs) {
  unsigned long start = millis();
  auto next = [&](uint8_t &b) {
    while (_client->available() <= 0) {
      if (!_client->connected() || millis() - start >= timeoutMs) return false;
      delay(1);
    }
    int r = _client->read();
    if (r < 0) return false;
    b = (uint8_t)r;
    if (_inLen < _bufferSize) _in[_inLen] = b;
    _inLen++;
    return true;
  };
  _inLen = 0;
  uint8_t b;
  if (!next(b)) return -1;
  size_t length = 0;
  size_t multiplier = 1;
  do {
    if (!next(b)) return -1;
    length += (b & 0x7f) * multiplier;
    multiplier *= 128;
  } while ((b & 0x80) && multiplier <= 128 * 128 * 128);
  for (size_t i = 0; i < length; i++) {
    if (!next(b)) return -1;
  }
  _lastIn = millis();
  // Larger than the buffer: read to its end and ignored, as the library does.
  if (_inLen > _bufferSize) return 0;
  return _in[0] & 0xf0;
}
