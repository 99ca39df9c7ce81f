/**
 * The diagnosis table: what a failure the device reports means, and the command that
 * fixes it. Data only; `{name}` placeholders are filled from what the monitor saw and the
 * configuration (see DiagnosisContext). verdict.ts picks the id; monitor.ts prints it.
 */

export interface Diagnosis {
  /** One line: what failed. */
  title: string;
  /** Why, in the user's terms. */
  cause: string;
  /** The next step, naming the esp-certs command where one fixes it. */
  fix: string;
}

/** Values the templates may use. */
export interface DiagnosisContext {
  /** The configured broker host and port (platformio.ini [esp_certs]). */
  host: string;
  port: number;
  /** The serial port being read, for `esp-certs flash --port`. */
  serial: string;
  code?: number;
  /** A symbolic name: BR_ERR_*, an alert, a wl_status_t or PubSubClient state, an EXCCAUSE. */
  name?: string;
  /** What the device printed with the code. */
  text?: string;
  meaning?: string;
  deviceHost?: string;
  devicePort?: number;
  deviceCa?: string;
  localCa?: string;
  certDir?: string;
  seen?: string;
  /** The client `provision` wrote (else the one the device named). */
  client?: string;
  /** The word of a `cred fail reason=` line. */
  reason?: string;
  /** How a revoked device gets a new identity: provisioned again, or rekeyed and reflashed. */
  bringBack?: string;
  /** How long the device's failed name lookup took (`dns fail ms=`). */
  dnsMs?: number;
  /** The fallback address the device dialled (`dns fallback ip=`), and where it came from. */
  address?: string;
  from?: string;
}

const REFLASH = "esp-certs flash --port {serial}";
const REISSUE_BROKER =
  "Run `esp-certs generate --host {host}`, then `esp-certs broker` and restart Mosquitto so that it serves the new certificate.";

