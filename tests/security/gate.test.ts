// The gate: who may open a terminal WebSocket or change a lab. Upgrades from a foreign origin, from the
// preview's origin, without a cookie, with a forged, tampered, foreign-key or expired cookie, and hellos
// for another learner's lab: all refused (figure: attempts / refused). Frames over the size limit close
// the connection. The server runs with a known ATELIER_SECRET so that the test can sign cookies.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { MAX_FRAME_BYTES } from '../../protocol/terminal.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { containerName, removeScope, terminalSessions } from '../helpers/engine.ts';
import { COOKIE, Learner, signedCookie, Terminal, tryUpgrade } from '../helpers/learner.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const LAB = 'nginx-local';
const env = securityEnv('gate');
const scope = env.ATELIER_LAB_SCOPE!;
const secret = env.ATELIER_SECRET!;
const DAY = 24 * 3600 * 1000;

let server: Backend;
let owner: Learner;
let ownerTerm: Terminal;
let ownerLabId = '';
const tally = { attempts: 0, refused: 0 };

before(async () => {
  await ensureSiteBuilt();
  server = await startBackend(env);
  owner = new Learner(server.url);
  ownerLabId = (await owner.startLab(LAB)).labId;
  ownerTerm = await owner.terminal(LAB, 'web');
});

after(async () => {
  console.log(`# figure: gate: ${tally.attempts} attempts, ${tally.refused} refused`);
  ownerTerm?.close();
  await server?.stop();
  await removeScope(scope);
});

const previewOrigin = () => new URL(server.previewUrl).origin;
const cookie = (value: string) => `${COOKIE}=${value}`;

describe('WebSocket upgrades', () => {
  test('the site’s own origin with a valid cookie is let in (the control case)', async () => {
    assert.equal(await tryUpgrade(server.url, { origin: server.url, cookie: owner.cookieHeader }), 101);
  });

  const cases: [string, () => { origin?: string | null; cookie?: string | null }, number][] = [
    ['a foreign origin', () => ({ origin: 'http://evil.example', cookie: owner.cookieHeader }), 403],
    ['the preview’s origin', () => ({ origin: previewOrigin(), cookie: owner.cookieHeader }), 403],
    [
      'the lab’s own preview origin',
      () => ({ origin: `http://${ownerLabId}.localhost:${new URL(server.previewUrl).port}`, cookie: owner.cookieHeader }),
      403,
    ],
    [
      'the preview’s origin by another host name',
      () => ({ origin: previewOrigin().replace('127.0.0.1', 'localhost'), cookie: owner.cookieHeader }),
      403,
    ],
    ['the site’s host on another port', () => ({ origin: `http://127.0.0.1:${server.port + 1}`, cookie: owner.cookieHeader }), 403],
    ['the site’s host over https', () => ({ origin: server.url.replace('http:', 'https:'), cookie: owner.cookieHeader }), 403],
    ['a look-alike origin', () => ({ origin: `${server.url}.evil.example`, cookie: owner.cookieHeader }), 403],
    ['Origin: null (sandboxed page, file:)', () => ({ origin: 'null', cookie: owner.cookieHeader }), 403],
    ['no Origin header (not a browser page)', () => ({ origin: null, cookie: owner.cookieHeader }), 403],
    ['no cookie', () => ({ origin: server.url, cookie: null }), 401],
    [
      'a forged cookie',
      () => ({
        origin: server.url,
        cookie: cookie(`${randomBytes(16).toString('base64url')}.${Date.now()}.${randomBytes(32).toString('base64url')}`),
      }),
      401,
    ],
    [
      'a cookie signed with another key',
      () => ({ origin: server.url, cookie: cookie(signedCookie(randomBytes(32).toString('hex'))) }),
      401,
    ],
    [
      'a valid cookie with another learner id put in',
      () => {
        const [, issued, sig] = owner.cookie!.split('.');
        return { origin: server.url, cookie: cookie(`${randomBytes(16).toString('base64url')}.${issued}.${sig}`) };
      },
      401,
    ],
    [
      'a valid cookie with its issue time moved',
      () => {
        const [id, , sig] = owner.cookie!.split('.');
        return { origin: server.url, cookie: cookie(`${id}.${Date.now()}.${sig}`) };
      },
      401,
    ],
    [
      'an expired cookie (signed with the server’s key, issued 31 days ago)',
      () => ({ origin: server.url, cookie: cookie(signedCookie(secret, { issuedAt: Date.now() - 31 * DAY })) }),
      401,
    ],
    [
      'a forged cookie behind 9 KiB of other cookies',
      () => ({ origin: server.url, cookie: `pad=${'x'.repeat(9000)}; ${cookie(signedCookie('another key'))}` }),
      401,
    ],
  ];
  for (const [what, opts, status] of cases) {
    test(`refused: ${what} (${status})`, async () => {
      tally.attempts++;
      const got = await tryUpgrade(server.url, opts());
      if (got !== 101) tally.refused++;
      assert.equal(got, status);
    });
  }

  test('the learner’s cookie behind 9 KiB of other cookies is still the learner (other cookies of the host cost no identity)', async () => {
    assert.equal(await tryUpgrade(server.url, { origin: server.url, cookie: `pad=${'x'.repeat(9000)}; ${owner.cookieHeader}` }), 101);
  });

  test('a cookie signed with the server’s key a day ago is accepted (the expiry is the only reason above)', async () => {
    assert.equal(
      await tryUpgrade(server.url, { origin: server.url, cookie: cookie(signedCookie(secret, { issuedAt: Date.now() - DAY })) }),
      101,
    );
  });
});

