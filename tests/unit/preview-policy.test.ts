// What the preview lets through and what it may cost: the status line and headers a browser gets for a
// lab's answer (response-headers.ts), the per-lab budget of requests and bytes (lab-budget.ts), and the
// cached preview targets that keep anonymous requests from driving the engine (preview-targets.ts), and
// which answers are the status of the page the panel's chip shows (proxy.ts).
// The security test tests/security/lab-answers.test.ts sends the same kinds of answers from a real lab.
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PreviewTargets, type PreviewTargetSource } from '../../server/labs/preview-targets.ts';
import { LabBudgets } from '../../server/preview/lab-budget.ts';
import { isNavigation, PreviewStatuses } from '../../server/preview/proxy.ts';
import { previewResponseHeaders, SANDBOX, statusLine } from '../../server/preview/response-headers.ts';
import { LabNotFoundError } from '../../server/sandbox/provider.ts';

/** What the cache holds does not matter to it: an address here. */
interface PreviewTarget {
  host: string;
  port: number;
}

const PREFIX = '/p/lab-0123456789';

/** A response Node would send: writeHead throws here exactly where it would throw in the proxy. */
function response(): ServerResponse {
  return new ServerResponse(new IncomingMessage(new Socket()));
}

describe('statusLine', () => {
  test('codes a browser cannot be given are refused (the proxy answers 502 instead)', () => {
    for (const code of [undefined, Number.NaN, 200.5, -1, 0, 99, 100, 101, 103, 199, 600, 999, 1000, Number.MAX_SAFE_INTEGER]) {
      assert.equal(statusLine(code, 'OK'), null, `code ${code}`);
    }
  });

  test('codes 200 to 599 pass, with the lab’s reason when it is plain printable ASCII of 200 characters at most', () => {
    assert.deepEqual(statusLine(200, 'OK'), { status: 200, reason: 'OK' });
    assert.deepEqual(statusLine(599, 'Whatever ~!'), { status: 599, reason: 'Whatever ~!' });
    assert.deepEqual(statusLine(404, ''), { status: 404, reason: '' });
    assert.deepEqual(statusLine(502, undefined), { status: 502, reason: undefined });
    assert.deepEqual(statusLine(200, 'x'.repeat(200)), { status: 200, reason: 'x'.repeat(200) });
  });

  test('a reason with a control character, a byte past ASCII or past 200 characters gives way to the standard one', () => {
    for (const reason of ['O\x00K', 'OK\r\nSet-Cookie: a=b', '\x1f', 'del\x7f', 'tab\t', 'caf\u00e9', '\u0080', 'x'.repeat(201)]) {
      assert.deepEqual(statusLine(200, reason), { status: 200, reason: undefined }, JSON.stringify(reason.slice(0, 40)));
    }
  });

  test('any code and reason: either refused, or accepted by writeHead (no exception can reach the process)', () => {
    const code = fc.oneof(fc.integer({ min: -5, max: 1100 }), fc.double(), fc.constant(undefined));
    const reason = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 300 }), fc.constant(undefined));
    let accepted = 0;
    fc.assert(
      fc.property(code, reason, (c, r) => {
        const line = statusLine(c, r);
        if (!line) return;
        accepted++;
        response().writeHead(line.status, line.reason);
        assert.ok(line.status >= 200 && line.status <= 599);
      }),
      { numRuns: 2000, seed: 9 },
    );
    assert.ok(accepted > 100, `${accepted} accepted lines were written`);
  });
});

