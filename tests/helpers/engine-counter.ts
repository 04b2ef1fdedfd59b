// A recording relay in front of the real engine socket: a server started with DOCKER_HOST pointing here
// talks to the real engine, and the test counts the API calls it made (request lines, read from the
// bytes the server sends). Exec streams pass through untouched.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REQUEST_LINE = /(GET|HEAD|POST|PUT|DELETE) (\/\S*) HTTP\/1\.[01]\r\n/g;

export interface EngineCounter {
  /** DOCKER_HOST for the server under test */
  dockerHost: string;
  /** "GET /v1.41/containers/json?…" lines seen so far */
  calls: string[];
  close(): Promise<void>;
}

export async function engineCounter(engineSocket = '/var/run/docker.sock'): Promise<EngineCounter> {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-engine-'));
  const path = join(dir, 'engine.sock');
  const calls: string[] = [];
  const open = new Set<{ destroy(): void }>();
  // Half-open both ways: the engine reads the end of an exec's input as the close of its stdin, and
  // still answers after it.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const engine = createConnection({ path: engineSocket, allowHalfOpen: true });
    open.add(client).add(engine);
    client.on('close', () => open.delete(client));
    engine.on('close', () => open.delete(engine));
    let carry = '';
    client.on('data', (chunk: Buffer) => {
      // A request line may straddle two chunks: the end of the previous one is read again.
      const text = carry + chunk.toString('latin1');
      for (const m of text.matchAll(REQUEST_LINE)) if (m.index! + m[0].length > carry.length) calls.push(`${m[1]} ${m[2]}`);
      carry = text.slice(-256);
    });
    client.pipe(engine).pipe(client);
    client.on('error', () => engine.destroy());
    engine.on('error', () => client.destroy());
  });
  await new Promise<void>((ok) => server.listen(path, ok));
  return {
    dockerHost: `unix://${path}`,
    calls,
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