describe('another learner’s lab', () => {
  const attempts: [string, () => object][] = [
    ['hello for a lab kind they have and I do not', () => ({ t: 'hello', v: 1, lab: LAB, host: 'web', cols: 80, rows: 24 })],
    ['hello naming their lab instance', () => ({ t: 'hello', v: 1, lab: ownerLabId, host: 'web', cols: 80, rows: 24 })],
    ['hello naming their lab instance (as a name)', () => ({ t: 'hello', v: 1, lab: `a${ownerLabId}`, host: 'web', cols: 80, rows: 24 })],
    [
      'hello with their lab id as an extra field',
      () => ({ t: 'hello', v: 1, lab: LAB, host: 'web', cols: 80, rows: 24, labId: ownerLabId }),
    ],
  ];
  for (const [what, hello] of attempts) {
    test(`refused: ${what}`, async () => {
      tally.attempts++;
      const stranger = new Learner(server.url, signedCookie(secret)); // an identity of their own, no lab
      const t = new Terminal(server.url, stranger.cookieHeader);
      await t.opened;
      const before = ownerTerm.received;
      t.send(hello());
      // A hello that names a lab the learner does not have closes the connection; a malformed one gets
      // an error (the connection then closes when the hello timer runs out).
      await t.until(() => t.control.some((m) => m.t === 'error') || !t.isOpen, 15_000, 'refusal');
      const error = t.control.find((m) => m.t === 'error');
      assert.ok(error && ['unknown-lab', 'bad-message'].includes(error.code), JSON.stringify(t.control));
      if (error.code === 'unknown-lab') assert.equal((await t.closed).code, 4000);
      t.close();
      assert.equal(t.helloMessage, undefined, 'never attached');
      tally.refused++;
      assert.equal(ownerTerm.received, before, 'the owner’s terminal saw nothing');
    });
  }

  test('the owner’s lab holds only the owner’s shell', async () => {
    assert.equal(await terminalSessions(containerName(ownerLabId, 'web')), 1);
    assert.equal((await ownerTerm.run('echo still-mine')).output.trim(), 'still-mine');
  });
});

describe('the lab API', () => {
  const posts: [string, { origin?: string | null; contentType?: string | null }, number][] = [
    ['a foreign origin', { origin: 'http://evil.example' }, 403],
    ['the preview’s origin', { origin: '' }, 403],
    ['no Origin', { origin: null }, 403],
    ['Origin: null', { origin: 'null' }, 403],
    ['a form’s content type (text/plain)', { contentType: 'text/plain' }, 415],
    ['a form’s content type (urlencoded)', { contentType: 'application/x-www-form-urlencoded' }, 415],
  ];
  for (const [what, opts, status] of posts) {
    for (const path of [`/api/labs/${LAB}`, `/api/labs/${LAB}/reset`]) {
      test(`POST ${path.replace(LAB, '{lab}')} refused: ${what} (${status})`, async () => {
        tally.attempts++;
        const o = opts.origin === '' ? { ...opts, origin: previewOrigin() } : opts;
        const r = await owner.request('POST', path, o);
        if (r.status >= 400) tally.refused++;
        assert.equal(r.status, status);
        assert.equal((await owner.getLab(LAB))?.labId, ownerLabId, 'the lab is the same');
      });
    }
  }
});

describe('frames over the size limit', () => {
  for (const [what, frame] of [
    ['binary', () => Buffer.alloc(MAX_FRAME_BYTES + 1, 0x61)],
    ['text', () => JSON.stringify({ t: 'ping', id: 1, pad: 'x'.repeat(MAX_FRAME_BYTES) })],
  ] as const) {
    test(`a ${what} frame of ${MAX_FRAME_BYTES} + 1 bytes closes the connection (1009), attached or not`, async () => {
      for (const attach of [false, true]) {
        const t = attach ? await owner.terminal(LAB, 'web') : new Terminal(server.url, owner.cookieHeader);
        await t.opened;
        t.ws.send(frame(), { binary: what === 'binary' });
        const closed = await t.closed;
        assert.equal(closed.code, 1009, `attached: ${attach}`);
      }
      // A frame at the limit is fine.
      const ok = await owner.terminal(LAB, 'web');
      ok.write(Buffer.alloc(MAX_FRAME_BYTES, 0x20));
      ok.send({ t: 'ping', id: 7 });
      await ok.until(() => ok.control.some((m) => m.t === 'pong'), 10_000, 'pong after a full-size frame');
      ok.close();
      ownerTerm = await owner.terminal(LAB, 'web'); // the owner's terminal was taken over: attach again
    });
  }
});

test('every refusal left the server up and the owner’s lab untouched', async () => {
  assert.ok(server.alive());
  assert.ok(tally.attempts >= 30);
  assert.equal(tally.refused, tally.attempts);
  assert.equal(await terminalSessions(containerName(ownerLabId, 'web')), 1);
});