describe('previewResponseHeaders', () => {
  test('representation headers and x- headers pass; cookies, site-wide and connection headers never do', () => {
    const out = previewResponseHeaders(
      {
        'content-type': 'text/html; charset=utf-8',
        'content-length': '12',
        'x-powered-by': 'PHP/8.2',
        server: 'nginx',
        vary: 'Accept-Encoding',
        'set-cookie': ['atelier_learner=stolen; Path=/', 'b=c; Path=/api'],
        'clear-site-data': '"cookies"',
        'strict-transport-security': 'max-age=31536000',
        'alt-svc': 'h3=":443"',
        nel: '{"report_to":"x"}',
        'report-to': '{"group":"x"}',
        etag: '"abc"',
        'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT',
        expires: 'Thu, 01 Jan 2099 00:00:00 GMT',
        connection: 'keep-alive',
        'transfer-encoding': 'chunked',
        'access-control-allow-origin': '*',
        'a-header-no-browser-knows-yet': '1',
      },
      PREFIX,
    );
    assert.deepEqual(out, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': '12',
      'x-powered-by': 'PHP/8.2',
      server: 'nginx',
      vary: 'Accept-Encoding',
      'content-security-policy': SANDBOX,
      'cache-control': 'no-store',
    });
  });

  test('the lab’s Cache-Control gives way to no-store; its CSP is kept with the sandbox added', () => {
    const lab = { 'cache-control': 'public, max-age=31536000', 'content-security-policy': "default-src 'self'" };
    const out = previewResponseHeaders(lab, PREFIX);
    assert.equal(out['cache-control'], 'no-store');
    assert.equal(out['content-security-policy'], `default-src 'self', ${SANDBOX}`);
  });

  test('a value with CR, LF or NUL, an invalid name, or a value past 8 KiB is dropped', () => {
    const out = previewResponseHeaders(
      {
        'x-crlf': 'a\r\nSet-Cookie: atelier_learner=x',
        'x-lf': 'a\nb',
        'x-nul': 'a\x00b',
        'x-bad name': 'a',
        'x(paren)': 'a',
        'x-long': 'a'.repeat(8193),
        'x-at-limit': 'a'.repeat(8192),
        'content-security-policy': "default-src 'none'\r\nx: y",
      },
      PREFIX,
    );
    assert.deepEqual(Object.keys(out).sort(), ['cache-control', 'content-security-policy', 'x-at-limit']);
    assert.equal(out['content-security-policy'], SANDBOX, 'an invalid CSP of the lab is dropped, the sandbox stays');
  });

  test('a redirect to an absolute path stays in the lab’s preview; other locations are left as they are', () => {
    const location = (l: string) => previewResponseHeaders({ location: l }, PREFIX).location;
    assert.equal(location('/'), `${PREFIX}/`);
    assert.equal(location('/index.php?a=1'), `${PREFIX}/index.php?a=1`);
    assert.equal(location('//evil.example/'), '//evil.example/', 'not turned into a path of this lab');
    assert.equal(location('/\\evil.example/'), '/\\evil.example/');
    assert.equal(location('http://localhost/x'), 'http://localhost/x');
    assert.equal(location('page.php'), 'page.php');
  });

  test('any headers: writeHead accepts the result, which never holds Set-Cookie or Clear-Site-Data', () => {
    const names = fc.oneof(
      fc.constantFrom('set-cookie', 'clear-site-data', 'location', 'content-type', 'content-length', 'x-a', 'content-security-policy'),
      fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 12 }),
      fc.string({ unit: 'binary-ascii', maxLength: 8 }).map((s) => `x-${s}`),
    );
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.string({ maxLength: 60 }),
      fc.constantFrom('/a', '//evil', '/\\evil', '"cookies"'),
    );
    // Arrays as Node's parser makes them, never empty: previewResponseHeaders checks a name only with its values.
    const values = fc.array(value, { minLength: 1, maxLength: 3 });
    const headers = fc.dictionary(names, fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: values }), { maxKeys: 8 });
    fc.assert(
      fc.property(headers, (h) => {
        const out = previewResponseHeaders(h, PREFIX);
        response().writeHead(200, out);
        assert.ok(!('set-cookie' in out) && !('clear-site-data' in out));
        assert.equal(out['cache-control'], 'no-store');
        assert.ok(String(out['content-security-policy']).endsWith(SANDBOX));
      }),
      { numRuns: 3000, seed: 9 },
    );
  });
});

