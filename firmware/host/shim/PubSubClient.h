// Host stand-in for knolleary/PubSubClient 2.8: the calls the firmware makes, real
// MQTT 3.1.1 on the wire, and the same state() codes.
#pragma once

#include <Arduino.h>

#include <stdlib.h>

#include <functional>

#include "Client.h"

// As the library on the ESP8266: the callback is a std::function.
#define MQTT_CALLBACK_SIGNATURE std::function<void(char *, uint8_t *, unsigned int)> callback

#define MQTT_CONNECTION_TIMEOUT -4
#define MQTT_CONNECTION_LOST -3
#define MQTT_CONNECT_FAILED -2
#define MQTT_DISCONNECTED -1
#define MQTT_CONNECTED 0
#define MQTT_CONNECT_BAD_PROTOCOL 1
#define MQTT_CONNECT_BAD_CLIENT_ID 2
#define MQTT_CONNECT_UNAVAILABLE 3
#define MQTT_CONNECT_BAD_CREDENTIALS 4
#define MQTT_CONNECT_UNAUTHORIZED 5

class PubSubClient {
 public:
  explicit PubSubClient(Client &client) : _client(&client) { setBufferSize(256); }
  ~PubSubClient() { free(_in); }

  PubSubClient &setServer(const char *domain, uint16_t port);
  boolean connect(const char *id);
  boolean connect(const char *id, const char *willTopic, uint8_t willQos, boolean willRetain,
                  const char *willMessage);
  void disconnect();
  boolean publish(const char *topic, const char *payload);
  boolean publish(const char *topic, const char *payload, boolean retained);
  boolean publish(const char *topic, const uint8_t *payload, unsigned int length, boolean retained);
  // Sends SUBSCRIBE without waiting for SUBACK, as the library does.
  boolean subscribe(const char *topic, uint8_t qos = 0);
  PubSubClient &setCallback(MQTT_CALLBACK_SIGNATURE);
  // On the heap, as the library's (default MQTT_MAX_PACKET_SIZE 256): a larger incoming
  // packet is read and dropped without a call of the callback.
  boolean setBufferSize(uint16_t size);
  uint16_t getBufferSize() { return _bufferSize; }
  boolean loop();
  boolean connected();
  int state() { return _state; }

 private:
  boolean sendPacket(uint8_t header, const uint8_t *body, size_t len);
  // One whole packet into _in; its type byte, or -1 when none came within the timeout.
  int readPacket(uint32_t timeoutMs);
  // A PUBLISH in _in: the callback, then PUBACK for QoS 1.
  void deliver();

  Client *_client;
  const char *_domain = nullptr;
  uint16_t _port = 0;
  int _state = MQTT_DISCONNECTED;
  uint16_t _keepAliveSeconds = 15;
  unsigned long _lastOut = 0;
  unsigned long _lastIn = 0;
  bool _pingOutstanding = false;
  uint8_t *_in = nullptr;
  uint16_t _bufferSize = 0;
  size_t _inLen = 0;
  uint16_t _nextPacketId = 1;
  std::function<void(char *, uint8_t *, unsigned int)> _callback;
};
