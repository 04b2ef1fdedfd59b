// GET a path from a lab's preview target, as the preview proxy would: status and body.
import http from 'node:http';
import type { Duplex } from 'node:stream';

export interface PageResponse {
  status: number;
  body: string;
}

/** An address, or a lab's preview reached through its provider (a fresh stream per request). */
export type GetTarget = { host: string; port: number } | { connect(): Promise<Duplex> };

export function httpGet(target: GetTarget, path: string, timeoutMs = 20_000): Promise<PageResponse> {
  return new Promise((resolve, reject) => {
    const where =
      'connect' in target
        ? {
            headers: { host: 'localhost' },
            createConnection: (_o: unknown, made: (err: Error | null, stream: Duplex) => void) => {
              target.connect().then(
                (s) => made(null, s),
                (err: Error) => made(err, undefined as never),
              );
              return undefined as never;
            },
          }
        : { host: target.host, port: target.port };
    const req = http.get({ ...where, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}
