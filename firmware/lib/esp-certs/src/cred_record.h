// The device's identity: a credential record in its own flash sector (written by
// `esp-certs provision`, layout in docs/credential-record.md), else the header's client.
#pragma once

#include <ESP8266WiFi.h>
#include <stddef.h>
#include <stdint.h>

// The client compiled into the image; clientId == nullptr for an image built without one.
struct HeaderIdentity {
  const char *clientId;
  const uint8_t *certDer;
  size_t certLen;
  const uint8_t *keyDer;
  size_t keyLen;
  bool keyIsEc;
};

enum class CredSource { flash, header, none };

struct Credentials {
  CredSource source = CredSource::none;
  char clientId[65] = "";
  // Built once and kept for the program's life: BearSSL points into them at every handshake.
  BearSSL::X509List *cert = nullptr;
  BearSSL::PrivateKey *key = nullptr;
  bool keyIsEc = false;
};

// Reads and checks the record (magic, version, lengths, checksum, a certificate issued by
// `ca`, a key that decodes and matches it). A sector holding anything but a usable record
// prints `cred fail reason=<word>`; then, as with an erased sector, the header's client is used.
Credentials loadCredentials(const BearSSL::X509List &ca, const HeaderIdentity &header);

// "flash", "header" or "none", for the boot line's cred=.
const char *credSourceName(CredSource source);
