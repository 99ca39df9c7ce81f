/**
 * The credential record (docs/credential-record.md): one device's identity in its own flash
 * sector. Pure: bytes in, bytes out. firmware/lib/esp-certs/src/cred_record.cpp reads the same layout.
 *
 *   offset  size  field
 *   0       4     magic "ECR1" (45 43 52 31)
 *   4       2     format version, little-endian (2; version 1 has no sequence number)
 *   6       1     key type: 1 EC (P-256), 2 RSA
 *   7       1     client id length (1..64)
 *   8       2     certificate DER length
 *   10      2     private key DER length (PKCS#8)
 *   12      4     certificate notBefore, unix seconds (the clock for checking its issuer)
 *   16      4     sequence number: of two sound records the device uses the higher (version 2)
 *   20      ...   client id (ASCII), certificate DER, key DER
 *   end     32    SHA-256 of every byte before it
 * The rest of the 4 KiB sector stays erased (0xFF). Version 1 records (16-byte header) still read.
 */
import { createHash } from "node:crypto";

export const SECTOR_SIZE = 4096;
export const RECORD_MAGIC = Buffer.from("ECR1", "ascii");
export const RECORD_VERSION = 2;
/** The header of the version written (2); version 1's is HEADER_SIZE_V1. */
export const HEADER_SIZE = 20;
export const HEADER_SIZE_V1 = 16;
export const CHECKSUM_SIZE = 32;
export const MAX_ID_LENGTH = 64;

/** Key type codes, as the firmware reads them. */
export const RECORD_KEY_TYPES = { ec: 1, rsa: 2 } as const satisfies Record<string, number>;
export type RecordKeyType = keyof typeof RECORD_KEY_TYPES;

export interface Credential {
  clientId: string;
  keyType: RecordKeyType;
  certDer: Buffer;
  /** PKCS#8 DER. */
  keyDer: Buffer;
  /** The certificate's notBefore, unix seconds. */
  notBefore: number;
  /** Version 2: the higher of two sound records wins (0 for version 1 and for provision's). */
  sequence?: number;
}

/** Why a record cannot be written or read; `reason` is the firmware's word for it. */
export class RecordError extends Error {
  constructor(
    readonly reason: "magic" | "version" | "length" | "checksum" | "key-type" | "too-large" | "id",
    message: string,
  ) {
    super(message);
    this.name = "RecordError";
  }
}

/** The record's size in bytes for this credential (without the sector's padding). */
export function recordSize(c: Pick<Credential, "clientId" | "certDer" | "keyDer">): number {
  return HEADER_SIZE + Buffer.byteLength(c.clientId, "ascii") + c.certDer.length + c.keyDer.length + CHECKSUM_SIZE;
}

/** The record alone (no padding). Throws RecordError when it cannot fit a sector. */
export function encodeRecord(c: Credential): Buffer {
  const id = Buffer.from(c.clientId, "ascii");
  if (id.length === 0 || id.length > MAX_ID_LENGTH || id.toString("ascii") !== c.clientId) {
    throw new RecordError("id", `the client id must be 1 to ${MAX_ID_LENGTH} ASCII characters`);
  }
  const size = recordSize(c);
  if (size > SECTOR_SIZE) {
    throw new RecordError("too-large", `the record is ${size} bytes, more than the ${SECTOR_SIZE}-byte sector (certificate ${c.certDer.length}, key ${c.keyDer.length} bytes)`);
  }
  const out = Buffer.alloc(size);
  RECORD_MAGIC.copy(out, 0);
  out.writeUInt16LE(RECORD_VERSION, 4);
  out.writeUInt8(RECORD_KEY_TYPES[c.keyType], 6);
  out.writeUInt8(id.length, 7);
  out.writeUInt16LE(c.certDer.length, 8);
  out.writeUInt16LE(c.keyDer.length, 10);
  out.writeUInt32LE(c.notBefore >>> 0, 12);
  out.writeUInt32LE((c.sequence ?? 0) >>> 0, 16);
  let at = HEADER_SIZE;
  for (const part of [id, c.certDer, c.keyDer]) at += part.copy(out, at);
  createHash("sha256").update(out.subarray(0, at)).digest().copy(out, at);
  return out;
}

/** The whole sector as esptool writes it: the record, then erased flash (0xFF). */
export function encodeSector(c: Credential): Buffer {
  const sector = Buffer.alloc(SECTOR_SIZE, 0xff);
  encodeRecord(c).copy(sector);
  return sector;
}

/**
 * What provision writes (docs/credential-record.md): with two credential sectors, both, the record
 * in the first and the second erased, so that no record a renewal left there can win over it;
 * else the one sector.
 */
export function encodeImage(c: Credential, layout: { address: number; sectors: 1 | 2 }): { address: number; image: Buffer } {
  const sector = encodeSector(c);
  return { address: layout.address, image: layout.sectors === 1 ? sector : Buffer.concat([sector, Buffer.alloc(SECTOR_SIZE, 0xff)]) };
}

/** Whether the sector holds no record at all (erased flash). */
export function isErased(sector: Uint8Array): boolean {
  return sector.length >= 4 && sector[0] === 0xff && sector[1] === 0xff && sector[2] === 0xff && sector[3] === 0xff;
}

/** Reads a record (from a sector or a bare record), checking it as the firmware does before its X.509 checks. */
export function decodeRecord(bytes: Buffer): Credential {
  if (bytes.length < HEADER_SIZE_V1 + CHECKSUM_SIZE || !bytes.subarray(0, 4).equals(RECORD_MAGIC)) {
    throw new RecordError("magic", "it does not start with the credential record's magic");
  }
  const version = bytes.readUInt16LE(4);
  if (version !== 1 && version !== RECORD_VERSION) throw new RecordError("version", `it has format version ${version}; this esp-certs reads versions 1 and ${RECORD_VERSION}`);
  const headerSize = version === 1 ? HEADER_SIZE_V1 : HEADER_SIZE;
  const typeCode = bytes.readUInt8(6);
  const idLen = bytes.readUInt8(7);
  const certLen = bytes.readUInt16LE(8);
  const keyLen = bytes.readUInt16LE(10);
  const end = headerSize + idLen + certLen + keyLen;
  if (idLen === 0 || idLen > MAX_ID_LENGTH || certLen === 0 || keyLen === 0 || end + CHECKSUM_SIZE > Math.min(bytes.length, SECTOR_SIZE)) {
    throw new RecordError("length", "its lengths do not fit the sector");
  }
  const sum = createHash("sha256").update(bytes.subarray(0, end)).digest();
  if (!sum.equals(bytes.subarray(end, end + CHECKSUM_SIZE))) throw new RecordError("checksum", "its checksum does not match its contents");
  const keyType = (Object.keys(RECORD_KEY_TYPES) as RecordKeyType[]).find((k) => RECORD_KEY_TYPES[k] === typeCode);
  if (keyType === undefined) throw new RecordError("key-type", `key type ${typeCode} is not one this esp-certs knows`);
  const at = (offset: number, len: number) => Buffer.from(bytes.subarray(offset, offset + len));
  return {
    clientId: bytes.toString("ascii", headerSize, headerSize + idLen),
    keyType,
    certDer: at(headerSize + idLen, certLen),
    keyDer: at(headerSize + idLen + certLen, keyLen),
    notBefore: bytes.readUInt32LE(12),
    ...(version === 1 ? {} : { sequence: bytes.readUInt32LE(16) }),
  };
}
