// The chip's clock, UART, heap gauge and main loop, and the rehearsal's environment:
//   ESP_CERTS_SERIAL=<file or tty>   where Serial writes (default: stdout)
//   ESP_CERTS_CLOCK=<unix time>      the clock starts there and no NTP server answers
//   ESP_CERTS_RUN_SECONDS=<s>        exit 0 after this long (default 10; 0: until killed)
//   ESP_CERTS_MILLIS=<ms>            millis() starts there (it wraps at 2^32 as on the chip)
//   ESP_CERTS_LEAP=<at s>:<s>        at <at s> into the run the chip's uptime leaps <s> forward,
//                                    as if it had been running that long (millis() and the
//                                    clock before NTP alike)
//   ESP_CERTS_MEASURE=wake           under callgrind, count the whole wake (see rehearsal.h)
//   ESP_CERTS_MEASURE=renewal        under callgrind, count only the taking of a pushed certificate
//   ESP_CERTS_A0=<n>                 what analogRead() returns (default 512)
// (ESP_CERTS_RTC: rtc.cpp; ESP_CERTS_FLASH: flash.cpp)
#include <Arduino.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

#include "rehearsal.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_DUMP_STATS
#endif

HardwareSerial Serial;
EspClass ESP;

namespace {

int serialFd = STDOUT_FILENO;
struct timespec started;
// Where the chip's clock stands at boot; 0 like an ESP8266 before SNTP.
time_t clockBase = 0;
bool clockFromEnv = false;
bool ntpRunning = false;
// A WiFi-connected sketch on core 3.x starts with about this much free heap.
const long kSimulatedFreeHeap = 50000;
size_t heapInUseAtBoot = 0;
uint32_t millisAtBoot = 0;
double leapAt = 0;
double leapSeconds = 0;

double secondsSinceStart() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - started.tv_sec) + (now.tv_nsec - started.tv_nsec) / 1e9;
}

// The chip's uptime: the run's own, plus the leap once it is due.
double uptimeSeconds() {
  double s = secondsSinceStart();
  return leapSeconds > 0 && s >= leapAt ? s + leapSeconds : s;
}

void writeAll(const char *text, size_t len) {
  while (len > 0) {
    ssize_t n = write(serialFd, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    len -= n;
  }
}

void endOfRun(int) { _exit(0); }

// ESP_CERTS_MEASURE=wake: count a whole wake (boot to deep sleep), not each connection;
// =renewal: count each certificate message taken, not the connections.
bool measureWake = false;
bool measureRenewal = false;

// Before C++ globals are built, so the firmware's own objects count against the heap (and, when
// a wake is measured, their construction against the wake).
__attribute__((constructor(101))) void boot() {
  clock_gettime(CLOCK_MONOTONIC, &started);
  heapInUseAtBoot = mallinfo2().uordblks;
  const char *measure = getenv("ESP_CERTS_MEASURE");
  measureWake = measure != nullptr && strcmp(measure, "wake") == 0;
  measureRenewal = measure != nullptr && strcmp(measure, "renewal") == 0;
  if (measureWake) CALLGRIND_START_INSTRUMENTATION;
}

}  // namespace

// Replaces the C library's time() for the firmware and BearSSL alike: the chip's clock.
extern "C" time_t time(time_t *out) {
  time_t now;
  if (ntpRunning) {
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    now = real.tv_sec;
  } else {
    now = clockBase + (time_t)uptimeSeconds();
  }
  if (out != nullptr) *out = now;
  return now;
}

// 32 bits, as on the chip: it wraps after 49.7 days.
unsigned long millis() { return (uint32_t)(millisAtBoot + (uint64_t)(uptimeSeconds() * 1000.0)); }

void delay(unsigned long ms) {
  struct timespec span = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&span, &span) != 0 && errno == EINTR) {
  }
}

void yield() {}

int analogRead(uint8_t) {
  const char *value = getenv("ESP_CERTS_A0");
  return value != nullptr && *value != '\0' ? atoi(value) : 512;
}

void configTime(int, int, const char *, const char *, const char *) { ntpRunning = !clockFromEnv; }

