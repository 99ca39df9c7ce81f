#include "cert_info.h"

#include <stdio.h>

namespace {

// One DER element: its tag, and where its contents start and end.
struct Element {
  uint8_t tag;
  const uint8_t *body;
  size_t len;
};

// Reads the element at *p (before end) and moves *p past it.
bool next(const uint8_t *&p, const uint8_t *end, Element &e) {
  if (end - p < 2) return false;
  e.tag = *p++;
  size_t len = *p++;
  if (len & 0x80) {
    size_t bytes = len & 0x7f;
    if (bytes == 0 || bytes > 3 || (size_t)(end - p) < bytes) return false;
    len = 0;
    while (bytes-- > 0) len = len << 8 | *p++;
  }
  if ((size_t)(end - p) < len) return false;
  e.body = p;
  e.len = len;
  p += len;
  return true;
}

// Days from 1970-01-01 to the civil date (proleptic Gregorian).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

bool digits(const uint8_t *p, size_t n, unsigned &out) {
  out = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    out = out * 10 + (p[i] - '0');
  }
  return true;
}

// UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ), as RFC 5280 allows them.
bool readTime(const Element &e, uint32_t &out) {
  size_t yearDigits = e.tag == 0x17 ? 2 : e.tag == 0x18 ? 4 : 0;
  if (yearDigits == 0 || e.len != yearDigits + 11 || e.body[e.len - 1] != 'Z') return false;
  unsigned year, mon, day, hour, min, sec;
  const uint8_t *p = e.body;
  if (!digits(p, yearDigits, year)) return false;
  p += yearDigits;
  if (!digits(p, 2, mon) || !digits(p + 2, 2, day) || !digits(p + 4, 2, hour) || !digits(p + 6, 2, min) || !digits(p + 8, 2, sec)) return false;
  if (yearDigits == 2) year += year < 50 ? 2000 : 1900;
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return false;
  int64_t t = daysFromCivil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
  out = t < 0 ? 0 : t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
  return true;
}

}  // namespace

bool readCertInfo(const uint8_t *der, size_t len, CertInfo &out) {
  const uint8_t *p = der;
  Element cert, tbs, e;
  if (!next(p, der + len, cert) || cert.tag != 0x30) return false;
  p = cert.body;
  const uint8_t *certEnd = cert.body + cert.len;
  if (!next(p, certEnd, tbs) || tbs.tag != 0x30) return false;
  p = tbs.body;
  const uint8_t *end = tbs.body + tbs.len;
  if (!next(p, end, e)) return false;
  if (e.tag == 0xA0 && !next(p, end, e)) return false;  // [0] version
  if (e.tag != 0x02 || e.len == 0) return false;       // serialNumber
  const uint8_t *s = e.body;
  size_t n = e.len;
  while (n > 1 && *s == 0) s++, n--;
  if (n * 2 + 1 > sizeof out.serial) return false;
  for (size_t i = 0; i < n; i++) snprintf(out.serial + 2 * i, 3, "%02X", s[i]);
  Element sigAlg, issuer, validity, from, to;
  if (!next(p, end, sigAlg) || !next(p, end, issuer) || !next(p, end, validity) || validity.tag != 0x30) return false;
  p = validity.body;
  const uint8_t *vend = validity.body + validity.len;
  return next(p, vend, from) && next(p, vend, to) && readTime(from, out.notBefore) && readTime(to, out.notAfter);
}