export const DIAGNOSES = {
  // ---- the device's own checks (docs/serial-protocol.md) ----
  "ca-mismatch": {
    title: "The device trusts another CA than this project",
    cause: "the firmware was built with CA {deviceCa}, this project's CA is {localCa}: it was flashed from another project, or before `esp-certs generate --new-ca`.",
    fix: `Reflash it from this project: \`${REFLASH}\`.`,
  },
  "wrong-host": {
    title: "The device dials another broker than this project's",
    cause: "the firmware connects to {deviceHost}:{devicePort}, this project's broker is {host}:{port} (platformio.ini [esp_certs]).",
    fix: `Reflash it with this project's header: \`${REFLASH}\` (or pass --project-dir for the project it was built from).`,
  },
  // ---- the credential record (docs/credential-record.md) ----
  unprovisioned: {
    title: "The device has no identity: it runs a fleet image and was never provisioned",
    cause: "its credential sector is empty and its firmware was built with custom_esp_certs_client = none, so it does not connect.",
    fix: "Write its identity: `esp-certs provision --port {serial} --client <id>`.",
  },
  "cred-rejected": {
    title: "The device rejected its credential record (reason: {reason})",
    cause:
      "the record in its credential sector is unusable ({reason}: magic = not a record, e.g. a sketch's EEPROM data; version = written by a newer esp-certs; length or checksum = damaged; issuer = a certificate from another CA than the image's; key or mismatch = a key that does not decode or does not match the certificate; cn = a client id that is not the certificate's CN).",
    fix: "Write it again: `esp-certs provision --port {serial} --client {client}` (and keep sketches that use the EEPROM library off fleet devices).",
  },
  "no-cred": {
    title: "The device's firmware does not read credential records",
    cause: "its boot line has no cred=: it runs firmware built before esp-certs could provision, so the record just written is ignored.",
    fix: "Upload this project's firmware once (`esp-certs flash --port {serial} --no-monitor`), then provision again.",
  },
  "cred-not-flash": {
    title: "The device uses the identity in its firmware, not its credential record",
    cause: "its boot line says cred=header: no record was found in the sector its firmware reads, so the board's flash layout is not the one provision wrote for.",
    fix: "Check that --env names the environment the board was built with, then provision again.",
  },
  "cred-other-client": {
    title: "The device booted as {name}, not {client}",
    cause: "the record it read names another client: the write did not reach the sector its firmware reads.",
    fix: "Provision again: `esp-certs provision --port {serial} --client {client}`.",
  },
  "no-local-ca": {
    title: "Connected, but this project has no CA to check the device against",
    cause: "there is no CA certificate in {certDir}, so the device's ca={deviceCa} cannot be confirmed as this project's.",
    fix: "Run the monitor in the device's project (--project-dir), or make this project's store with `esp-certs generate` and reflash.",
  },
  "no-boot-line": {
    title: "Connected, but the device's CA was not seen",
    cause: "the device's boot line (which names its CA) came before the monitor started reading.",
    fix: "Run `esp-certs monitor --port {serial}` without --no-reset, so that the board restarts and prints it; where the port cannot restart it, press the board's RESET button once the monitor is reading.",
  },
  "unconfirmed-host": {
    title: "Connected, but the firmware does not say to which broker",
    cause: "its boot and tls ok lines name no host= and port=, so the connection cannot be confirmed as one to {host}:{port}: it runs older or other firmware than this project's.",
    fix: `Flash this project's firmware, which reports them: \`${REFLASH}\`.`,
  },
  unconfirmed: {
    title: "Connected, but the firmware does not say where to, or with which CA",
    cause: "the device printed a plain \"MQTT Connected\" (the workshop sketch's line), without the host, port and CA that esp-certs checks.",
    fix: `Connect through the esp-certs library, which reports them (lib/esp-certs, installed by esp-certs init; a sketch needs a few lines: docs/own-project.md of the esp-certs package), then flash: \`${REFLASH}\`.`,
  },

  // ---- WiFi (wl_status_t) ----
  "wifi-1": {
    title: "WiFi network not found ({name})",
    cause: "the device could not see the network it was built for: a wrong SSID, out of range, or a 5 GHz-only network (the ESP8266 has 2.4 GHz only).",
    fix: `Check WIFI_SSID in wifi_secrets.h (this repository: firmware/include/wifi_secrets.h), then \`${REFLASH}\`.`,
  },
  "wifi-6": {
    title: "WiFi password rejected ({name})",
    cause: "the access point refused the password the firmware was built with.",
    fix: `Correct WIFI_PASSWORD in wifi_secrets.h (this repository: firmware/include/wifi_secrets.h), then \`${REFLASH}\`.`,
  },
  "wifi-4": {
    title: "WiFi connection failed ({name})",
    cause: "the access point refused the device: a wrong password, MAC filtering, or a WPA3-only network.",
    fix: `Check the WiFi settings the firmware was built with, then \`${REFLASH}\`.`,
  },
  wifi: {
    title: "No WiFi ({name})",
    cause: "the device gave up joining the network; a wrong password often shows as WL_DISCONNECTED on the ESP8266.",
    fix: `Check the WiFi name and password the firmware was built with and the signal, then \`${REFLASH}\`.`,
  },

  // ---- reaching the broker ----
  "dns-fail": {
    title: "The device cannot resolve {host}, so it never tried TLS",
    cause:
      "the name did not resolve on the device's network (dns fail after {dnsMs} ms). For a .local name the ESP8266 sends one mDNS query and nothing answered it: the broker PC's mDNS responder is off or blocked by its firewall, or the access point drops multicast between WiFi clients. The certificates are not the problem.",
    fix:
      "In this order: (1) run `esp-certs doctor` on the broker's PC: its mdns check sends the device's own query for {host} and says who answers; (2) on Windows, make the network Private and allow the firewall's mDNS rule (UDP 5353 in), see docs/windows.md; (3) on the access point, turn off multicast filtering and client (AP) isolation, or try another network; (4) as a fallback, set `mqtt_address = <the broker PC's IPv4 address>` in [esp_certs] and `" +
      REFLASH +
      "`: the device dials that address when the name fails and still checks the certificate against {host}.",
  },
  "dns-fallback-dead": {
    title: "The device cannot resolve {host}, and nothing answers at its fallback address {address}",
    cause:
      "the name did not resolve (dns fail), so the device dialled {address} ({from}), and no broker listens there on port {port}: the PC has another address now, or Mosquitto is stopped or firewalled.",
    fix:
      "Run `esp-certs doctor` on the broker's PC (its mdns check says why the name fails, its broker check whether Mosquitto listens); if the PC's address changed, give it a fixed one (a DHCP reservation) and put that in mqtt_address, then `" +
      REFLASH +
      "`. See docs/windows.md.",
  },
  "no-connection": {
    title: "No connection to {host}:{port}",
    cause: "the device could not open a TCP connection: nothing listens on port {port} at the address {host} resolved to (a stopped broker, a firewall), or the name resolves to another machine.",
    fix: "Check that Mosquitto runs and listens on {port}, and that the firewall lets it in: `esp-certs doctor`. Firmware that prints no dns lines cannot tell this from a name that did not resolve (docs/windows.md).",
  },

  // ---- TLS: BearSSL codes (getLastSSLError) ----
  "tls-54": {
    title: "Certificate expired or not yet valid ({name})",
    cause: "by the device's clock (from NTP) a certificate in the chain is outside its validity: it has expired, or the device's clock is wrong.",
    fix: `Run \`esp-certs status\` to see the dates; \`esp-certs generate\` re-issues what expires, then \`esp-certs broker\`, restart Mosquitto, and \`${REFLASH}\`.`,
  },
  "tls-54-floor": {
    title: "Certificate not valid by the device's clock ({name})",
    cause: "NTP was unreachable, so the device's clock is the floor built into the firmware (when its certificates were issued), and the broker's certificate is newer than that floor.",
    fix: `Let the device reach an NTP server (UDP port 123), or give it a later floor: \`esp-certs generate\`, then \`${REFLASH}\`.`,
  },
  "tls-56": {
    title: "The broker's certificate does not name {host} ({name})",
    cause: "the device dials {host}, and the broker's certificate has no subjectAltName for it (BearSSL matches DNS names only, never an IP address).",
    fix: REISSUE_BROKER,
  },
  "tls-56-broker-stale": {
    title: "The broker's certificate does not name {host} ({name})",
    cause: "this project's broker certificate ({certDir}/server.crt.pem) does name {host}, so Mosquitto presents another one: an older certificate, or another store's.",
    fix: "Run `esp-certs broker` (it copies {certDir}/server.crt.pem into the broker folder's certs/) and restart Mosquitto with that configuration, so that it serves this store's certificate.",
  },
  "tls-56-ip": {
    title: "The device dials an IP address, {host}, which BearSSL never finds in a certificate ({name})",
    cause: "BearSSL on the ESP8266 matches DNS names only, so no broker certificate can validate for an IP address, whatever its subjectAltNames hold.",
    fix: `Use a name the device can resolve as the MQTT host (mDNS: the broker computer's <name>.local): \`esp-certs init --host <name>.local\`, then \`esp-certs broker\`, restart Mosquitto, and \`${REFLASH}\`.`,
  },
  "tls-62": {
    title: "The broker's certificate is not from the device's CA ({name})",
    cause: "the certificate the broker presented does not chain to the CA in the firmware: either the device was flashed with another CA, or Mosquitto uses certificates from another CA.",
    fix: `If Mosquitto runs with this project's certificates, reflash: \`${REFLASH}\`; otherwise run \`esp-certs broker\` and restart Mosquitto with that configuration.`,
  },
  "tls-62-broker-ca": {
    title: "The broker's certificate is not from this project's CA ({name})",
    cause: "the device trusts this project's CA ({deviceCa}), so Mosquitto presents a certificate issued by another CA.",
    fix: "Run `esp-certs broker` and restart Mosquitto with that configuration, so that it serves this project's broker certificate (the broker folder's certs/ holds a copy).",
  },
  "tls-57": {
    title: "A certificate has a critical extension BearSSL does not know ({name})",
    cause: "BearSSL rejects unknown critical extensions, e.g. an extendedKeyUsage marked critical by another tool; esp-certs never marks it critical.",
    fix: `Issue the broker certificate with esp-certs: ${REISSUE_BROKER}`,
  },
  "tls-58": {
    title: "The broker's chain has a certificate that is not a CA ({name})",
    cause: "the certificate that signs the broker's is not a CA (no basicConstraints CA:TRUE) or breaks a path length limit, e.g. an intermediate below esp-certs' CA.",
    fix: `Let Mosquitto serve the broker certificate that esp-certs issued directly from its CA: ${REISSUE_BROKER}`,
  },
  "tls-28": {
    title: "The broker's key does not fit the handshake ({name})",
    cause: "the broker certificate's key type or keyUsage does not allow what the cipher suite needs (e.g. RSA without keyEncipherment, or a key type the device did not offer).",
    fix: REISSUE_BROKER,
  },
  "tls-59": {
    title: "The broker certificate's keyUsage forbids its use ({name})",
    cause: "its keyUsage or extendedKeyUsage does not allow a TLS server (serverAuth).",
    fix: REISSUE_BROKER,
  },
  "tls-60": {
    title: "The broker's key is too small ({name})",
    cause: "BearSSL refuses RSA keys under 1024 bits.",
    fix: `Re-issue it with key_type = rsa2048 or ec-p256 in [esp_certs]: ${REISSUE_BROKER}`,
  },
  "tls-31": {
    title: "The connection closed during the handshake ({name})",
    cause: "the broker at {host}:{port} hung up: the port may not be a TLS listener (e.g. plain MQTT on 1883), a firewall may cut it, or Mosquitto rejected the device; its log says which.",
    fix: "Check the broker with `esp-certs doctor`, and read Mosquitto's log for the device's connection.",
  },
  "tls-29": {
    title: "Client authentication failed ({name})",
    cause: "the device's client certificate could not be used: missing, or not matching its key.",
    fix: `Run \`esp-certs generate\`, then \`${REFLASH}\`.`,
  },
  "tls-oom": {
    title: "Not enough memory for TLS (getLastSSLError -1000)",
    cause: "the device could not allocate BearSSL's buffers (about 20 KB of free heap for a full 16 KB record buffer).",
    fix: "Free heap before connecting (fewer or smaller global buffers, String objects, libraries), or negotiate a smaller buffer with setBufferSizes() where the broker supports MFLN.",
  },
  "tls-x509": {
    title: "A certificate could not be decoded or checked ({name})",
    cause: "BearSSL's X.509 engine stopped on code {code}: \"{text}\" - a certificate in the chain is malformed, or uses a feature BearSSL does not support.",
    fix: REISSUE_BROKER,
  },
  tls: {
    title: "The TLS handshake failed ({name})",
    cause: "BearSSL stopped the handshake with code {code}: \"{text}\".",
    fix: "Check the broker with `esp-certs doctor` (it connects as the device would), and read Mosquitto's log.",
  },

  // ---- TLS alerts: 256 + alert received from the broker, 512 + alert sent by the device ----
  "alert-received-40": {
    title: "The broker refused the handshake: handshake_failure (alert 40)",
    cause: "Mosquitto requires a client certificate (require_certificate true) and the device sent none: the firmware has no client certificate and key, or they do not match.",
    fix: `Run \`esp-certs generate\` (it writes the client certificate and key into the header), then \`${REFLASH}\`.`,
  },
  "alert-received-42": {
    title: "The broker rejected the device's certificate: bad_certificate (alert 42)",
    cause: "Mosquitto could not verify the client certificate (a bad signature, or a certificate that does not match the device's key).",
    fix: `Run \`esp-certs generate\`, then \`${REFLASH}\`.`,
  },
  "alert-received-43": {
    title: "The broker rejected the device's certificate: unsupported_certificate (alert 43)",
    cause: "the client certificate's type or usage is not accepted, e.g. it lacks extendedKeyUsage clientAuth.",
    fix: `Run \`esp-certs generate\` (it issues client certificates with clientAuth), then \`${REFLASH}\`.`,
  },
  "alert-received-44": {
    title: "The broker refused the device's certificate: revoked, or not trusted (certificate_revoked, alert 44)",
    cause: "Mosquitto's CRL (crlfile) lists this device's certificate: it was revoked with `esp-certs revoke`, and the broker shuts it out on purpose.",
    fix: "Run `esp-certs status` to see each client's state; if this board should connect again, give it a new key and certificate: {bringBack}.",
  },
  "alert-received-45": {
    title: "The broker found the device's certificate expired: certificate_expired (alert 45)",
    cause: "the client certificate is outside its validity by the broker's clock, or the broker's CRL is past its nextUpdate, and then Mosquitto refuses every client.",
    fix: `Run \`esp-certs doctor\` (it says which); \`esp-certs generate\` re-issues what expires and re-signs the CRL; then restart Mosquitto and, for a certificate, \`${REFLASH}\`.`,
  },
  "alert-received-48": {
    title: "The broker does not know the device's CA: unknown_ca (alert 48)",
    cause: "Mosquitto's cafile is not the CA that issued the device's client certificate.",
    fix: "Run `esp-certs broker` and restart Mosquitto with that configuration (cafile = this project's CA).",
  },
  "alert-received-51": {
    title: "The broker could not verify the device's signature: decrypt_error (alert 51)",
    cause: "the client key in the firmware does not match its client certificate.",
    fix: `Run \`esp-certs generate\`, then \`${REFLASH}\`.`,
  },
  "alert-received-70": {
    title: "The broker refused the TLS version: protocol_version (alert 70)",
    cause: "BearSSL speaks TLS 1.2 at most, and the listener allows only TLS 1.3 (tls_version tlsv1.3 in mosquitto.conf).",
    fix: "Allow TLS 1.2 on the listener (tls_version tlsv1.2, or none), e.g. with the configuration `esp-certs broker` writes.",
  },
  "alert-received-71": {
    title: "The broker found no cipher suite in common: insufficient_security (alert 71)",
    cause: "the listener's `ciphers` setting excludes every suite BearSSL offers.",
    fix: "Remove `ciphers` from the listener, or use the configuration `esp-certs broker` writes.",
  },
  "alert-received": {
    title: "The broker refused the handshake: {name}",
    cause: "Mosquitto sent a fatal alert; its log names the reason.",
    fix: "Read Mosquitto's log for the device's connection, and check the broker with `esp-certs doctor`.",
  },
  "alert-sent": {
    title: "The device aborted the handshake: {name}",
    cause: "BearSSL on the device rejected what the broker sent (\"{text}\").",
    fix: "Check the broker with `esp-certs doctor`; if it passes, run `esp-certs generate`, `esp-certs broker`, restart Mosquitto, and reflash.",
  },

  // ---- MQTT (PubSubClient state()) ----
  "mqtt--4": {
    title: "The broker did not answer the MQTT CONNECT ({name})",
    cause: "TLS was up but no CONNACK came in time: an overloaded broker, or a listener that is not MQTT.",
    fix: "Read Mosquitto's log for the device's connection.",
  },
  "mqtt--3": {
    title: "The MQTT connection dropped ({name})",
    cause: "the connection broke after it was made: WiFi trouble, or the broker closed it (e.g. another client with the same id).",
    fix: "Read Mosquitto's log; give each device its own client id (`clients` in [esp_certs]).",
  },
  "mqtt--2": {
    title: "No connection to {host}:{port} ({name})",
    cause: "the network connection failed before MQTT: {host} did not resolve from the device's network (mDNS), nothing listens on port {port}, or the TLS handshake failed.",
    fix: "Check that {host} resolves on the device's WiFi (mDNS/Bonjour on the broker's computer) and that Mosquitto listens on {port}: `esp-certs doctor`.",
  },
  "mqtt-1": {
    title: "The broker refused the MQTT protocol version ({name})",
    cause: "PubSubClient speaks MQTT 3.1.1 by default and the broker does not accept it.",
    fix: "Use Mosquitto 1.4 or later, or build with MQTT_VERSION matching the broker.",
  },
  "mqtt-2": {
    title: "The broker rejected the client id ({name})",
    cause: "the client id is not accepted (empty, too long, or refused by a plugin).",
    fix: "Use the ids of `clients` in [esp_certs].",
  },
  "mqtt-4": {
    title: "The broker rejected the credentials ({name})",
    cause: "with certificates the user name is the certificate's CN (use_identity_as_username); a user name or password the broker does not accept was sent.",
    fix: "Run `esp-certs broker` and restart Mosquitto with that configuration.",
  },
  "mqtt-5": {
    title: "The broker did not authorise the device ({name})",
    cause: "Mosquitto accepted TLS but refused the MQTT session: allow_anonymous false without use_identity_as_username, or an ACL that excludes the device's id.",
    fix: "Run `esp-certs broker` (it sets use_identity_as_username true) and restart Mosquitto with that configuration.",
  },
  mqtt: {
    title: "The MQTT connection failed ({name})",
    cause: "the device could not open the MQTT session with {host}:{port}.",
    fix: "Check the broker with `esp-certs doctor`, and read Mosquitto's log.",
  },
  "mqtt-plain": {
    title: "The sketch could not connect to MQTT",
    cause: "it reported no TLS error, so {host} did not resolve, nothing listens on port {port}, or the broker refused the MQTT session.",
    fix: "Check the broker with `esp-certs doctor`, and read Mosquitto's log.",
  },

  // ---- crashes and restarts ----
  "crash-bearssl": {
    title: "The device crashed inside BearSSL during the handshake",
    cause: "the stack dump is in BearSSL's own stack (ctx: bearssl): it ran out of stack or heap while checking certificates; large RSA keys and long chains need the most.",
    fix: "Free heap before connecting, and prefer ec-p256 keys (client_key_type) or rsa2048 at most; then `esp-certs generate` and reflash.",
  },
  "wdt-bearssl": {
    title: "The watchdog reset the device during the TLS handshake",
    cause: "a BearSSL computation ran longer than the software watchdog allows (ctx: bearssl), typically an RSA key larger than 2048 bits.",
    fix: "Use rsa2048 or ec-p256 keys (key_type, client_key_type in [esp_certs]), then `esp-certs generate`, `esp-certs broker`, and reflash.",
  },
  exception: {
    title: "The device crashed: {name}",
    cause: "{meaning}{seen}.",
    fix: "Decode the stack dump (`pio device monitor --filter esp8266_exception_decoder`) to find the line in the firmware.",
  },
  "soft-wdt": {
    title: "The software watchdog reset the device",
    cause: "the firmware ran for about 3 s without yielding (a loop without delay() or yield()){seen}.",
    fix: "Add yield() or delay() to long loops; decode the stack dump (`pio device monitor --filter esp8266_exception_decoder`) to find which.",
  },
  crash: {
    title: "The device crashed ({name})",
    cause: "the ESP8266 core printed a crash report{seen}.",
    fix: "Decode the stack dump (`pio device monitor --filter esp8266_exception_decoder`) to find the line in the firmware.",
  },
  "reboot-loop": {
    title: "The device keeps restarting",
    cause: "it restarted three times without reporting a result{seen}. Usual reasons: a power supply too weak for WiFi's current peaks, a hang that the hardware watchdog ends, or a crash before the serial port is up.",
    fix: "Use a short USB cable to a powered port; `esp-certs monitor --port {serial} --baud 74880` shows the ROM's reset cause.",
  },
} as const satisfies Record<string, Diagnosis>;

/** The table's ids: the only source of them, so an id without an entry does not compile. */
export type DiagnosisId = keyof typeof DIAGNOSES;

/** Fills `{name}` placeholders; unknown or missing ones become "?" so a gap is visible. */
export function render(template: string, ctx: DiagnosisContext): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const v = (ctx as unknown as Record<string, unknown>)[key];
    return v === undefined || v === "" ? (key === "seen" ? "" : "?") : String(v);
  });
}

export function diagnosis(id: DiagnosisId, ctx: DiagnosisContext): Diagnosis {
  const d: Diagnosis = DIAGNOSES[id];
  return { title: render(d.title, ctx), cause: render(d.cause, ctx), fix: render(d.fix, ctx) };
}
