import path from "node:path";

/** File names of the certificate store (docs/store.md). */
export interface ClientPaths {
  certPem: string;
  certDer: string;
  keyPem: string;
  keyDer: string;
}

export interface StorePaths {
  dir: string;
  caCertPem: string;
  caCertDer: string;
  /** Encrypted PKCS#8 unless --no-ca-passphrase. */
  caKey: string;
  serverCertPem: string;
  serverCertDer: string;
  /** Unencrypted: Mosquitto reads it. */
  serverKey: string;
  /** The CA's revocation list; there is none until the first `revoke`. DER beside it. */
  crlPem: string;
  crlDer: string;
  clientsDir: string;
  manifest: string;
  backupDir: string;
  /** A new CA being put in place (--new-ca, or the first run). */
  newCaDir: string;
  client(id: string): ClientPaths;
}

export function storePaths(certDir: string): StorePaths {
  const clientsDir = path.join(certDir, "clients");
  return {
    dir: certDir,
    caCertPem: path.join(certDir, "ca.crt.pem"),
    caCertDer: path.join(certDir, "ca.crt.der"),
    caKey: path.join(certDir, "ca.key.pem"),
    serverCertPem: path.join(certDir, "server.crt.pem"),
    serverCertDer: path.join(certDir, "server.crt.der"),
    serverKey: path.join(certDir, "server.key.pem"),
    crlPem: path.join(certDir, "ca.crl.pem"),
    crlDer: path.join(certDir, "ca.crl.der"),
    clientsDir,
    manifest: path.join(certDir, "manifest.json"),
    backupDir: path.join(certDir, "backup"),
    newCaDir: path.join(certDir, ".new-ca"),
    client: (id) => ({
      certPem: path.join(clientsDir, `${id}.crt.pem`),
      certDer: path.join(clientsDir, `${id}.crt.der`),
      keyPem: path.join(clientsDir, `${id}.key.pem`),
      keyDer: path.join(clientsDir, `${id}.key.der`),
    }),
  };
}
