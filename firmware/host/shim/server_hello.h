#pragma once

#include <stddef.h>
#include <stdint.h>

// Bytes from the start of a TLS stream needed to hold the server's first handshake
// message (9 while its header is incomplete).
size_t serverHelloEnd(const uint8_t *in, size_t len);

// True when the stream starts with a ServerHello that echoes max_fragment_length
// `code` (RFC 6066: 1 = 512 ... 4 = 4096 bytes).
bool serverHelloEchoesFragmentLength(const uint8_t *in, size_t len, int code);
