// Composition root: reads the configuration, builds the parts and starts the HTTP server.
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { staticSite } from './http/static-site.ts';

const port = Number(process.env.PORT ?? 4321);
const host = process.env.HOST ?? '127.0.0.1';
const dist = resolve(import.meta.dirname, '..', 'dist');

const site = staticSite(dist);
const server = createServer((req, res) => site(req, res));
server.listen(port, host, () => {
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  console.log(`listening on http://${host}:${actual}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
