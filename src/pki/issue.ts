import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { Subject } from "../config/config.js";
import { KEY_ALGORITHMS, type KeyMaterial } from "./keys.js";
import { DAY_MS } from "../units.js";

/** notBefore is backdated so that a device or broker whose clock runs a little slow still accepts. */
export const BACKDATE_MS = 60 * 60 * 1000;

/**
 * The certificate profiles of docs/store.md, as pure functions of their inputs: with a fixed
 * clock, random source and keys they give the same bytes (RSA PKCS#1 v1.5 signatures are
 * deterministic), which is what the fixed-vector tests rely on.
 */
export interface IssueDeps {
  /** WebCrypto: Node's own in use, any implementation in tests. */
  crypto: Crypto;
  now: () => Date;
  randomBytes: (n: number) => Uint8Array;
}

export interface Issued {
  der: Buffer;
  pem: string;
  /** Lower-case hex without leading zeros' ambiguity: as DER encodes it. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** Whether notAfter was cut to the CA's, short of the days asked for. */
  clampedToCa: boolean;
}

export interface IssuingCa {
  der: Buffer;
  key: KeyMaterial;
}


/**
 * A random, positive serial of 128 bits (docs/store.md: at least 64), never one in `used`.
 * The top bit is cleared so DER needs no sign byte and the value stays positive.
 */
export function newSerial(randomBytes: (n: number) => Uint8Array, used: ReadonlySet<string>): string {
  for (;;) {
    const bytes = Buffer.from(randomBytes(16));
    bytes[0] &= 0x7f;
    if (bytes[0] === 0) bytes[0] = 0x01; // keep the full length, so no leading zero byte
    const hex = bytes.toString("hex");
    if (!used.has(hex)) return hex;
  }
}

/**
 * The subject as a structured name, never a DN string: a field read from platformio.ini
 * may begin with '#' (a DN string's hex form) or hold ',', '=' or quotes, and must land in
 * the certificate as written. PrintableString where it fits, else UTF8String.
 */
function dn(subject: Subject, cn: string, ou?: string): x509.Name {
  const rdns: [string, string][] = [["C", subject.country], ["ST", subject.state], ["L", subject.locality], ["O", subject.organization]];
  if (ou) rdns.push(["OU", ou]);
  rdns.push(["CN", cn]);
  const typed = (v: string) => (x509.Name.isPrintableString(v) ? { printableString: v } : { utf8String: v });
  return new x509.Name(rdns.map(([type, value]) => ({ [type]: [typed(value)] })));
}

function validity(deps: IssueDeps, days: number, notAfterLimit?: Date): { notBefore: Date; notAfter: Date; clampedToCa: boolean } {
  const now = deps.now().getTime();
  const wanted = new Date(now + days * DAY_MS);
  const clampedToCa = notAfterLimit !== undefined && notAfterLimit < wanted;
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: clampedToCa ? notAfterLimit : wanted, clampedToCa };
}

function toIssued(cert: x509.X509Certificate, serial: string, v: ReturnType<typeof validity>): Issued {
  return { der: Buffer.from(cert.rawData), pem: cert.toString("pem") + "\n", serial, ...v };
}

export const CA_COMMON_NAME = "esp-certs Root CA";

export async function issueCa(opts: { subject: Subject; days: number; key: KeyMaterial; usedSerials: ReadonlySet<string> }, deps: IssueDeps): Promise<Issued> {
  const serial = newSerial(deps.randomBytes, opts.usedSerials);
  const v = validity(deps, opts.days);
  const { notBefore, notAfter } = v;
  const name = dn(opts.subject, CA_COMMON_NAME, "esp-certs");
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial,
      subject: name,
      issuer: name,
      notBefore,
      notAfter,
      publicKey: opts.key.publicKey,
      signingKey: opts.key.privateKey,
      signingAlgorithm: KEY_ALGORITHMS[opts.key.type].signing,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(opts.key.publicKey, false, deps.crypto),
      ],
    },
    deps.crypto,
  );
  return toIssued(cert, serial, v);
}

export interface LeafRequest {
  role: "server" | "client";
  subject: Subject;
  commonName: string;
  /** DNS SANs (server only). */
  dns?: string[];
  /** IP SANs (server only). */
  ips?: string[];
  days: number;
  publicKey: CryptoKey;
  keyType: KeyMaterial["type"];
  usedSerials: ReadonlySet<string>;
}

/** A broker or client certificate; its notAfter never passes the CA's. */
export async function issueLeaf(req: LeafRequest, ca: IssuingCa, deps: IssueDeps): Promise<Issued> {
  const caCert = new x509.X509Certificate(new Uint8Array(ca.der));
  const serial = newSerial(deps.randomBytes, req.usedSerials);
  const v = validity(deps, req.days, caCert.notAfter);
  const { notBefore, notAfter } = v;
  // keyEncipherment only for RSA keys: an EC key cannot encipher (RSA key exchange).
  const usages =
    x509.KeyUsageFlags.digitalSignature | (KEY_ALGORITHMS[req.keyType].keyEncipherment ? x509.KeyUsageFlags.keyEncipherment : 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, false),
    new x509.KeyUsagesExtension(usages, true),
    // Never critical: BearSSL rejects unknown critical extensions.
    new x509.ExtendedKeyUsageExtension([req.role === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
    await x509.SubjectKeyIdentifierExtension.create(req.publicKey, false, deps.crypto),
    await x509.AuthorityKeyIdentifierExtension.create(ca.key.publicKey, false, deps.crypto),
  ];
  if (req.role === "server") {
    const names = [...(req.dns ?? []).map((value) => ({ type: "dns" as const, value })), ...(req.ips ?? []).map((value) => ({ type: "ip" as const, value }))];
    extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  }
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial,
      subject: dn(req.subject, req.commonName),
      // The CA's own encoded name: BearSSL chains by comparing DN bytes.
      issuer: caCert.subjectName,
      notBefore,
      notAfter,
      publicKey: req.publicKey,
      signingKey: ca.key.privateKey,
      signingAlgorithm: KEY_ALGORITHMS[ca.key.type].signing,
      extensions,
    },
    deps.crypto,
  );
  return toIssued(cert, serial, v);
}
