/**
 * Sends the ESP8266's query (lwip-query.ts) from this machine, on each LAN interface, and
 * collects who answers. Only unicast replies to the query's own port reach the device; a
 * responder that answers by multicast to 5353 is heard on a second socket, where possible,
 * so that it can be named rather than taken for silence.
 */
import dgram from "node:dgram";
import { networkInterfaces } from "node:os";
import { addressesFor, judgeReply, lwipQuery, MDNS_GROUP, MDNS_PORT, type Judged } from "./lwip-query.js";

export interface LanInterface {
  name: string;
  address: string;
}

export interface Answer extends Judged {
  /** The interface the query went out on. */
  via: string;
  /** Who sent the reply. */
  from: string;
}

export interface AskResult {
  interfaces: LanInterface[];
  /** Unicast replies to the query's port: what the device would hear. */
  answers: Answer[];
  /** Senders of multicast answers naming the host, which the device never receives. */
  multicastOnly: string[];
  /** Interfaces where the query could not be sent, with why. */
  failed: { via: string; error: string }[];
}

/** IPv4 interfaces that are not loopback: where devices could be. */
export function lanInterfaces(): LanInterface[] {
  return Object.entries(networkInterfaces()).flatMap(([name, addrs]) =>
    (addrs ?? []).filter((a) => a.family === "IPv4" && !a.internal).map((a) => ({ name, address: a.address })),
  );
}

/** This machine's IPv4 addresses, loopback included. */
export function ownAddresses(): Set<string> {
  return new Set(Object.values(networkInterfaces()).flatMap((addrs) => (addrs ?? []).filter((a) => a.family === "IPv4").map((a) => a.address)));
}

// lwIP's counter starts at 1 after boot.
const QUERY_ID = 1;
/** lwIP sends again 1 s after its first query; the doctor listens a little longer than that. */
const RESEND_MS = 1000;

export async function askMdns(name: string, windowMs: number, interfaces = lanInterfaces()): Promise<AskResult> {
  const result: AskResult = { interfaces, answers: [], multicastOnly: [], failed: [] };
  const sockets: dgram.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const query = lwipQuery(name, QUERY_ID);
  const listener = await multicastListener(name, interfaces, result.multicastOnly);
  await Promise.all(
    interfaces.map(async (iface) => {
      const socket = dgram.createSocket("udp4");
      sockets.push(socket);
      socket.on("message", (msg, rinfo) => {
        // Replies from both sends count once per sender.
        if (result.answers.some((a) => a.via === iface.address && a.from === rinfo.address)) return;
        result.answers.push({ via: iface.address, from: rinfo.address, ...judgeReply(msg, name, QUERY_ID) });
      });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once("error", reject);
          socket.bind(0, iface.address, () => resolve());
        });
        socket.on("error", () => undefined);
        socket.setMulticastInterface(iface.address);
        socket.setMulticastTTL(255);
        const send = () => socket.send(query, MDNS_PORT, MDNS_GROUP, (err) => err && result.failed.push({ via: iface.address, error: err.message }));
        send();
        timers.push(setTimeout(send, RESEND_MS));
      } catch (err) {
        result.failed.push({ via: iface.address, error: (err as Error).message });
      }
    }),
  );
  await new Promise((r) => setTimeout(r, windowMs));
  for (const t of timers) clearTimeout(t);
  for (const s of [...sockets, ...(listener ? [listener] : [])]) s.close();
  // A responder heard both ways is one the device hears.
  result.multicastOnly = result.multicastOnly.filter((from) => !result.answers.some((a) => a.from === from));
  return result;
}

/**
 * A socket on 5353 beside the PC's own responder (SO_REUSEADDR), hearing multicast answers;
 * undefined where the port is held exclusively (Windows' mDNS service), and then unheard.
 */
async function multicastListener(name: string, interfaces: LanInterface[], senders: string[]): Promise<dgram.Socket | undefined> {
  const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
  socket.on("message", (msg, rinfo) => {
    if (addressesFor(msg, name).length > 0 && !senders.includes(rinfo.address)) senders.push(rinfo.address);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(MDNS_PORT, () => resolve());
    });
    socket.on("error", () => undefined);
    for (const iface of interfaces) socket.addMembership(MDNS_GROUP, iface.address);
    return socket;
  } catch {
    socket.close();
    return undefined;
  }
}
