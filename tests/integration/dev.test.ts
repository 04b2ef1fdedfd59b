// `npm run dev` gives the student one address too: Astro's dev server serves the chapter, the lab API and
// the terminal WebSocket (with its Origin check) on the same port.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { encode, PROTOCOL_VERSION, TERMINAL_PATH } from '../../protocol/terminal.ts';
import { COOKIE, signedCookie } from '../helpers/learner.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { within } from '../helpers/wait.ts';

const scope = newScope('dev');
/** The dev server's cookie key, so the test can be a learner without creating a lab (GETs issue no identity). */
const SECRET = randomBytes(32).toString('hex');
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
    env: { ...process.env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope, ATELIER_SECRET: SECRET, ATELIER_PREVIEW_PORT: String(previewPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<void>((ok, fail) => {
    const read = (d: Buffer) => {
      output += d;
      if (/labs ready/.test(output)) ok();
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', () => fail(new Error(`astro dev exited:\n${output}`)));
  });
  await within(ready, 60_000, () => `astro dev did not start:\n${output}`);
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
  assert.equal(api.status, 204, 'no lab yet');
  assert.equal(api.headers.get('set-cookie'), null, 'and no identity issued by a GET');
  const cookie = `${COOKIE}=${signedCookie(SECRET)}`;

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
