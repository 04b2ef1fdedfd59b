// Browsers resolve every `*.localhost` name to loopback (RFC 6761), and each lab's preview lives at
// http://{labId}.localhost:{port} in development (server/preview/location.ts). glibc here resolves only
// `localhost` itself: Node's requests in tests resolve these names as a browser does.
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';

const lookup = dns.lookup;
type Callback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function loopbackLookup(host: string, options: LookupOptions | number | Callback, callback?: Callback): void {
  const cb = (typeof options === 'function' ? options : callback) as Callback;
  const opts = typeof options === 'object' ? options : {};
  if (!/\.localhost\.?$/i.test(host)) return void (lookup as (...a: unknown[]) => void)(host, options, callback);
  if (opts.all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
  else process.nextTick(cb, null, '127.0.0.1', 4);
}

dns.lookup = loopbackLookup as typeof dns.lookup;
