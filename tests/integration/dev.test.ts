// `npm run dev` gives the student one address too: Astro's dev server serves the chapter, the lab API and
// the terminal WebSocket (with its Origin check) on the same port.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { encode, PROTOCOL_VERSION, TERMINAL_PATH } from '../../protocol/terminal.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';

const scope = newScope('dev');
let child: ReturnType<typeof spawn>;
let url = '';
let output = '';

const freePort = () =>
  new Promise<number>((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });

before(async () => {
  const [port, previewPort] = [await freePort(), await freePort()];
  child = spawn('astro', ['dev', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope, ATELIER_PREVIEW_PORT: String(previewPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const end = Date.now() + 60_000;
  while (!/labs ready/.test(output)) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`astro dev did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  url = `http://127.0.0.1:${port}`;
});

after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  await destroyScope(scope);
});

test('the chapter, the lab API and the terminal share the dev server’s address', async () => {
  const page = await fetch(`${url}/05-fastcgi/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /atelier-lab name="nginx-remote"/);

  const api = await fetch(`${url}/api/labs/nginx-remote`);
  assert.equal(api.status, 204, 'no lab yet, and a learner cookie');
  const cookie = api.headers.get('set-cookie')!.split(';')[0]!;

  const refused = await new Promise<number>((ok) => {
    const ws = new WebSocket(url.replace('http', 'ws') + TERMINAL_PATH, { headers: { Origin: 'http://evil.example', Cookie: cookie } });
    ws.on('unexpected-response', (_q, res) => ok(res.statusCode ?? 0));
    ws.on('open', () => ok(101));
  });
  assert.equal(refused, 403, 'a foreign Origin is refused in dev too');

  const answer = await new Promise<string>((ok, fail) => {
    const ws = new WebSocket(url.replace('http', 'ws') + TERMINAL_PATH, { headers: { Origin: url, Cookie: cookie } });
    ws.on('open', () => ws.send(encode({ t: 'hello', v: PROTOCOL_VERSION, lab: 'nginx-remote', host: 'web', cols: 80, rows: 24 })));
    ws.on('message', (d, binary) => {
      if (!binary) {
        ok(d.toString());
        ws.close();
      }
    });
    ws.on('error', fail);
  });
  assert.match(answer, /"code":"unknown-lab"/, 'the gateway answers: this learner has not started the lab');
});
