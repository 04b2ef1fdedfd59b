// Pure logic of the lab panel's browser code: reconnect backoff, flow-control accounting, frame
// splitting, the text a run button types, preview paths, terminal colours, lab info checks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ACK_EVERY_BYTES, HIGH_WATER_BYTES, LOW_WATER_BYTES, MAX_FRAME_BYTES } from '../../protocol/terminal.ts';
import { BACKOFF_FIRST_MS, BACKOFF_MAX_MS, reconnectDelay } from '../../site/islands/lab/backoff.ts';
import { FlowAccountant } from '../../site/islands/lab/flow.ts';
import { binaryStringFrames, splitFrames, textFrames } from '../../site/islands/lab/frames.ts';
import { commandText, decodeCopyData } from '../../site/islands/lab/run-text.ts';
import { pathIn, previewChip, resolvePreviewPath } from '../../site/islands/lab/preview.ts';
import { colorModeOf, terminalTheme } from '../../site/islands/lab/theme.ts';
import { LabApiError, parseLabInfo } from '../../site/islands/lab/api.ts';
import { sentence } from '../../site/islands/lab/strings.ts';

describe('reconnect backoff', () => {
  test('doubles from 0.5 s and stops at 10 s', () => {
    const top = (n: number) => reconnectDelay(n, () => 1);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 50].map(top), [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000]);
  });

  test('jitter keeps each delay between half its step and the step', () => {
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const step = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
        const d = reconnectDelay(attempt, () => r);
        return d >= step / 2 && d <= step;
      }),
    );
  });

  test('refuses a negative or fractional attempt', () => {
    assert.throws(() => reconnectDelay(-1), RangeError);
    assert.throws(() => reconnectDelay(1.5), RangeError);
  });
});

describe('flow accountant', () => {
  test('acknowledges once ACK_EVERY_BYTES are rendered, not before', () => {
    const flow = new FlowAccountant();
    const chunk = ACK_EVERY_BYTES / 4;
    for (let i = 0; i < 4; i++) flow.received(chunk);
    assert.deepEqual(flow.rendered(chunk), {});
    assert.deepEqual(flow.rendered(chunk), {});
    assert.deepEqual(flow.rendered(chunk), {});
    assert.deepEqual(flow.rendered(chunk), { ack: ACK_EVERY_BYTES });
    assert.equal(flow.unacked, 0);
  });

  test('acknowledges the rest when output goes idle, and only then', () => {
    const flow = new FlowAccountant();
    flow.received(10);
    flow.received(20);
    flow.rendered(10);
    assert.deepEqual(flow.idle(), {}, 'bytes still waiting in xterm: not idle');
    flow.rendered(20);
    assert.deepEqual(flow.idle(), { ack: 30 });
    assert.deepEqual(flow.idle(), {}, 'nothing left to acknowledge');
  });

  test('pauses above the high watermark and resumes below the low one', () => {
    const flow = new FlowAccountant();
    const chunk = 16 * 1024;
    let pauses = 0;
    while (!flow.paused) if (flow.received(chunk).pause) pauses++;
    assert.equal(pauses, 1);
    assert.ok(flow.pending > HIGH_WATER_BYTES);
    assert.deepEqual(flow.received(chunk), {}, 'no second pause while paused');
    let resumed = false;
    while (!resumed) {
      const a = flow.rendered(chunk);
      if (a.resume) {
        resumed = true;
        assert.ok(flow.pending < LOW_WATER_BYTES);
      } else assert.ok(flow.pending >= LOW_WATER_BYTES);
    }
  });

  test('every rendered byte is acknowledged exactly once, whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 60 }), (chunks) => {
        const flow = new FlowAccountant();
        let acked = 0;
        let pending = 0;
        const take = (a: { ack?: number }) => (acked += a.ack ?? 0);
        for (const c of chunks) {
          flow.received(c);
          pending += c;
          assert.ok(flow.unacked < ACK_EVERY_BYTES, 'never sits on a full batch');
        }
        for (const c of chunks) {
          take(flow.rendered(c));
          pending -= c;
          assert.equal(flow.pending, pending);
        }
        take(flow.idle());
        return acked === chunks.reduce((a, b) => a + b, 0) && !flow.paused;
      }),
    );
  });

  test('rejects limits that cannot work', () => {
    assert.throws(() => new FlowAccountant({ ackEvery: 1, high: 10, low: 10 }), RangeError);
    assert.throws(() => new FlowAccountant({ ackEvery: 0, high: 10, low: 5 }), RangeError);
  });
});

