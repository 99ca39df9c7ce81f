// The device's identity: a credential record in one of its two flash sectors (written by
// `esp-certs provision` or a renewal, layout in docs/credential-record.md), else the header's client.
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
  // The credential sector the record came from (an own flash layout: its first or second
  // sector, 2 the EEPROM sector a core layout left a newer record in when copying it failed;
  // a core layout: 0 the EEPROM sector, 1 the spare one below it), -1 for the header's client;
  // and the record's sequence number (version 1: 0).
  int slot = -1;
  uint32_t seq = 0;
};

// Reads and checks the records of both sectors (magic, version, lengths, checksum, a
// certificate issued by `ca`, a key that decodes and matches it) into `out`, taking the usable
// one with the highest sequence number. When neither is usable and one holds something, it
// prints `cred fail reason=<word>`; then, as with erased sectors, the header's client is used.
// On an own layout the EEPROM sector is read too, never written: a record there that is newer is
// copied into an own sector (docs/flash-layout.md).
void loadCredentials(Credentials &out, const BearSSL::X509List &ca, const HeaderIdentity &header);

// Writes a record of `cred`'s id and key with `certDer` into the sector `cred` does not use,
// with the next sequence number, and reads it back. A power cut at any instant leaves the
// record in use (or the header's client) intact. On success `cred.slot` and `cred.seq` name
// the new record (its certificate is the caller's to swap in); else the reason's word.
const char *storeRenewedRecord(Credentials &cred, const HeaderIdentity &header, const uint8_t *certDer, size_t certLen, uint32_t notBefore);

// "flash", "header" or "none", for the boot line's cred=.
const char *credSourceName(CredSource source);
