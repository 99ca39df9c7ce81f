// The credential record's writer and parser are one format (docs/credential-record.md).
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CHECKSUM_SIZE,
  decodeRecord,
  encodeRecord,
  encodeSector,
  HEADER_SIZE,
  isErased,
  MAX_ID_LENGTH,
  RecordError,
  SECTOR_SIZE,
  type Credential,
  type RecordKeyType,
} from "../../src/provision/record.js";

// A small seeded generator, so a failure names the case that reproduces it.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

function randomCredential(next: () => number): Credential {
  const idLen = 1 + Math.floor(next() * MAX_ID_LENGTH);
  const clientId = Array.from({ length: idLen }, () => ID_CHARS[Math.floor(next() * ID_CHARS.length)]).join("");
  const keyType: RecordKeyType = next() < 0.5 ? "ec" : "rsa";
  const keyLen = keyType === "ec" ? 138 : 1190 + Math.floor(next() * 30);
  const room = SECTOR_SIZE - HEADER_SIZE - CHECKSUM_SIZE - idLen - keyLen;
  const certLen = 1 + Math.floor(next() * room);
  return { clientId, keyType, certDer: randomBytes(certLen), keyDer: randomBytes(keyLen), notBefore: Math.floor(next() * 2 ** 32), sequence: Math.floor(next() * 2 ** 32) };
}

describe("the credential record", () => {
  it("reads back what it wrote: random ids, key types and certificate sizes up to a full sector", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const c = randomCredential(rng(seed));
      const sector = encodeSector(c);
      expect(sector.length, `seed ${seed}`).toBe(SECTOR_SIZE);
      expect(decodeRecord(sector), `seed ${seed}`).toEqual(c);
      expect(decodeRecord(encodeRecord(c)), `seed ${seed}`).toEqual(c);
    }
  });

  it("reads a version 1 record (16-byte header, no sequence number), as provision wrote before renewal", () => {
    const body = Buffer.concat([Buffer.from("45435231" + "0100" + "01" + "05" + "0300" + "0200" + "04030201", "hex"), Buffer.from("dev07"), Buffer.from([1, 2, 3, 4, 5])]);
    const v1 = Buffer.concat([body, createHash("sha256").update(body).digest()]);
    expect(decodeRecord(v1)).toEqual({ clientId: "dev07", keyType: "ec", certDer: Buffer.from([1, 2, 3]), keyDer: Buffer.from([4, 5]), notBefore: 0x01020304 });
  });

  it("lays out the header as documented: magic, version, key type, lengths, notBefore, sequence, then the checksum", () => {
    const c: Credential = { clientId: "dev07", keyType: "ec", certDer: Buffer.from([1, 2, 3]), keyDer: Buffer.from([4, 5]), notBefore: 0x01020304, sequence: 0x0a0b0c0d };
    const r = encodeRecord(c);
    expect(r.subarray(0, HEADER_SIZE).toString("hex")).toBe("45435231" + "0200" + "01" + "05" + "0300" + "0200" + "04030201" + "0d0c0b0a");
    expect(r.subarray(HEADER_SIZE, HEADER_SIZE + 10).toString("latin1")).toBe("dev07\x01\x02\x03\x04\x05");
    expect(r.subarray(HEADER_SIZE + 10)).toEqual(createHash("sha256").update(r.subarray(0, HEADER_SIZE + 10)).digest());
    expect(encodeSector(c).subarray(r.length).every((b) => b === 0xff)).toBe(true);
  });

  it("tells each damage apart, with the firmware's word for it", () => {
    const good = encodeSector(randomCredential(rng(7)));
    const reason = (bytes: Buffer) => {
      try {
        decodeRecord(bytes);
        return "ok";
      } catch (err) {
        return (err as RecordError).reason;
      }
    };
    const flipped = Buffer.from(good);
    flipped[HEADER_SIZE + 3] ^= 0x01;
    const future = Buffer.from(good);
    future.writeUInt16LE(3, 4);
    const long = Buffer.from(good);
    long.writeUInt16LE(SECTOR_SIZE, 8);
    expect(reason(good)).toBe("ok");
    expect(reason(flipped)).toBe("checksum");
    expect(reason(Buffer.from("ECR0" + good.subarray(4).toString("latin1"), "latin1"))).toBe("magic");
    expect(reason(future)).toBe("version");
    expect(reason(long)).toBe("length");
    expect(isErased(Buffer.alloc(SECTOR_SIZE, 0xff))).toBe(true);
    expect(isErased(good)).toBe(false);
  });

  it("refuses a record larger than the sector, and an id it cannot carry", () => {
    const big: Credential = { clientId: "dev01", keyType: "rsa", certDer: randomBytes(3000), keyDer: randomBytes(1200), notBefore: 0 };
    expect(() => encodeRecord(big)).toThrow(/more than the 4096-byte sector/);
    expect(() => encodeRecord({ ...big, certDer: randomBytes(10), clientId: "x".repeat(MAX_ID_LENGTH + 1) })).toThrow(RecordError);
    expect(() => encodeRecord({ ...big, certDer: randomBytes(10), clientId: "dév" })).toThrow(/ASCII/);
  });
});