describe('frames', () => {
  test('a big paste is split under MAX_FRAME_BYTES and nothing is lost', () => {
    const text = `${'é'.repeat(MAX_FRAME_BYTES)}fin`; // 2 bytes per é: three frames
    const frames = textFrames(text);
    assert.equal(frames.length, 3);
    for (const f of frames) assert.ok(f.length <= MAX_FRAME_BYTES);
    const joined = Buffer.concat(frames.map((f) => Buffer.from(f)));
    assert.equal(joined.toString('utf8'), text);
  });

  test('split sizes add up, for any length and limit', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.integer({ min: 1, max: 700 }), (length, max) => {
        const frames = splitFrames(new Uint8Array(length), max);
        return frames.every((f) => f.length > 0 && f.length <= max) && frames.reduce((n, f) => n + f.length, 0) === length;
      }),
    );
  });

  test('binary strings keep their byte values', () => {
    const [frame] = binaryStringFrames('\x1b[M \xff\x80');
    assert.deepEqual(Array.from(frame!), [0x1b, 0x5b, 0x4d, 0x20, 0xff, 0x80]);
  });

  test('an empty input sends nothing; a bad limit is refused', () => {
    assert.deepEqual(textFrames(''), []);
    assert.throws(() => splitFrames(new Uint8Array(3), 0), RangeError);
  });
});

describe('run button text', () => {
  test("decodes Expressive Code's copy attribute (line breaks stored as U+007F)", () => {
    assert.equal(decodeCopyData('nginx -t\u007fsystemctl reload nginx'), 'nginx -t\nsystemctl reload nginx');
  });

  test('trims blank lines around the code and the final newline, keeps indentation inside', () => {
    assert.equal(commandText('\n\nlocation / {\r\n    root /srv;\r\n}\n\n'), 'location / {\n    root /srv;\n}');
    assert.equal(commandText('  \n'), '');
  });

  test('matches what astro-expressive-code really renders for a shell block', async () => {
    const { ExpressiveCode } = await import('expressive-code');
    const { toHtml } = await import('expressive-code/hast');
    const ec = new ExpressiveCode();
    const code = '# arrêter PHP-FPM\nsystemctl stop php8.2-fpm\ncurl -s http://web/index.php';
    const { renderedGroupAst } = await ec.render({ code, language: 'sh' });
    const html = toHtml(renderedGroupAst);
    const attr = /data-code="([^"]*)"/.exec(html)?.[1];
    assert.ok(attr !== undefined, 'the copy button carries data-code');
    const decoded = attr
      .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"');
    // comment lines of terminal frames are dropped, like the copy button does
    assert.equal(commandText(decodeCopyData(decoded)), 'systemctl stop php8.2-fpm\ncurl -s http://web/index.php');
  });
});

