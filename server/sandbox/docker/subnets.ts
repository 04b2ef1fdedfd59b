// Each lab network gets a small subnet from a configured pool. Docker's default pools hold only ~30
// networks; a /16 pool in /28 slices holds 4096 labs. Picks at random among free slices so two
// processes creating labs at once rarely collide (and a collision is retried by the caller).

interface Range {
  start: number;
  end: number; // inclusive
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 address ${ip}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): Range | undefined {
  const [ip, bits] = cidr.split('/');
  if (!ip || !bits || ip.includes(':')) return undefined; // IPv6 subnets never overlap an IPv4 pool
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  const start = Math.floor(ipToInt(ip) / size) * size;
  return { start, end: start + size - 1 };
}

export interface Slice {
  subnet: string;
  gateway: string;
}

/** A random free slice of `pool` with the given prefix, avoiding every subnet in `used`. */
export function pickSubnet(pool: string, prefix: number, used: string[]): Slice {
  const range = parseCidr(pool);
  if (!range) throw new Error(`bad subnet pool ${pool}`);
  const size = 2 ** (32 - prefix);
  const count = Math.floor((range.end - range.start + 1) / size);
  const taken = used.map(parseCidr).filter((r): r is Range => r !== undefined);
  const free = (i: number) => {
    const s = range.start + i * size;
    const e = s + size - 1;
    return !taken.some((t) => t.start <= e && s <= t.end);
  };
  // Random probes first (cheap when the pool is mostly free), then a full scan.
  for (let tries = 0; tries < 64; tries++) {
    const i = Math.floor(Math.random() * count);
    if (free(i)) return slice(range.start + i * size, prefix);
  }
  for (let i = 0; i < count; i++) if (free(i)) return slice(range.start + i * size, prefix);
  throw new Error(`no free /${prefix} left in ${pool}`);
}

function slice(start: number, prefix: number): Slice {
  return { subnet: `${intToIp(start)}/${prefix}`, gateway: intToIp(start + 1) };
}
