// GET a path from a lab's preview target, as the preview proxy would: status and body.
import http from 'node:http';

export interface PageResponse {
  status: number;
  body: string;
}

export function httpGet(target: { host: string; port: number }, path: string, timeoutMs = 20_000): Promise<PageResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: target.host, port: target.port, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}