describe('LabBudgets', () => {
  const big = { bytesPerSecond: 1 << 30, burstBytes: 1 << 30 };

  test('requests past the cap of one lab are refused, other labs are not concerned, a release frees one slot once', () => {
    const budgets = new LabBudgets({ concurrent: 2, ...big });
    const a = budgets.acquire('a');
    const b = budgets.acquire('a');
    assert.ok(a && b);
    assert.equal(budgets.acquire('a'), null, 'a third request at once is refused');
    assert.ok(budgets.acquire('other'), 'another lab has its own slots');
    a.release();
    const c = budgets.acquire('a');
    assert.ok(c, 'a released slot can be taken again');
    assert.equal(budgets.acquire('a'), null);
    b.release();
    b.release();
    assert.ok(budgets.acquire('a'), 'one slot freed by b');
    assert.equal(budgets.acquire('a'), null, 'releasing twice frees one slot, not two');
  });

  test('a lab’s cap is whole again each time its requests end', () => {
    const budgets = new LabBudgets({ concurrent: 1, ...big });
    for (let i = 0; i < 100; i++) {
      const slot = budgets.acquire('a');
      assert.ok(slot, `request ${i}`);
      assert.equal(budgets.acquire('a'), null);
      slot.release();
    }
  });

  /** Writes `chunks` into a meter at once; resolves when all came out, with when each did (performance.now()). */
  async function through(meter: NodeJS.ReadWriteStream, chunks: Buffer[]): Promise<{ out: Buffer; at: number[] }> {
    const at: number[] = [];
    const parts: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        parts.push(chunk);
        at.push(performance.now());
        done();
      },
    });
    await pipeline(Readable.from(chunks), meter, sink);
    return { out: Buffer.concat(parts), at };
  }

  /** Past the current phase of the event loop: what passed without a timer has passed. */
  const immediate = () => new Promise((r) => setImmediate(r));

  test('the meter passes the burst at once and holds what is past it at the rate (a lower bound on time: it cannot flake)', async () => {
    const rate = 64 * 1024;
    const burst = 16 * 1024;
    const budgets = new LabBudgets({ concurrent: 4, bytesPerSecond: rate, burstBytes: burst });
    const chunks = Array.from({ length: 16 }, (_, i) => Buffer.alloc(4096, i));
    // From before the bucket exists: its tokens grow from then on, so a bound from any later time could fail.
    const started = performance.now();
    const slot = budgets.acquire('a')!;
    const { out, at } = await through(slot.meter(), chunks);
    const elapsed = performance.now() - started;
    assert.deepEqual(out, Buffer.concat(chunks), 'every byte, in order');
    // 64 KiB with a 16 KiB burst: 48 KiB at 64 KiB/s, so at least 750 ms (a few ms of timer rounding allowed).
    assert.ok(elapsed >= 750 - 20, `64 KiB took ${elapsed.toFixed(0)} ms`);
    // The fifth chunk is the first past the burst: it waits for 4 KiB of rate, 62.5 ms.
    assert.ok(at[4]! - started >= 62.5 - 5, `the first chunk past the burst came out after ${(at[4]! - started).toFixed(1)} ms`);
    slot.release();
  });

  test('the burst itself is not held: it goes through before any timer could fire', async () => {
    const budgets = new LabBudgets({ concurrent: 4, bytesPerSecond: 1024, burstBytes: 16 * 1024 });
    const slot = budgets.acquire('a')!;
    const meter = slot.meter();
    let passed = 0;
    meter.on('data', (c: Buffer) => (passed += c.length));
    for (let i = 0; i < 5; i++) meter.write(Buffer.alloc(4096));
    // The fifth chunk needs 4 s of rate; the first four need no timer.
    await immediate();
    assert.equal(passed, 16 * 1024);
    meter.destroy();
    slot.release();
  });

  test('both directions of a lab share one budget; another lab has its own', async () => {
    const rate = 64 * 1024;
    const budgets = new LabBudgets({ concurrent: 4, bytesPerSecond: rate, burstBytes: 16 * 1024 });
    const chunks = () => Array.from({ length: 8 }, () => Buffer.alloc(4096));
    const started = performance.now();
    const slot = budgets.acquire('a')!;
    let otherPassed = 0;
    const other = budgets.acquire('b')!.meter();
    other.on('data', (c: Buffer) => (otherPassed += c.length));
    const both = Promise.all([through(slot.meter(), chunks()), through(slot.meter(), chunks())]);
    for (let i = 0; i < 4; i++) other.write(Buffer.alloc(4096));
    await immediate();
    assert.equal(otherPassed, 16 * 1024, 'lab b’s burst is whole while lab a is over its rate');
    other.destroy();
    await both;
    const elapsed = performance.now() - started;
    // 64 KiB in all with a 16 KiB burst: 48 KiB at 64 KiB/s.
    assert.ok(elapsed >= 750 - 20, `two 32 KiB streams of one lab took ${elapsed.toFixed(0)} ms`);
    slot.release();
  });
});

