// The device's identity: a credential record in its own flash sector (written by
// `esp-certs provision`, layout in docs/credential-record.md), else the header's client.
#pragma once

#include <ESP8266WiFi.h>
#include <stddef.h>
#include <stdint.h>

#include <memory>

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

// Lives as long as the TLS client that uses it (BearSSL points into cert and key at every
// handshake), so it is filled in place and never copied.
struct Credentials {
  CredSource source = CredSource::none;
  char clientId[65] = "";
  std::unique_ptr<BearSSL::X509List> cert;
  std::unique_ptr<BearSSL::PrivateKey> key;
  bool keyIsEc = false;
};

// Reads and checks the record (magic, version, lengths, checksum, a certificate issued by
// `ca`, a key that decodes and matches it) into `out`. A sector holding anything but a usable
// record prints `cred fail reason=<word>`; then, as with an erased sector, the header's client is used.
void loadCredentials(Credentials &out, const BearSSL::X509List &ca, const HeaderIdentity &header);

// "flash", "header" or "none", for the boot line's cred=.
const char *credSourceName(CredSource source);
