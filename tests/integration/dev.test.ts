// `npm run dev` gives the student one address too: Astro's dev server serves the chapter, the lab API and
// the terminal WebSocket (with its Origin check) on the same port. For authors, in a copy of the
// repository (the test edits it): a lab definition's edit reaches the page and the lab API without a
// restart; a lab started before its definition or a seeded file changed is told to the page (which offers a
// reset); an invalid lab file or frontmatter shows in the browser, with the file and line; the labs the
// server started are removed when it stops.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { LAB_CHANGED_PATH } from '../../protocol/dev.ts';
import { encode, PROTOCOL_VERSION, TERMINAL_PATH } from '../../protocol/terminal.ts';
import { loadConfig } from '../../server/config.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { COOKIE, Learner, signedCookie } from '../helpers/learner.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { pollUntil } from '../helpers/engine.ts';
import { within } from '../helpers/wait.ts';

const root = resolve(import.meta.dirname, '..', '..');
const copy = mkdtempSync(join(tmpdir(), 'atelier-dev-'));
const inCopy = (file: string) => join(copy, file);
const edit = (file: string, from: string, to: string) => {
  const text = readFileSync(inCopy(file), 'utf8');
  assert.ok(text.includes(from), `${file} has ${from}`);
  writeFileSync(inCopy(file), text.replace(from, to));
};

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
  const skip = new Set(['node_modules', '.git', 'dist', '.astro', '.atelier', '.ci']);
  cpSync(root, copy, { recursive: true, filter: (src) => !skip.has(src.slice(root.length + 1).split('/')[0]!) });
  symlinkSync(join(root, 'node_modules'), inCopy('node_modules'));
  const [port, previewPort] = [await freePort(), await freePort()];
  child = spawn(join(root, 'node_modules', '.bin', 'astro'), ['dev', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope, ATELIER_SECRET: SECRET, ATELIER_PREVIEW_PORT: String(previewPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: copy,
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
  rmSync(copy, { recursive: true, force: true });
});

/**
 * What the browser's error overlay shows: Astro sends the error on Vite's HMR socket after the failed page
 * (the page itself is an empty shell that loads /@vite/client), so the test listens as that client does.
 */
async function overlayErrors(path: string): Promise<string> {
  const client = await (await fetch(`${url}/@vite/client`)).text();
  const token = /wsToken = "([^"]*)"/.exec(client)?.[1] ?? assert.fail('no HMR token in /@vite/client');
  const ws = new WebSocket(`${url.replace('http', 'ws')}/?token=${token}`, 'vite-hmr', { headers: { Origin: url } });
  await once(ws, 'open');
  try {
    const error = new Promise<string>((ok) =>
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString()) as { type: string; err?: { message: string } };
        if (message.type === 'error') ok(message.err?.message ?? '');
      }),
    );
    const page = await pageUntil(path, (r) => r.status === 500);
    assert.equal(page.status, 500);
    return await within(error, 10_000, () => 'no error on the HMR socket');
  } finally {
    ws.close();
  }
}

/** GET a page until it answers what is awaited (the dev server reloads in the background). */
const pageUntil = (path: string, ok: (r: { status: number; body: string }) => boolean) =>
  pollUntil(
    async () => {
      const r = await fetch(url + path);
      return { status: r.status, body: await r.text() };
    },
    ok,
    20_000,
    200,
  );

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

test('an edited lab definition reaches the page and the lab API without a restart', async () => {
  edit('sandbox/labs/nginx-local.ts', "title: 'PHP-FPM en local avec Nginx (socket Unix)'", "title: 'Titre modifié à chaud'");
  const page = await pageUntil('/05-fastcgi/', (r) => r.body.includes('Titre modifié à chaud'));
  assert.equal(page.status, 200);
  assert.ok(page.body.includes('Titre modifié à chaud'), 'the panel shows the new title');
  assert.match(page.body, /class="lab-changed" data-lab="nginx-local"[^>]*hidden/, 'the dev page has the « changed » notice, hidden');
});

test('a lab started before its definition changed is told to the page, until it is reset', async () => {
  const learner = new Learner(url, signedCookie(SECRET, { id: 'dev-author' }));
  const lab = await learner.startLab('nginx-local');
  assert.equal((lab as unknown as { title: string }).title, 'Titre modifié à chaud', 'the lab API reads the edited definition too');
  const changed = async () => {
    const r = await fetch(`${url}${LAB_CHANGED_PATH}?lab=nginx-local&labId=${lab.labId}`);
    return ((await r.json()) as { changed: boolean }).changed;
  };
  assert.equal(await changed(), false, 'just started: the definition is the same');
  const seeded = readFileSync(inCopy('sandbox/labs/files/nginx/default.conf'), 'utf8');
  writeFileSync(inCopy('sandbox/labs/files/nginx/default.conf'), `${seeded}\n# edited\n`);
  assert.equal(await pollUntil(changed, (yes) => yes, 10_000, 200), true, 'a seeded file changed: the lab is out of date');
  const reset = await learner.resetLab('nginx-local');
  const now = await fetch(`${url}${LAB_CHANGED_PATH}?lab=nginx-local&labId=${reset.labId}`);
  assert.deepEqual(await now.json(), { changed: false }, 'reset: the lab has the new definition');
});

test('an invalid lab file shows in the browser with its file, line and fix, until it is fixed', async () => {
  edit('sandbox/labs/nginx-local.ts', "preview: { host: 'web', port: 80", "preview: { host: 'www', port: 80");
  const shown = await overlayErrors('/05-fastcgi/');
  assert.match(shown, /Invalid lab definition in sandbox\/labs\/nginx-local\.ts:/);
  assert.match(shown, /sandbox\/labs\/nginx-local\.ts:\d+: preview\.host: unknown host/);
  assert.match(shown, /fix: use one of the lab(’|'|&#39;)s hosts: web/);
  edit('sandbox/labs/nginx-local.ts', "preview: { host: 'www', port: 80", "preview: { host: 'web', port: 80");
  assert.equal((await pageUntil('/05-fastcgi/', (r) => r.status === 200)).status, 200);
});

test('a frontmatter error shows in the browser, not only in the terminal', async () => {
  edit('content/05-fastcgi.mdx', 'chapter: 5\n', 'chapter: cinq\n');
  const shown = await overlayErrors('/05-fastcgi/');
  assert.match(shown, /content\/05-fastcgi\.mdx:3: frontmatter: chapter: must be a number without quotes/);
  edit('content/05-fastcgi.mdx', 'chapter: cinq\n', 'chapter: 5\n');
  assert.equal((await pageUntil('/05-fastcgi/', (r) => r.status === 200)).status, 200);
});

test('the labs the dev server started are removed when it stops', async () => {
  const config = loadConfig({ ...process.env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope });
  const provider = new DockerProvider({ config, log: () => {} });
  try {
    assert.ok((await provider.listLabs()).length > 0, 'the lab of the test above runs');
    child.kill('SIGTERM');
    await within(once(child, 'exit'), 30_000, () => `astro dev did not stop:\n${output}`);
    assert.match(output, /removing the \d+ lab\(s\) this server started/);
    assert.deepEqual(await provider.listLabs(), []);
  } finally {
    await provider.close();
  }
});