describe('PreviewTargets', () => {
  /** An engine in memory that counts what it is asked; listings and targets wait for `open()` when held. */
  function engine(ids: string[]) {
    const state = {
      ids: new Set(ids),
      listings: 0,
      targets: new Map<string, number>(),
      failListing: false,
      held: null as Promise<void> | null,
    };
    let release = () => {};
    const source: PreviewTargetSource<PreviewTarget> = {
      async labIds() {
        state.listings++;
        if (state.held) await state.held;
        if (state.failListing) throw new Error('engine down');
        return [...state.ids];
      },
      async target(labId: string): Promise<PreviewTarget> {
        state.targets.set(labId, (state.targets.get(labId) ?? 0) + 1);
        if (state.held) await state.held;
        return { host: `10.0.0.${state.targets.get(labId)}`, port: 80 };
      },
    };
    return {
      state,
      source,
      hold() {
        state.held = new Promise((ok) => (release = ok));
      },
      open() {
        state.held = null;
        release();
      },
      targetCalls: (id: string) => state.targets.get(id) ?? 0,
    };
  }

  const unknown = (n: number) => Array.from({ length: n }, (_, i) => `random-${i}-${'x'.repeat(8)}`);
  const rejectsNotFound = (p: Promise<unknown>) => assert.rejects(p, LabNotFoundError);

  test('many requests at once for unknown ids cost one listing; another burst within 2 s costs none', async () => {
    let now = 1_000_000;
    const e = engine(['lab-a']);
    const targets = new PreviewTargets<PreviewTarget>(e.source, () => now);
    e.hold();
    const first = unknown(300).map((id) => targets.get(id));
    assert.equal(e.state.listings, 1, 'one listing under way for all of them');
    e.open();
    await Promise.all(first.map(rejectsNotFound));
    assert.equal(e.state.listings, 1);

    now += 1999;
    await Promise.all(unknown(300).map((id) => rejectsNotFound(targets.get(`${id}-again`))));
    assert.equal(e.state.listings, 1, 'a second burst within 2 s of the listing costs no engine call');
    assert.equal(e.state.targets.size, 0, 'nor any target lookup');

    now += 1;
    await Promise.all(unknown(300).map((id) => rejectsNotFound(targets.get(`${id}-later`))));
    assert.equal(e.state.listings, 2, '2 s after the listing started, one new listing for the whole burst');
  });

  test('a listed lab resolves; a failed listing is not kept, the next request lists again', async () => {
    const now = 0;
    const e = engine(['lab-a']);
    const targets = new PreviewTargets<PreviewTarget>(e.source, () => now);
    e.state.failListing = true;
    await assert.rejects(targets.get('lab-a'), /engine down/);
    e.state.failListing = false;
    assert.deepEqual(await targets.get('lab-a'), { host: '10.0.0.1', port: 80 });
    assert.equal(e.state.listings, 2);
  });

  test('known() labs resolve without a listing; target() is asked once for requests at once, again only after 5 s', async () => {
    let now = 50_000;
    const e = engine([]);
    const targets = new PreviewTargets<PreviewTarget>(e.source, () => now);
    targets.known('lab-new');
    e.hold();
    const gets = Array.from({ length: 50 }, () => targets.get('lab-new'));
    e.open();
    const got = await Promise.all(gets);
    assert.ok(got.every((t) => t.host === '10.0.0.1' && t.port === 80));
    assert.equal(e.state.listings, 0, 'a lab this process made needs no listing');
    assert.equal(e.targetCalls('lab-new'), 1, 'one target lookup for 50 requests at once');

    now += 4999;
    assert.equal((await targets.get('lab-new')).host, '10.0.0.1');
    assert.equal(e.targetCalls('lab-new'), 1, 'cached for 5 s');
    now += 1;
    assert.equal((await targets.get('lab-new')).host, '10.0.0.2', 'asked again once 5 s are over');
    assert.equal(e.targetCalls('lab-new'), 2);
    assert.equal(e.state.listings, 0);
  });

  test('forget(id, false): new addresses are asked for; forget(id, true): the lab is unknown', async () => {
    const now = 0;
    const e = engine(['lab-a']);
    const targets = new PreviewTargets<PreviewTarget>(e.source, () => now);
    await targets.get('lab-a');
    assert.equal(e.state.listings, 1);
    targets.forget('lab-a', false);
    assert.equal((await targets.get('lab-a')).host, '10.0.0.2', 'recreated hosts: asked again');
    assert.equal(e.state.listings, 1, 'still known, no listing');

    e.state.ids.delete('lab-a');
    targets.forget('lab-a', true);
    await rejectsNotFound(targets.get('lab-a'));
    assert.equal(e.targetCalls('lab-a'), 2, 'a removed lab costs no target lookup');
    assert.equal(e.state.listings, 1, 'nor a listing within 2 s of the last');
  });

  test('a lab known before a listing that lacks it is unknown after that listing (the engine has the last word)', async () => {
    let now = 0;
    const e = engine([]);
    const targets = new PreviewTargets<PreviewTarget>(e.source, () => now);
    targets.known('lab-gone');
    now += 1;
    await rejectsNotFound(targets.get('unknown-id-123'));
    assert.equal(e.state.listings, 1);
    now += 5000;
    await rejectsNotFound(targets.get('lab-gone'));
    assert.equal(e.targetCalls('lab-gone'), 0);
  });
});

