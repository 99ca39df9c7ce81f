// probeMaxFragmentLength: a bare TLS 1.2 ClientHello asking for small records, read
// back as far as the ServerHello, then abandoned; and the ServerHello parser that
// getMFLNStatus also uses (the host's BearSSL 0.6 does not record the answer). No certificate is checked here;
// connect() does that.
#include <ESP8266WiFi.h>

#include "server_hello.h"

#include <algorithm>
#include <vector>

namespace {

const uint32_t kReplyTimeoutMs = 5000;

void put16(std::vector<uint8_t> &out, unsigned v) {
  out.push_back((uint8_t)(v >> 8));
  out.push_back((uint8_t)v);
}

// RFC 6066 codes: 1 = 512 ... 4 = 4096 bytes.
int fragmentCode(uint16_t len) {
  switch (len) {
    case 512: return 1;
    case 1024: return 2;
    case 2048: return 3;
    case 4096: return 4;
    default: return 0;
  }
}

std::vector<uint8_t> clientHello(int code) {
  // Suites any broker will pick one of, RSA or ECDSA keyed.
  const uint16_t suites[] = {0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc023, 0xc027, 0x009c, 0x002f};
  std::vector<uint8_t> ext;
  put16(ext, 0x0001), put16(ext, 1), ext.push_back((uint8_t)code);  // max_fragment_length
  put16(ext, 0x000a), put16(ext, 4), put16(ext, 2), put16(ext, 0x0017);  // groups: secp256r1
  put16(ext, 0x000b), put16(ext, 2), ext.push_back(1), ext.push_back(0);  // points: uncompressed
  const uint16_t sigalgs[] = {0x0401, 0x0403, 0x0501, 0x0503, 0x0201, 0x0203};
  put16(ext, 0x000d), put16(ext, 2 + sizeof sigalgs), put16(ext, sizeof sigalgs);
  for (uint16_t s : sigalgs) put16(ext, s);

  std::vector<uint8_t> body;
  put16(body, 0x0303);
  for (int i = 0; i < 32; i++) body.push_back((uint8_t)(i * 7 + 1));  // random: unused, the handshake is dropped
  body.push_back(0);                                                  // no session id
  put16(body, sizeof suites);
  for (uint16_t s : suites) put16(body, s);
  body.push_back(1), body.push_back(0);  // compression: none
  put16(body, ext.size());
  body.insert(body.end(), ext.begin(), ext.end());

  std::vector<uint8_t> record = {0x16, 0x03, 0x01};
  put16(record, body.size() + 4);
  record.push_back(0x01);  // ClientHello
  record.push_back(0), put16(record, body.size());
  record.insert(record.end(), body.begin(), body.end());
  return record;
}

class Probe : public WiFiClient {
 public:
  // Reads until `want` bytes are held; false when the broker goes quiet or away.
  bool fill(std::vector<uint8_t> &in, size_t want) {
    uint8_t buf[512];
    while (in.size() < want) {
      if (!waitReadable(kReplyTimeoutMs)) return false;
      int n = read(buf, sizeof buf);
      if (n <= 0) return false;
      in.insert(in.end(), buf, buf + n);
    }
    return true;
  }
};

bool echoesCode(Probe &probe, int code) {
  std::vector<uint8_t> in;
  return probe.fill(in, serverHelloEnd(in.data(), 0)) && probe.fill(in, serverHelloEnd(in.data(), in.size())) &&
         serverHelloEchoesFragmentLength(in.data(), in.size(), code);
}

}  // namespace

size_t serverHelloEnd(const uint8_t *in, size_t len) {
  if (len < 9) return 9;
  return 9 + ((size_t)in[6] << 16 | (size_t)in[7] << 8 | in[8]);
}

bool serverHelloEchoesFragmentLength(const uint8_t *in, size_t len, int code) {
  if (len < 9 || in[0] != 0x16 || in[5] != 0x02) return false;
  size_t end = serverHelloEnd(in, len);
  if (end > len) return false;
  size_t at = 9 + 2 + 32;          // version, random
  if (at >= end) return false;
  at += 1 + in[at];                // session id
  at += 2 + 1;                     // suite, compression
  if (at + 2 > end) return false;  // no extensions
  size_t extEnd = std::min(end, at + 2 + ((size_t)in[at] << 8 | in[at + 1]));
  for (at += 2; at + 4 <= extEnd;) {
    unsigned type = (unsigned)in[at] << 8 | in[at + 1];
    size_t extLen = (size_t)in[at + 2] << 8 | in[at + 3];
    if (type == 0x0001) return extLen == 1 && at + 5 <= extEnd && in[at + 4] == code;
    at += 4 + extLen;
  }
  return false;
}

bool BearSSL::WiFiClientSecure::probeMaxFragmentLength(const char *hostname, uint16_t port, uint16_t len) {
  IPAddress ip;
  return WiFi.hostByName(hostname, ip) && probeMaxFragmentLength(ip, port, len);
}

bool BearSSL::WiFiClientSecure::probeMaxFragmentLength(IPAddress ip, uint16_t port, uint16_t len) {
  int code = fragmentCode(len);
  Probe probe;
  if (code == 0 || !probe.connect(ip, port)) return false;
  std::vector<uint8_t> hello = clientHello(code);
  bool supported = probe.write(hello.data(), hello.size()) == hello.size() && echoesCode(probe, code);
  const uint8_t closeNotify[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00};
  probe.write(closeNotify, sizeof closeNotify);
  probe.stop();
  return supported;
}
