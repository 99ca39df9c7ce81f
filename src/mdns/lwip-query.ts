/**
 * The query an ESP8266 sends for a `.local` name, and how it reads the answers: lwIP 2.1's
 * dns.c as core 3.1.2 builds it (LWIP_DNS_SUPPORT_MDNS_QUERIES on, LWIP_DNS_SECURE 0). Pure.
 *
 * - From the resolver's one UDP socket, bound to an ephemeral port, never 5353: RFC 6762
 *   §6.7 calls that a legacy unicast query, and a responder must answer it by unicast to that
 *   port, echoing the ID and the question.
 * - ID: a counter (1, 2, ...), not random; flags 0x0100 (recursion desired), one question,
 *   type A, class IN (0x0001) without the unicast-response bit.
 * - Sent to 224.0.0.251:5353 at 0, 1, 2 and 4 s; the lookup fails at 7 s.
 */
import dnsPacket from "dns-packet";

export const MDNS_GROUP = "224.0.0.251";
export const MDNS_PORT = 5353;

/** The bytes of lwIP's query for `name`. */
export function lwipQuery(name: string, id: number): Buffer {
  return dnsPacket.encode({ type: "query", id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name, class: "IN" }] });
}

export interface Judged {
  /** Every A record in the packet, whatever lwIP makes of it. */
  addresses: string[];
  /** The address the device would take; undefined when it would not. */
  taken?: string;
  /** Why the device would not take one: it drops the packet, or fails the lookup at once. */
  refused?: string;
}

/** Whether the question at `offset` is written out in full: lwIP never follows a pointer there. */
function plainName(buf: Buffer, offset: number): boolean {
  for (let at = offset; at < buf.length; ) {
    const len = buf[at];
    if (len === 0) return true;
    if ((len & 0xc0) !== 0) return false;
    at += 1 + len;
  }
  return false;
}

/** What lwIP's dns_recv makes of `reply` to its query `id` for `name`. */
export function judgeReply(reply: Buffer, name: string, id: number): Judged {
  let p: dnsPacket.DecodedPacket;
  try {
    p = dnsPacket.decode(reply);
  } catch {
    return { addresses: [], refused: "the reply is not a DNS message the device can read" };
  }
  const records = (p.answers ?? []).filter((a): a is dnsPacket.StringAnswer => a.type === "A");
  const addresses = records.map((a) => a.data);
  const q = p.questions ?? [];
  // lwIP drops these packets and keeps waiting.
  if (p.id !== id) return { addresses, refused: `the reply has ID ${p.id}, not the query's ${id}, so the device ignores it` };
  if (p.type !== "response") return { addresses, refused: "it is not marked as a response" };
  if (q.length !== 1) return { addresses, refused: `the reply carries ${q.length} questions, and the device wants its own one echoed` };
  if (q[0].name.toLowerCase() !== name.toLowerCase() || !plainName(reply, 12)) return { addresses, refused: "the reply does not echo the question's name" };
  if (q[0].type !== "A" || q[0].class !== "IN") return { addresses, refused: "the echoed question is not type A, class IN (0x0001)" };
  // From here the lookup ends: with an address, or failed.
  const rcode = (p.flags ?? 0) & 0x0f;
  if (rcode !== 0) return { addresses, refused: `the reply is an error (rcode ${rcode}), so the lookup fails` };
  const usable = records.find((a) => a.class === "IN" && a.flush !== true);
  if (usable === undefined) {
    const flushed = records.some((a) => a.flush === true);
    return { addresses, refused: flushed ? "its A records carry the cache-flush bit (class 0x8001), which a legacy unicast reply must not, and the device reads only class 0x0001: the lookup fails" : "it has no A record, so the lookup fails" };
  }
  return { addresses, taken: usable.data };
}

/** The addresses a response gives for `name` (any responder's, multicast ones too). */
export function addressesFor(packet: Buffer, name: string): string[] {
  try {
    const p = dnsPacket.decode(packet);
    if (p.type !== "response") return [];
    return (p.answers ?? []).filter((a): a is dnsPacket.StringAnswer => a.type === "A" && a.name.toLowerCase() === name.toLowerCase()).map((a) => a.data);
  } catch {
    return [];
  }
}