describe('the status the « Navigateur » chip shows', () => {
  const request = (headers: Record<string, string>) => {
    const req = new IncomingMessage(new Socket());
    req.headers = headers;
    return req;
  };

  test('only a navigation is the page’s status: not what the page loads or fetches', () => {
    assert.equal(isNavigation(request({ 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' })), true);
    assert.equal(isNavigation(request({ 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' })), true);
    for (const [mode, dest] of [
      ['cors', 'empty'],
      ['no-cors', 'image'],
      ['no-cors', 'script'],
      ['cors', 'font'],
      ['same-origin', 'empty'],
    ]) {
      assert.equal(isNavigation(request({ 'sec-fetch-mode': mode!, 'sec-fetch-dest': dest! })), false, `${mode} ${dest}`);
    }
  });

  test('without Fetch Metadata (plain http elsewhere than localhost), a request for HTML counts', () => {
    assert.equal(isNavigation(request({ accept: 'text/html,application/xhtml+xml,*/*;q=0.8' })), true);
    assert.equal(isNavigation(request({ accept: '*/*' })), false);
    assert.equal(isNavigation(request({})), false);
  });

  test('each result is newer than the one before, also across a restart', () => {
    const a = new PreviewStatuses();
    a.record('lab-a', { path: '/', status: 200, statusText: 'OK', at: 1 });
    const first = a.get('lab-a')!.seq;
    a.record('lab-b', { path: '/', status: 502, statusText: 'Bad Gateway', at: 2 });
    a.record('lab-a', { path: '/', status: 503, statusText: 'Service Unavailable', at: 3 });
    const second = a.get('lab-a')!.seq;
    assert.ok(second > first);
    assert.equal(a.get('lab-a')!.status, 503);
    const restarted = new PreviewStatuses();
    restarted.record('lab-a', { path: '/', status: 200, statusText: 'OK', at: 4 });
    assert.ok(restarted.get('lab-a')!.seq >= first, 'a restarted server counts on from the clock');
  });
});
