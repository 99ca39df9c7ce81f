// What the device reads from a certificate's DER itself, where BearSSL's X.509 engine says
// nothing: the serial number and the validity dates (for `cred renewed` and the state message).
#pragma once

#include <stddef.h>
#include <stdint.h>

struct CertInfo {
  // Upper-case hex of the serial number, without leading zero bytes (as `openssl x509 -serial`).
  char serial[41];
  // Unix seconds; dates past 2106 are cut to its end.
  uint32_t notBefore;
  uint32_t notAfter;
};

// False when the DER is not a certificate this reader understands.
bool readCertInfo(const uint8_t *der, size_t len, CertInfo &out);
