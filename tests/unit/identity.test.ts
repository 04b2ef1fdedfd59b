// The learner cookie as a unit, on a fake clock: what ensure() sets, what identify() accepts (signature,
// expiry, a changed key) and how it finds its cookie among many. Each test names what it would catch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { COOKIE_NAME, anonymousCookieIdentity } from '../../server/http/identity.ts';

const DAY = 24 * 3600;
const secret = randomBytes(32);

function request(cookie?: string): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  if (cookie !== undefined) req.headers.cookie = cookie;
  return req;
}

/** ensure() on a request: the learner id and the Set-Cookie headers it wrote. */
function ensure(identity: ReturnType<typeof anonymousCookieIdentity>, cookie?: string): { id: string; setCookie: string[] } {
  const req = request(cookie);
  const res = new ServerResponse(req);
  const id = identity.ensure(req, res);
  const header = res.getHeader('set-cookie');
  return { id, setCookie: header === undefined ? [] : ([] as string[]).concat(header as string | string[]) };
}

/** The name=value part of a Set-Cookie header, as a browser sends it back. */
const sentBack = (setCookie: string) => setCookie.split(';')[0]!;

describe('the learner cookie', () => {
  test('a new learner gets a signed, HttpOnly, SameSite=Strict cookie that identifies them afterwards', () => {
    let clock = 1_800_000_000_000;
    const identity = anonymousCookieIdentity({ secret, secure: true, maxAgeSeconds: 30 * DAY, now: () => clock });
    const first = ensure(identity);
    // Catches: a cookie readable by scripts, sent cross-site, unscoped, or without Max-Age.
    assert.equal(first.setCookie.length, 1);
    const attrs = first.setCookie[0]!.split(/;\s*/).slice(1);
    for (const a of ['HttpOnly', 'SameSite=Strict', 'Secure', 'Path=/', `Max-Age=${30 * DAY}`])
      assert.ok(attrs.includes(a), `${a} in ${attrs}`);
    // Catches: an id not in the cookie, or an issue time not taken from the clock given.
    const value = sentBack(first.setCookie[0]!).slice(COOKIE_NAME.length + 1);
    assert.deepEqual(value.split('.').slice(0, 2), [first.id, String(clock)]);
    clock += 1000;
    // Catches: identify() not reading its own cookie, or ensure() issuing a new one to a known learner.
    assert.equal(identity.identify(request(sentBack(first.setCookie[0]!))), first.id);
    const again = ensure(identity, sentBack(first.setCookie[0]!));
    assert.deepEqual(again, { id: first.id, setCookie: [] });
  });

  test('without HTTPS the cookie is not Secure (it would never come back over HTTP)', () => {
    const identity = anonymousCookieIdentity({ secret, secure: false, maxAgeSeconds: DAY });
    // Catches: Secure set whatever the setting, which loses every learner's identity on plain HTTP.
    assert.ok(!/;\s*Secure/i.test(ensure(identity).setCookie[0]!));
  });

  test('a forged or altered cookie is no one: another id, another time, another signature', () => {
    const identity = anonymousCookieIdentity({ secret, secure: true, maxAgeSeconds: DAY });
    const cookie = sentBack(ensure(identity).setCookie[0]!);
    const [id, issued, sig] = cookie.slice(COOKIE_NAME.length + 1).split('.') as [string, string, string];
    const other = randomBytes(16).toString('base64url');
    // Catches: a signature not checked, or not covering the id or the issue time.
    for (const bad of [
      `${other}.${issued}.${sig}`,
      `${id}.${Number(issued) + 1}.${sig}`,
      `${id}.${issued}.${sig.slice(1)}A`,
      `${id}.${issued}`,
      `${id}..${sig}`,
    ]) {
      assert.equal(identity.identify(request(`${COOKIE_NAME}=${bad}`)), null, bad);
    }
    // Catches: a learner who sends garbage keeping it instead of getting a new identity.
    const fresh = ensure(identity, `${COOKIE_NAME}=${other}.${issued}.${sig}`);
    assert.notEqual(fresh.id, other);
    assert.equal(fresh.setCookie.length, 1);
  });

  test('a cookie older than its maximum age is refused by the server too, and replaced by a new identity', () => {
    let clock = 1_800_000_000_000;
    const identity = anonymousCookieIdentity({ secret, secure: true, maxAgeSeconds: DAY, now: () => clock });
    const first = ensure(identity);
    const cookie = sentBack(first.setCookie[0]!);
    clock += DAY * 1000;
    // Catches: an off-by-one that refuses a cookie on its last valid millisecond.
    assert.equal(identity.identify(request(cookie)), first.id);
    clock += 1;
    // Catches: expiry left to the browser alone (a copied cookie would live for ever).
    assert.equal(identity.identify(request(cookie)), null);
    const next = ensure(identity, cookie);
    assert.notEqual(next.id, first.id);
    assert.ok(next.setCookie[0]!.includes(`.${clock}.`), 'the new cookie is issued now');
  });

  test('a new key: cookies signed with the old one identify no one, and their learners get new cookies', () => {
    const old = anonymousCookieIdentity({ secret, secure: true, maxAgeSeconds: DAY });
    const cookie = sentBack(ensure(old).setCookie[0]!);
    const rotated = anonymousCookieIdentity({ secret: randomBytes(32), secure: true, maxAgeSeconds: DAY });
    // Catches: the key not in the signature (anyone could sign), or a stale key kept somewhere.
    assert.equal(rotated.identify(request(cookie)), null);
    const next = ensure(rotated, cookie);
    assert.equal(rotated.identify(request(sentBack(next.setCookie[0]!))), next.id);
  });

  test('found among many cookies: other names, several of ours (a stale one first), a large header', () => {
    const identity = anonymousCookieIdentity({ secret, secure: true, maxAgeSeconds: DAY });
    const mine = ensure(identity);
    const cookie = sentBack(mine.setCookie[0]!);
    const stale = `${COOKIE_NAME}=${randomBytes(16).toString('base64url')}.1.${'x'.repeat(43)}`;
    const others = Array.from({ length: 60 }, (_, i) => `other_${i}=${'v'.repeat(100)}`).join('; ');
    // Catches: only the first cookie of our name tried (another app on the same host name shadows it),
    // or a header of other cookies making the learner a stranger.
    assert.equal(identity.identify(request(`${others}; ${stale}; ${cookie}; x_${COOKIE_NAME}=y`)), mine.id);
    assert.equal(identity.identify(request(`not_${COOKIE_NAME}=${cookie.slice(COOKIE_NAME.length + 1)}`)), null);
  });

  test('at most eight candidates are checked: a header full of fake cookies costs eight HMACs, not hundreds', () => {
    const identity = anonymousCookieIdentity({ secret, secure: true, maxAgeSeconds: DAY });
    const cookie = sentBack(ensure(identity).setCookie[0]!);
    const fake = (i: number) => `${COOKIE_NAME}=${randomBytes(16).toString('base64url')}.${i}.${'x'.repeat(43)}`;
    // Catches: an unbounded loop of signature checks driven by the request.
    assert.equal(identity.identify(request([...Array.from({ length: 8 }, (_, i) => fake(i)), cookie].join('; '))), null);
    assert.notEqual(identity.identify(request([...Array.from({ length: 7 }, (_, i) => fake(i)), cookie].join('; '))), null);
  });
});
