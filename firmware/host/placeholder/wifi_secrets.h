// The rehearsal has no radio: any credentials do. A real firmware/include/wifi_secrets.h
// comes first on the include path and is used when it exists.
#pragma once
#define WIFI_SSID "rehearsal"
#define WIFI_PASSWORD "rehearsal"