void HardwareSerial::begin(unsigned long) {}

size_t HardwareSerial::print(const char *text) {
  writeAll(text, strlen(text));
  return strlen(text);
}

size_t HardwareSerial::printf(const char *format, ...) {
  char text[256];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(text, sizeof text, format, args);
  va_end(args);
  return n < 0 ? 0 : print(text);
}

size_t HardwareSerial::write(const uint8_t *data, size_t len) {
  writeAll(reinterpret_cast<const char *>(data), len);
  return len;
}

size_t HardwareSerial::println(const char *text) {
  std::string line = std::string(text) + "\r\n";
  writeAll(line.data(), line.size());
  return line.size();
}

uint32_t EspClass::getFreeHeap() {
  long used = (long)mallinfo2().uordblks - (long)heapInUseAtBoot;
  return (uint32_t)(used >= kSimulatedFreeHeap ? 0 : kSimulatedFreeHeap - used);
}

uint32_t EspClass::random() {
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) abort();
  return r;
}

double rehearsalSeconds() { return secondsSinceStart(); }

void rehearsalMeasureBegin() {
  if (!measureWake && !measureRenewal) CALLGRIND_START_INSTRUMENTATION;
}

// One callgrind dump per connection (callgrind.out.1, .2, ...): a reconnect is counted apart.
void rehearsalMeasureEnd() {
  if (measureWake || measureRenewal) return;
  CALLGRIND_STOP_INSTRUMENTATION;
  CALLGRIND_DUMP_STATS;
}

void rehearsalRenewalBegin() {
  if (measureRenewal) CALLGRIND_START_INSTRUMENTATION;
}

void rehearsalRenewalEnd() {
  if (!measureRenewal) return;
  CALLGRIND_STOP_INSTRUMENTATION;
  CALLGRIND_DUMP_STATS;
}

void rehearsalWakeEnd() {
  if (!measureWake) return;
  CALLGRIND_STOP_INSTRUMENTATION;
  CALLGRIND_DUMP_STATS;
}

int main() {
  const char *serial = getenv("ESP_CERTS_SERIAL");
  if (serial != nullptr && *serial != '\0') {
    serialFd = open(serial, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY, 0644);
    if (serialFd < 0) {
      fprintf(stderr, "firmware: cannot open ESP_CERTS_SERIAL %s: %s\n", serial, strerror(errno));
      return 2;
    }
  }
  const char *clockEnv = getenv("ESP_CERTS_CLOCK");
  if (clockEnv != nullptr && *clockEnv != '\0') {
    clockBase = (time_t)strtoll(clockEnv, nullptr, 10);
    clockFromEnv = true;
  }
  const char *millisEnv = getenv("ESP_CERTS_MILLIS");
  if (millisEnv != nullptr && *millisEnv != '\0') {
    char *end;
    unsigned long long ms = strtoull(millisEnv, &end, 10);
    if (*end != '\0' || ms > UINT32_MAX) {
      fprintf(stderr, "firmware: ESP_CERTS_MILLIS=%s is not a number from 0 to 4294967295\n", millisEnv);
      return 2;
    }
    millisAtBoot = (uint32_t)ms;
  }
  const char *leap = getenv("ESP_CERTS_LEAP");
  if (leap != nullptr && sscanf(leap, "%lf:%lf", &leapAt, &leapSeconds) != 2) {
    fprintf(stderr, "firmware: ESP_CERTS_LEAP=%s is not <at seconds>:<seconds>\n", leap);
    return 2;
  }
  const char *run = getenv("ESP_CERTS_RUN_SECONDS");
  double seconds = run != nullptr && *run != '\0' ? strtod(run, nullptr) : 10.0;
  signal(SIGALRM, endOfRun);
  struct itimerval timer = {};
  timer.it_value.tv_sec = (time_t)seconds;
  timer.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
  setitimer(ITIMER_REAL, &timer, nullptr);

  setup();
  // The core runs WiFi and its timers between two loop() calls; here a pause stands in for
  // them, so a sketch whose loop() never waits does not keep a host core busy.
  for (;;) {
    loop();
    usleep(1000);
  }
}