describe('preview address', () => {
  const base = new URL('http://127.0.0.1:4322/p/AbCdEfGh12345678/');
  const at = (p: string) => resolvePreviewPath(base, p).href;

  test('paths resolve inside the lab prefix', () => {
    assert.equal(at('/index.php'), `${base.href}index.php`);
    assert.equal(at('index.php?x=1'), `${base.href}index.php?x=1`);
    assert.equal(at(''), base.href);
    assert.equal(at('//evil.example/x'), `${base.href}evil.example/x`);
  });

  test('nothing escapes the prefix or the origin', () => {
    for (const p of ['../other/', '/../../', '%2e%2e/%2e%2e/', 'http://evil.example/', 'javascript:alert(1)', '\\\\evil.example']) {
      const url = resolvePreviewPath(base, p);
      assert.equal(url.origin, base.origin, p);
      assert.ok(url.pathname.startsWith(base.pathname), `${p} → ${url.href}`);
    }
  });

  test('the address bar shows the path inside the lab', () => {
    assert.equal(pathIn(base, new URL(`${base.href}a/b.php?q=1`)), '/a/b.php?q=1');
    assert.equal(pathIn(base, base), '/');
  });

  test('the chip: « chargement… » while the page comes, then its status, and nothing when unknown', () => {
    assert.deepEqual(previewChip('loading'), { text: 'chargement…', cls: '' });
    assert.deepEqual(previewChip('result', { path: '/', status: 503, statusText: 'Service Unavailable', seq: 1 }), {
      text: 'HTTP 503 Service Unavailable',
      cls: '5',
    });
    assert.deepEqual(previewChip('result', { path: '/', status: 200, statusText: '', seq: 2 }), { text: 'HTTP 200', cls: '2' });
    assert.deepEqual(previewChip('result', { path: '/', status: 0, statusText: 'pas de réponse du serveur web du lab', seq: 3 }), {
      text: 'pas de réponse du serveur web du lab',
      cls: '5',
    });
    assert.deepEqual(previewChip('unknown'), { text: '', cls: '' });
  });
});

describe('terminal colours', () => {
  test('data-theme wins over the system preference', () => {
    assert.equal(colorModeOf('dark', false), 'dark');
    assert.equal(colorModeOf('light', true), 'light');
    assert.equal(colorModeOf(null, true), 'dark');
    assert.equal(colorModeOf('', false), 'light');
  });

  test('plain custom properties override, unresolved ones are ignored', () => {
    const vars: Record<string, string> = {
      '--lab-term-background': ' #101010 ',
      '--lab-term-foreground': 'light-dark(#000, #fff)',
      '--lab-term-cursor-accent': 'var(--x)',
    };
    const theme = terminalTheme('dark', (n) => vars[n] ?? '');
    assert.equal(theme.background, '#101010');
    assert.equal(theme.foreground, terminalTheme('dark').foreground);
    assert.equal(theme.cursorAccent, terminalTheme('dark').cursorAccent);
    assert.notEqual(terminalTheme('light').background, terminalTheme('dark').background);
  });
});

describe('lab info from the API', () => {
  const good = {
    name: 'nginx-remote',
    labId: 'x1',
    title: 'Nginx',
    hosts: ['web', 'php'],
    state: 'ready',
    previewUrl: 'http://127.0.0.1:4322/p/x1/',
    expiresAt: 1,
  };

  test('a well-formed answer passes', () => {
    assert.deepEqual(parseLabInfo(good), good);
  });

  test('a malformed answer is refused with the field named', () => {
    const bad: Array<[unknown, RegExp]> = [
      [null, /objet/],
      [{ ...good, hosts: [] }, /hosts/],
      [{ ...good, state: 'running' }, /state/],
      [{ ...good, previewUrl: 'javascript:alert(1)' }, /previewUrl/],
      [{ ...good, expiresAt: '1' }, /expiresAt/],
    ];
    for (const [body, field] of bad) {
      assert.throws(
        () => parseLabInfo(body),
        (e: unknown) => e instanceof LabApiError && field.test(e.message),
      );
    }
  });

  test('server messages become sentences', () => {
    assert.equal(sentence("ce lab n'est pas lancé"), "Ce lab n'est pas lancé.");
    assert.equal(sentence('Déjà une phrase !'), 'Déjà une phrase !');
    assert.equal(sentence('  '), '');
  });
});
