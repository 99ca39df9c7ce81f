/**
 * esp-certs' own client at the broker (docs/renewal.md): `push` and `status --live` connect
 * as it. It is an app (it may use every topic), issued by `generate` beside the configured
 * clients, and never goes into a header or a Node-RED flow.
 */
export const APP_ID = "esp-certs";
