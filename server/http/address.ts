// Who is asking, by network address, for the per-address rate limits. Anyone can become a new
// anonymous learner by dropping their cookie, so per-learner limits alone do not hold one machine back.
// IPv6 addresses count by /64 (one subscriber's prefix); IPv4-mapped IPv6 counts as IPv4. Behind a
// reverse proxy every request comes from the proxy: name the header the proxy sets (it must overwrite
// whatever the client sent), e.g. ATELIER_ADDRESS_HEADER=x-real-ip.
import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

export function clientAddress(req: IncomingMessage, header: string | null): string {
  let raw = req.socket.remoteAddress ?? '';
  if (header) {
    const value = req.headers[header.toLowerCase()];
    const text = Array.isArray(value) ? value.at(-1) : value;
    // X-Forwarded-For lists every hop: the last one is what the trusted proxy saw.
    const last = text?.split(',').at(-1)?.trim();
    if (last) raw = last;
  }
  return addressKey(raw);
}

export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address)) return address;
  if (isIPv6(address)) return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
  return address || 'unknown';
}

function expandIPv6(address: string): string[] {
  const [head = '', tail = ''] = address.split('%')[0]!.split('::');
  const a = head ? head.split(':') : [];
  const b = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...a, ...Array<string>(8 - a.length - b.length).fill('0'), ...b] : a;
  return groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}
