// The station and its TCP client, on the host's network stack.
//   ESP_CERTS_WIFI_DROP=<at s>:<s>   at <at s> into the run the station loses the network for <s>
//                                    (status() says WL_DISCONNECTED, no new TCP connection opens)
#include <ESP8266WiFi.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "rehearsal.h"

ESP8266WiFiClass WiFi;

namespace {

bool droppedNow() {
  static double at = -1, seconds = 0;
  static bool read = false;
  if (!read) {
    read = true;
    const char *drop = getenv("ESP_CERTS_WIFI_DROP");
    if (drop != nullptr && sscanf(drop, "%lf:%lf", &at, &seconds) != 2) {
      fprintf(stderr, "firmware: ESP_CERTS_WIFI_DROP=%s is not <at seconds>:<seconds>\n", drop);
      exit(2);
    }
  }
  double now = rehearsalSeconds();
  return at >= 0 && now >= at && now < at + seconds;
}

const int kConnectTimeoutMs = 5000;

enum class Listed { no, address, unresolvable };

// "name=1.2.3.4,other=" : the address for `hostname`, or that it is listed as never resolving.
Listed fromList(const std::string &list, const char *hostname, in_addr *out) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find_first_of(",\n", start);
    if (end == std::string::npos) end = list.size();
    std::string pair = list.substr(start, end - start);
    size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == hostname) {
      std::string value = pair.substr(eq + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.pop_back();
      return inet_pton(AF_INET, value.c_str(), out) == 1 ? Listed::address : Listed::unresolvable;
    }
    start = end + 1;
  }
  return Listed::no;
}

// The file wins over the variable, and is read at every lookup: a test can make a name stop
// resolving while the firmware runs.
Listed fromRehearsal(const char *hostname, in_addr *out) {
  const char *file = getenv("ESP_CERTS_HOSTS_FILE");
  if (file != nullptr) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    Listed listed = fromList(text.str(), hostname, out);
    if (listed != Listed::no) return listed;
  }
  const char *pairs = getenv("ESP_CERTS_HOSTS");
  return pairs == nullptr ? Listed::no : fromList(pairs, hostname, out);
}

}  // namespace

bool ESP8266WiFiClass::mode(WiFiMode_t) { return true; }

wl_status_t ESP8266WiFiClass::begin(const char *, const char *) {
  _begun = true;
  return WL_CONNECTED;
}

wl_status_t ESP8266WiFiClass::status() { return _begun && !droppedNow() ? WL_CONNECTED : WL_DISCONNECTED; }

IPAddress ESP8266WiFiClass::localIP() { return _begun ? IPAddress(127, 0, 0, 1) : IPAddress(); }

// The core's default wait, 10 s; the host's lookups answer or fail at once.
int ESP8266WiFiClass::hostByName(const char *hostname, IPAddress &result) { return hostByName(hostname, result, 10000); }

int ESP8266WiFiClass::hostByName(const char *hostname, IPAddress &result, uint32_t) {
  in_addr addr;
  if (result.fromString(hostname)) return 1;
  Listed listed = fromRehearsal(hostname, &addr);
  if (listed == Listed::unresolvable) return 0;
  if (listed == Listed::no) {
    addrinfo hints = {};
    hints.ai_family = AF_INET;
    addrinfo *found = nullptr;
    if (getaddrinfo(hostname, nullptr, &hints, &found) != 0 || found == nullptr) return 0;
    addr = reinterpret_cast<sockaddr_in *>(found->ai_addr)->sin_addr;
    freeaddrinfo(found);
  }
  const uint8_t *b = reinterpret_cast<const uint8_t *>(&addr.s_addr);
  result = IPAddress(b[0], b[1], b[2], b[3]);
  return 1;
}

bool IPAddress::fromString(const char *address) {
  in_addr addr;
  if (inet_pton(AF_INET, address, &addr) != 1) return false;
  const uint8_t *b = reinterpret_cast<const uint8_t *>(&addr.s_addr);
  *this = IPAddress(b[0], b[1], b[2], b[3]);
  return true;
}

WiFiClient::~WiFiClient() { WiFiClient::stop(); }

int WiFiClient::connect(const char *host, uint16_t port) {
  IPAddress ip;
  if (WiFi.status() != WL_CONNECTED || !WiFi.hostByName(host, ip)) return 0;
  return WiFiClient::connect(ip, port);
}

int WiFiClient::connect(IPAddress ip, uint16_t port) {
  WiFiClient::stop();
  if (WiFi.status() != WL_CONNECTED) return 0;
  sockaddr_in to = {};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  uint8_t *b = reinterpret_cast<uint8_t *>(&to.sin_addr.s_addr);
  for (int i = 0; i < 4; i++) b[i] = ip[i];

  _fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (_fd < 0) return 0;
  // Connect with a timeout, as lwIP gives up on an address that never answers.
  fcntl(_fd, F_SETFL, O_NONBLOCK);
  int rc = ::connect(_fd, reinterpret_cast<sockaddr *>(&to), sizeof to);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p = {_fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (poll(&p, 1, kConnectTimeoutMs) == 1 && getsockopt(_fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) rc = 0;
  }
  if (rc != 0) {
    WiFiClient::stop();
    return 0;
  }
  fcntl(_fd, F_SETFL, 0);
  int one = 1;
  setsockopt(_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return 1;
}

size_t WiFiClient::write(const uint8_t *buf, size_t size) {
  size_t done = 0;
  while (_fd >= 0 && done < size) {
    ssize_t n = send(_fd, buf + done, size - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    done += n;
  }
  return done;
}

int WiFiClient::available() {
  int n = 0;
  if (_fd < 0 || ioctl(_fd, FIONREAD, &n) != 0) return 0;
  return n;
}

int WiFiClient::read(uint8_t *buf, size_t size) {
  if (_fd < 0) return -1;
  ssize_t n;
  do n = recv(_fd, buf, size, 0);
  while (n < 0 && errno == EINTR);
  return n > 0 ? (int)n : -1;
}

int WiFiClient::read() {
  uint8_t b;
  return read(&b, 1) == 1 ? b : -1;
}

void WiFiClient::stop() {
  if (_fd >= 0) close(_fd);
  _fd = -1;
}

uint8_t WiFiClient::connected() {
  if (_fd < 0) return 0;
  char b;
  ssize_t n = recv(_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

bool WiFiClient::waitReadable(uint32_t timeoutMs) {
  if (_fd < 0) return false;
  pollfd p = {_fd, POLLIN, 0};
  int rc;
  do rc = poll(&p, 1, (int)timeoutMs);
  while (rc < 0 && errno == EINTR);
  return rc == 1;
}
