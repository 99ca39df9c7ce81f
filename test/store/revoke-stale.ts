// Re-signs a project's CRL as if at another time (the injected clock), with the store's own CA key.
import { createPrivateKey, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { TEST_PASSPHRASE } from "../helpers/cli.js";
import { buildCrl, readCrl } from "../../src/pki/crl.js";
import { keyMaterialFrom } from "../../src/pki/keys.js";
import { storePaths } from "../../src/store/paths.js";
import { writeStoreCrl } from "../../src/store/revocations.js";

const DAY = 86_400_000;

/** The store's CRL, same entries and next number, signed at `signedAt` and lasting `days`. */
export async function resignCrlAt(projectDir: string, signedAt: Date, days: number): Promise<void> {
  const p = storePaths(path.join(projectDir, "certs"));
  const crypto = webcrypto as unknown as Crypto;
  const key = await keyMaterialFrom(createPrivateKey({ key: readFileSync(p.caKey, "utf8"), passphrase: TEST_PASSPHRASE }), crypto, p.caKey);
  const old = readCrl(readFileSync(p.crlPem, "utf8"));
  const crl = await buildCrl(
    { revoked: old.revoked, number: old.number + 1n, thisUpdate: signedAt, nextUpdate: new Date(signedAt.getTime() + days * DAY) },
    { der: readFileSync(p.caCertDer), key },
    crypto,
  );
  writeStoreCrl(p, crl);
}
