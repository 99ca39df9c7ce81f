/**
 * The little of DER that libraries do not give cheaply: walking tag-length-value elements, for
 * the trust anchor's subject DN bytes (bearssl/) and a CRL's nextUpdate on the hook's no-op path
 * (pki/crl-dates.ts), where loading an ASN.1 library would cost more than the whole check.
 * Files come from our own store, but a broken one must still fail with a clear message rather
 * than read past the end.
 */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte: the element's full encoding is bytes[start, end). */
  start: number;
  /** Offset of the value. */
  valueStart: number;
  end: number;
}

export class DerError extends Error {}

export function readTlv(bytes: Uint8Array, offset: number, limit = bytes.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated element at byte ${offset}`);
  const tag = bytes[offset];
  // High tag numbers (0x1f) never occur in certificates' structure; refuse them plainly.
  if ((tag & 0x1f) === 0x1f) throw new DerError(`unsupported tag at byte ${offset}`);
  let len = bytes[offset + 1];
  let valueStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError(`bad length at byte ${offset}`);
    if (valueStart + n > limit) throw new DerError(`truncated length at byte ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[valueStart + i];
    valueStart += n;
  }
  const end = valueStart + len;
  if (end > limit) throw new DerError(`element at byte ${offset} runs past its container`);
  return { tag, start: offset, valueStart, end };
}

/** The elements inside a constructed element, in order. */
export function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.valueStart; at < parent.end; ) {
    const child = readTlv(bytes, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

export function expectTag(el: Tlv | undefined, tag: number, what: string): Tlv {
  if (el === undefined || el.tag !== tag) {
    throw new DerError(`expected ${what} (tag 0x${tag.toString(16)})${el ? `, found tag 0x${el.tag.toString(16)}` : ", found nothing"}`);
  }
  return el;
}

export const TAG = {
  integer: 0x02,
  sequence: 0x30,
  /** [0] EXPLICIT: the certificate's version. */
  context0: 0xa0,
} as const;
