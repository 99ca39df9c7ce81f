#pragma once

// The text the ESP8266 core's getLastSSLError gives for a BearSSL error number
// (flags already removed); "Unknown error code." for any other.
const char *sslErrorText(int err);
