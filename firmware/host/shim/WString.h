// Host stand-in for the core's String (cores/esp8266/WString.h): the few calls the library makes.
#pragma once

#include <string>

class String {
 public:
  String(const char *s = "") : _s(s) {}
  String &operator+=(const char *s) {
    _s += s;
    return *this;
  }
  String &operator+=(char c) {
    _s += c;
    return *this;
  }
  const char *c_str() const { return _s.c_str(); }
  unsigned int length() const { return (unsigned int)_s.size(); }

 private:
  std::string _s;
};
