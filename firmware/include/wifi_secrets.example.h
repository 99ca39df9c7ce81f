/*
 * Copy this file to wifi_secrets.h (same folder) and fill in your network.
 * wifi_secrets.h is git-ignored: it never leaves your machine.
 */
#ifndef WIFI_SECRETS_H
#define WIFI_SECRETS_H

#define WIFI_SSID "your-network-name"
#define WIFI_PASSWORD "your-network-password"

#endif
