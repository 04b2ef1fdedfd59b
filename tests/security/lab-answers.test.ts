// A crash test in the fuzz style (issue 9): fast-check makes HTTP answers, byte by byte, and a real lab
// serves them to the preview as a learner would: `service nginx stop`, then a small listener of their own
// on port 80. Status lines (codes 000, 099, 1xx, 600, 1000, -1, letters, none), reason phrases (control
// characters, bytes past ASCII, 70 KB), header names and values (invalid tokens, CR/LF and NUL, obs-fold,
// two Content-Length, Transfer-Encoding with Content-Length, huge headers, Set-Cookie, Clear-Site-Data,
// Location //evil and /\evil), bodies chunked (valid, invalid sizes, truncated) and plain, and closes in
// the middle of each part. Properties, after every answer: the server is up; the browser got an answer in
// time (a status 200-599, or a cut connection when what the lab sent after valid headers broke off) and
// never a cookie or Clear-Site-Data; the site still answers 200. Well-formed answers reach the browser as
// the lab sent them, parseable hostile ones with the lab's status or a 502. 2000 answers in CI
// (ATELIER_LAB_ANSWERS=20000 for more, ATELIER_LAB_ANSWERS_SEED=<n> to replay or vary a run).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { containerName, execIn, removeScope } from '../helpers/engine.ts';
import { Learner, type Terminal } from '../helpers/learner.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const LAB = 'nginx-local';
const RUNS = Number(process.env.ATELIER_LAB_ANSWERS ?? 2000);
const SEED = Number(process.env.ATELIER_LAB_ANSWERS_SEED ?? 9_2026);
/** Past the preview's own 15 s idle bound on a lab's connection: only a real hang reaches it. */
const ANSWER_TIMEOUT_MS = 20_000;
const env = securityEnv('lab-answers');
const scope = env.ATELIER_LAB_SCOPE!;

/**
 * The learner's web server: each request is answered with the bytes its path names, then the connection
 * is closed (so every answer ends, cut or not). Path parts: /b<base64url> bytes, /r<count>.<byte> a run of
 * one byte (huge headers and bodies without a huge URL).
 */
const LISTENER = String.raw`<?php
$server = stream_socket_server('tcp://0.0.0.0:80', $errno, $error);
if ($server === false) { fwrite(STDERR, "listen: $error\n"); exit(1); }
for (;;) {
  $c = @stream_socket_accept($server, 3600);
  if ($c === false) continue;
  stream_set_timeout($c, 10);
  $head = '';
  while (strpos($head, "\r\n\r\n") === false && strlen($head) < 65536) {
    $more = fread($c, 65536);
    if ($more === false || $more === '') break;
    $head .= $more;
  }
  $answer = '';
  foreach (explode('/', explode(' ', $head, 3)[1] ?? '/') as $part) {
    if ($part === '') continue;
    if ($part[0] === 'b') $answer .= base64_decode(strtr(substr($part, 1), '-_', '+/'));
    if ($part[0] === 'r') { [$n, $byte] = explode('.', substr($part, 1)) + [0, 0]; $answer .= str_repeat(chr((int) $byte), (int) $n); }
  }
  for ($sent = 0; $sent < strlen($answer); $sent += $w) {
    $w = @fwrite($c, substr($answer, $sent));
    if (!$w) break;
  }
  // The request was read whole: the close is a FIN, not a reset, and the proxy reads every byte sent.
  stream_socket_shutdown($c, STREAM_SHUT_WR);
  fclose($c);
}
`;

let server: Backend;
let term: Terminal;
let labId = '';
let base = '';

before(async () => {
  await ensureSiteBuilt();
  server = await startBackend(env);
  const learner = new Learner(server.url);
  labId = (await learner.startLab(LAB)).labId;
  base = `${server.previewUrl}/p/${labId}`;
  const script = Buffer.from(LISTENER).toString('base64');
  const w = await execIn(containerName(labId, 'web'), `echo ${script} | base64 -d > /tmp/answers.php`);
  assert.equal(w.exitCode, 0, w.stderr);
  // What any learner may do in their own lab, from its terminal.
  term = await learner.terminal(LAB, 'web');
  for (const command of [
    'service nginx stop',
    'setsid -f php /tmp/answers.php > /tmp/answers.log 2>&1 < /dev/null',
    "timeout 10 sh -c 'until nc -z 127.0.0.1 80; do sleep 0.1; done'",
  ]) {
    const r = await term.run(command);
    assert.equal(r.exitCode, 0, `${command}: ${r.output}`);
  }
  const hello = await get(`${base}${encode(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'])}`);
  assert.deepEqual([hello.outcome, hello.status, hello.body.toString()], ['complete', 200, 'hello'], 'the listener answers the preview');
});

after(async () => {
  term?.close();
  await server?.stop();
  await removeScope(scope);
});

// ——— an answer: bytes (latin1, one char a byte), and runs of one byte for the huge parts ———

type Part = string | { repeat: number; byte: number };

function encode(parts: Part[]): string {
  // '/a' first (ignored by the listener): an empty answer still has a path (/p/<lab> alone redirects).
  const encoded = (p: Part) => (typeof p === 'string' ? `/b${Buffer.from(p, 'latin1').toString('base64url')}` : `/r${p.repeat}.${p.byte}`);
  return `/a${parts.map(encoded).join('')}`;
}

const partLength = (p: Part) => (typeof p === 'string' ? p.length : p.repeat);
const byteLength = (parts: Part[]) => parts.reduce((n, p) => n + partLength(p), 0);

/** The first `n` bytes of an answer: a lab that closes its connection there. */
const cut = (parts: Part[], n: number): Part[] => slice(parts, 0, n);

interface Answer {
  /** status line, header lines with the blank line, body */
  sections: [Part[], Part[], Part[]];
  /** where the lab closes early: a section and how far into it (0-1) */
  close: { section: 0 | 1 | 2; at: number } | null;
  /** for a well-formed answer: what the browser must get */
  expect: { status: number; body: string; marker: string } | null;
  /** for a near-valid answer: its final status, the only one the browser may get but a 502 */
  plausible?: number;
}

function bytesOf(a: Answer): Part[] {
  const [status, head, body] = a.sections;
  if (!a.close) return [...status, ...head, ...body];
  const before = a.sections.slice(0, a.close.section).reduce((n, s) => n + byteLength(s), 0);
  const within = Math.floor(a.close.at * byteLength(a.sections[a.close.section]));
  return cut([...status, ...head, ...body], before + within);
}

// ——— what a learner's server may answer ———

const charIn = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));
const printable = fc.string({ unit: charIn(0x20, 0x7e), maxLength: 30 });
const tokenChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!#$&');
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 20 });
const anyByte = fc.string({ unit: charIn(0, 0xff), maxLength: 40 });
const eol = fc.oneof(
  { weight: 12, arbitrary: fc.constant('\r\n') },
  { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '\r\r\n', '\n\r') },
);
const huge = fc.constantFrom(201, 8193, 17_000, 70_000).map((repeat): Part => ({ repeat, byte: 0x41 }));

const code = fc.oneof(
  fc.constantFrom('000', '099', '100', '101', '102', '103', '199', '200', '204', '206', '299', '301', '304', '404', '418', '500', '599'),
  fc.constantFrom('600', '999', '1000', '-1', '', '2', '20', '0200', '2000', '+200', ' 200', '2O0', 'abc', '20 0', '2e2', '\x00\x00\x00'),
  fc.integer({ min: -5, max: 1100 }).map(String),
);
const reason = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('OK', '', 'Not Found', ' spaced  out ', 'X') },
  { weight: 3, arbitrary: printable },
  // Control characters (a reason with one crashed the server before the fix), DEL, bytes past ASCII.
  {
    weight: 3,
    arbitrary: fc.string({ unit: fc.oneof(charIn(0, 0x1f), fc.constant('\x7f'), charIn(0x41, 0x5a)), minLength: 1, maxLength: 12 }),
  },
  { weight: 2, arbitrary: fc.string({ unit: charIn(0x80, 0xff), minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: anyByte },
);
const version = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('HTTP/1.1', 'HTTP/1.0') },
  { weight: 1, arbitrary: fc.constantFrom('HTTP/2', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1.10', 'HTTP/9.9', 'ICY', 'HTTP/1.1\x00') },
  { weight: 1, arbitrary: fc.constant('') },
);
const statusSection: fc.Arbitrary<Part[]> = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(version, code, reason, eol).map(([v, c, r, e]) => [`${v} ${c} ${r}${e}`]) },
  { weight: 1, arbitrary: fc.tuple(version, code, eol).map(([v, c, e]) => [`${v} ${c}${e}`]) },
  { weight: 1, arbitrary: fc.tuple(version, code, huge, eol).map(([v, c, h, e]): Part[] => [`${v} ${c} `, h, e]) },
  // No status line: the answer starts with a header or with the body.
  { weight: 1, arbitrary: fc.constantFrom<Part[]>([], ['Content-Type: text/html\r\n'], ['<h1>hi</h1>\r\n']) },
);

const headerName = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'Content-Type',
      'X-Test',
      'Server',
      'Location',
      'Set-Cookie',
      'set-cookie',
      'SET-COOKIE',
      'Clear-Site-Data',
      'Content-Security-Policy',
      'Strict-Transport-Security',
      'Refresh',
      'Link',
      'Vary',
      'Cache-Control',
      'ETag',
      'Connection',
      'Keep-Alive',
      'Upgrade',
      'Alt-Svc',
      'Content-Encoding',
      'Content-Disposition',
      'Date',
      'WWW-Authenticate',
      'Trailer',
      'Content-Length',
      'Transfer-Encoding',
    ),
  },
  { weight: 2, arbitrary: token.map((t) => `X-${t}`) },
  // Not tokens: spaces, separators, NUL, DEL, bytes past ASCII, nothing.
  {
    weight: 2,
    arbitrary: fc.constantFrom('', 'X Test', 'X-Test ', ' X-Test', 'X(Test)', 'X-\x00', 'X-\x7f', 'X-\xe9t\xe9', '@', 'Set-Cookie ', ':'),
  },
  { weight: 1, arbitrary: fc.string({ unit: charIn(0, 0xff), minLength: 1, maxLength: 10 }) },
);
const headerValue = fc.oneof(
  { weight: 6, arbitrary: printable },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'atelier_learner=stolen; Path=/; HttpOnly',
      '"cookies"',
      '"*"',
      '//evil.example/',
      '/\\evil.example/',
      '/inside',
      'http://evil.example/',
      '0; url=//evil.example/',
      'chunked',
      'gzip, chunked',
      'close',
      'keep-alive',
      'upgrade',
      'websocket',
      '5',
      '-1',
      '99999999999999999999',
    ),
  },
  // CR/LF injection and NUL: a second header, or a broken line.
  {
    weight: 2,
    arbitrary: fc.constantFrom('a\r\nSet-Cookie: atelier_learner=evil; Path=/', 'a\nClear-Site-Data: "*"', 'a\rb', 'a\x00b', 'a\r\n\r\nb'),
  },
  { weight: 1, arbitrary: anyByte },
);
const headerLine: fc.Arbitrary<Part[]> = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(headerName, headerValue, eol).map(([n, v, e]) => [`${n}: ${v}${e}`]) },
  { weight: 1, arbitrary: fc.tuple(headerName, headerValue).map(([n, v]) => [`${n}:${v}\r\n`]) },
  { weight: 1, arbitrary: headerName.map((n) => [`${n}\r\n`]) },
  // obs-fold: a value continued on the next line.
  {
    weight: 1,
    arbitrary: fc.tuple(headerName, printable, fc.constantFrom(' ', '\t'), printable).map(([n, v, f, w]) => [`${n}: ${v}\r\n${f}${w}\r\n`]),
  },
  { weight: 1, arbitrary: fc.tuple(headerName, huge).map(([n, h]): Part[] => [`${n}: `, h, '\r\n']) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<Part[]>(
      ['Set-Cookie: atelier_learner=stolen; Path=/; HttpOnly; SameSite=Strict\r\n'],
      ['Set-Cookie: big=1; Path=/api; Max-Age=99999\r\nSet-Cookie: b=2\r\n'],
      ['Clear-Site-Data: "cookies"\r\n'],
      ['Clear-Site-Data: "*"\r\n'],
      ['Location: //evil.example/\r\n'],
      ['Location: /\\evil.example/\r\n'],
      ['Refresh: 0; url=//evil.example/\r\n'],
      ['Content-Length: 5\r\nContent-Length: 6\r\n'],
      ['Content-Length: 5\r\nContent-Length: 5\r\n'],
      ['Content-Length: 5, 6\r\n'],
      ['Content-Length: +5\r\n'],
      ['Content-Length: 0x10\r\n'],
      ['Content-Length: \r\n'],
      ['Transfer-Encoding: chunked\r\nContent-Length: 3\r\n'],
      ['Transfer-Encoding: gzip, chunked\r\n'],
      ['Transfer-Encoding: chunked, gzip\r\n'],
      ['Transfer-Encoding: identity\r\n'],
      ['Transfer-Encoding : chunked\r\n'],
      ['Connection: upgrade\r\nUpgrade: websocket\r\n'],
      ['Content-Encoding: gzip\r\n'],
    ),
  },
);

const bodyBytes = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: charIn(0, 0xff), maxLength: 300 }).map((s): Part[] => [s]) },
  { weight: 1, arbitrary: fc.constantFrom(20_000, 200_000).map((repeat): Part[] => [{ repeat, byte: 0x62 }]) },
);

/** Chunked framing of a body, in pieces of the given sizes (the last piece takes the rest); runs stay runs. */
function chunked(body: Part[], sizes: number[], ending: string): Part[] {
  const total = byteLength(body);
  const out: Part[] = [];
  let at = 0;
  for (const size of [...sizes, total]) {
    const length = Math.min(Math.max(1, size), total - at);
    if (length <= 0) break;
    out.push(`${length.toString(16)}\r\n`, ...slice(body, at, at + length), '\r\n');
    at += length;
  }
  return [...out, ending];
}

/** Bytes `from` to `to` of an answer's parts. */
function slice(parts: Part[], from: number, to: number): Part[] {
  const out: Part[] = [];
  let at = 0;
  for (const p of parts) {
    const start = Math.max(from, at);
    const end = Math.min(to, at + partLength(p));
    if (end > start) out.push(typeof p === 'string' ? p.slice(start - at, end - at) : { repeat: end - start, byte: p.byte });
    at += partLength(p);
  }
  return out;
}

/** The framing header (if any) and the body's bytes. */
const framing: fc.Arbitrary<{ header: string; body: Part[] }> = fc.oneof(
  { weight: 3, arbitrary: bodyBytes.map((b) => ({ header: `Content-Length: ${byteLength(b)}\r\n`, body: b })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(bodyBytes, fc.integer({ min: -3, max: 3 }))
      .map(([b, d]) => ({ header: `Content-Length: ${Math.max(0, byteLength(b) + d)}\r\n`, body: b })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        bodyBytes,
        fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 5 }),
        fc.constantFrom('0\r\n\r\n', '0\r\nX-Trailer: 1\r\n\r\n', '0\r\nSet-Cookie: t=1\r\n\r\n'),
      )
      .map(([b, sizes, end]) => ({ header: 'Transfer-Encoding: chunked\r\n', body: chunked(b, sizes, end) })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('zz', '-1', 'fffffffffffffffff', ' 5', '5 ', '0x5', '5;ext=1', '5;\x00', '', '\x80'),
        printable,
        fc.constantFrom('\r\n', '', '\r\nextra', '\n'),
      )
      .map(([size, data, after]) => ({ header: 'Transfer-Encoding: chunked\r\n', body: [`${size}\r\n${data}${after}`, '0\r\n\r\n'] })),
  },
  // Truncated: no last chunk, the lab closes (a close in the middle of a chunk is one of the early closes).
  { weight: 1, arbitrary: bodyBytes.map((b) => ({ header: 'Transfer-Encoding: chunked\r\n', body: chunked(b, [7], '') })) },
  // Plain: the body ends when the lab closes.
  { weight: 2, arbitrary: bodyBytes.map((b) => ({ header: '', body: b })) },
  { weight: 1, arbitrary: fc.constant({ header: '', body: [] as Part[] }) },
);

const early = fc.oneof(
  { weight: 5, arbitrary: fc.constant(null) },
  {
    weight: 1,
    arbitrary: fc.record({ section: fc.constantFrom<0 | 1 | 2>(0, 1, 2), at: fc.double({ min: 0, max: 0.999, noNaN: true }) }),
  },
);

const fuzzed: fc.Arbitrary<Answer> = fc
  .tuple(statusSection, fc.array(headerLine, { maxLength: 6 }), fc.boolean(), framing, fc.constantFrom('\r\n', '\r\n', '\n', ''), early)
  .map(([status, lines, framingFirst, f, blank, close]) => {
    const head = framingFirst ? [f.header, ...lines.flat()] : [...lines.flat(), f.header];
    return { sections: [status, [...head, blank], f.body], close, expect: null };
  });

/** Well-formed answers: the browser must get the lab's status and body as they are, and none of its cookies. */
const wellFormed: fc.Arbitrary<Answer> = fc
  .tuple(
    fc.constantFrom(200, 201, 202, 203, 400, 401, 403, 404, 410, 418, 429, 500, 502, 503, 599),
    printable,
    token,
    fc.string({ unit: charIn(0, 0xff), maxLength: 300 }),
    fc.constantFrom('length', 'chunked', 'plain'),
    fc.subarray(['Set-Cookie: atelier_learner=stolen; Path=/\r\n', 'Clear-Site-Data: "cookies"\r\n', 'Content-Type: text/html\r\n']),
  )
  .map(([status, why, marker, body, frame, extra]) => {
    const framingHeader = { length: `Content-Length: ${body.length}\r\n`, chunked: 'Transfer-Encoding: chunked\r\n', plain: '' }[frame];
    const bodyPart = frame === 'chunked' ? chunked([body], [50], '0\r\n\r\n') : [body];
    const head = `X-Test: ${marker}\r\n${extra.join('')}${framingHeader}\r\n`;
    return { sections: [[`HTTP/1.1 ${status} ${why}\r\n`], [head], bodyPart], close: null, expect: { status, body, marker } };
  });

const informational = fc.constantFrom('HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
const tokenName = headerName.filter((n) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n) && !/^(content-length|transfer-encoding)$/i.test(n));
const plausibleLine: fc.Arbitrary<Part[]> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        tokenName,
        headerValue.filter((v) => !/[\r\n\x00]/.test(v)),
      )
      .map(([n, v]) => [`${n}: ${v}\r\n`]),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('X-Test', 'Link', 'Set-Cookie'), fc.string({ unit: charIn(0x80, 0xff), maxLength: 20 }))
      .map(([n, v]) => [`${n}: ${v}\r\n`]),
  },
  // At the proxy's 8 KiB bound on a value, and one past it.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('X-Big', 'Content-Security-Policy', 'Set-Cookie'), fc.constantFrom(8192, 8193))
      .map(([n, repeat]): Part[] => [`${n}: `, { repeat, byte: 0x61 }, '\r\n']),
  },
);
/**
 * Answers close to valid, with hostile contents: any code 200-599 after an optional 1xx, any reason, header
 * values with bytes past ASCII, cookies, redirects elsewhere, at and past the 8 KiB bound. The browser gets
 * the lab's code (headers from the allow-list) or a 502, nothing else.
 */
const plausible: fc.Arbitrary<Answer> = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: informational }),
    fc.oneof(fc.integer({ min: 200, max: 599 }), fc.constantFrom(204, 205, 304)),
    reason,
    fc.array(plausibleLine, { maxLength: 8 }),
    fc.string({ unit: charIn(0, 0xff), maxLength: 300 }),
    fc.constantFrom('length', 'chunked', 'plain'),
  )
  .map(([first, status, why, lines, body, frame]): Answer => {
    const framingHeader = { length: `Content-Length: ${body.length}\r\n`, chunked: 'Transfer-Encoding: chunked\r\n', plain: '' }[frame];
    const bodyPart = frame === 'chunked' ? chunked([body], [100], '0\r\n\r\n') : [body];
    const line = `HTTP/1.1 ${status} ${why.replace(/[\r\n]/g, '')}\r\n`;
    const sections: Answer['sections'] = [[first, line], [...lines.flat(), framingHeader, '\r\n'], bodyPart];
    return { sections, close: null, expect: null, plausible: status };
  });

const answer = fc.oneof({ weight: 3, arbitrary: fuzzed }, { weight: 2, arbitrary: plausible }, { weight: 1, arbitrary: wellFormed });

// ——— what the browser gets ———

interface Got {
  outcome: 'complete' | 'cut after the status' | 'closed before a status' | 'timeout';
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  ms: number;
}

function get(url: string): Promise<Got> {
  const started = performance.now();
  return new Promise((resolve) => {
    let got: Got = { outcome: 'closed before a status', status: 0, headers: {}, body: Buffer.alloc(0), ms: 0 };
    const done = (outcome: Got['outcome']) => resolve({ ...got, outcome, ms: performance.now() - started });
    const req = request(url, { agent: false, timeout: ANSWER_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      got = { ...got, status: res.statusCode ?? 0, headers: res.headers };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ((got.body = Buffer.concat(chunks)), done('complete')));
      // The response errs or closes before its end.
      const cutShort = () => ((got.body = Buffer.concat(chunks)), done('cut after the status'));
      res.on('error', cutShort);
      res.on('close', () => res.complete || cutShort());
    });
    req.on('timeout', () => (done('timeout'), req.destroy()));
    req.on('error', () => done(got.status ? 'cut after the status' : 'closed before a status'));
    req.end();
  });
}

/** The site's home page status, or why there is none (a server that died answers nothing). */
async function siteStatus(): Promise<number | string> {
  try {
    const res = await fetch(`${server.url}/`, { signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    return `no answer (${String((err as Error).cause ?? err)})`;
  }
}

/** An answer as text to read and replay: bytes outside printable ASCII as \xHH (DEL and 0x80-0xff included). */
function show(a: Answer): string {
  const hex = (c: string) => ({ '\r': '\\r', '\n': '\\n' })[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  const escaped = (s: string) => s.replace(/[^\x20-\x5b\x5d-\x7e]/g, hex); // a backslash too: \x is never ambiguous
  const text = (p: Part) => (typeof p === 'string' ? escaped(p.slice(0, 400)) : `<${p.repeat} × ${escaped(String.fromCharCode(p.byte))}>`);
  return bytesOf(a).map(text).join('').slice(0, 3000);
}

const TITLE = `${RUNS} generated lab answers through the preview: the server stays up, answers each one, and no cookie gets through`;

test(TITLE, { timeout: 600_000 }, async (t) => {
  const rssBefore = server.rssBytes();
  let peakRss = rssBefore;
  const statuses = new Map<string, number>();
  const outcomes = new Map<string, number>();
  const stats = { answers: 0, bytes: 0, wellFormed: 0, plausible: 0, relayed: 0, slowestMs: 0 };
  const started = Date.now();

  const result = await fc.check(
    fc.asyncProperty(answer, async (a) => {
      const bytes = bytesOf(a);
      stats.answers++;
      stats.bytes += byteLength(bytes);
      const got = await get(`${base}${encode(bytes)}`);
      // By class, but 502 (the proxy's refusal) on its own.
      const status = got.status === 0 ? 'none' : got.status === 502 ? '502' : `${Math.floor(got.status / 100)}xx`;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      outcomes.set(got.outcome, (outcomes.get(got.outcome) ?? 0) + 1);
      stats.slowestMs = Math.max(stats.slowestMs, got.ms);
      peakRss = Math.max(peakRss, server.rssBytes());
      assert.ok(server.alive(), 'the server is still running');
      assert.notEqual(got.outcome, 'timeout', `the preview answered within ${ANSWER_TIMEOUT_MS / 1000} s`);
      // Every answer gets a status: the lab's, or the proxy's 502 when the lab's answer is refused or breaks
      // off before its first body byte (headers are sent with that byte).
      assert.notEqual(got.outcome, 'closed before a status', `a connection closed without a status after ${got.ms.toFixed(0)} ms`);
      assert.ok(got.status >= 200 && got.status <= 599, `status ${got.status}`);
      assert.equal(got.headers['set-cookie'], undefined, 'no Set-Cookie reaches the browser');
      assert.equal(got.headers['clear-site-data'], undefined, 'no Clear-Site-Data reaches the browser');
      const location = got.headers.location;
      // A path of the lab's site stays in its preview (//host and /\host are other hosts: left as they are).
      if (typeof location === 'string' && /^\/(?![/\\])/.test(location)) {
        assert.ok(location.startsWith(`/p/${labId}/`), `Location ${location}`);
      }
      if (a.plausible !== undefined && got.status) {
        stats.plausible++;
        if (got.status === a.plausible) stats.relayed++;
        assert.ok(got.status === a.plausible || got.status === 502, `the lab's ${a.plausible} became ${got.status}`);
      }
      if (a.expect) {
        stats.wellFormed++;
        assert.equal(got.outcome, 'complete');
        assert.equal(got.status, a.expect.status);
        assert.equal(got.headers['x-test'], a.expect.marker);
        assert.equal(got.body.toString('latin1'), a.expect.body);
        assert.equal(got.headers['cache-control'], 'no-store');
        assert.match(String(got.headers['content-security-policy']), /sandbox/);
      }
      assert.equal(await siteStatus(), 200, 'the site answers right after');
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  const seconds = (Date.now() - started) / 1000;
  const rssAfter = server.rssBytes();
  const byCount = (m: Map<string, number>) => JSON.stringify(Object.fromEntries([...m].sort((x, y) => y[1] - x[1])));
  const mib = (n: number, digits = 0) => (n / 2 ** 20).toFixed(digits);
  const figure =
    `${stats.answers} lab answers (${mib(stats.bytes, 1)} MiB) in ${seconds.toFixed(0)} s, seed ${SEED}: ` +
    `${stats.wellFormed} well-formed (relayed as sent), ${stats.plausible} near-valid with hostile contents ` +
    `(${stats.relayed} relayed with the lab's status, the rest 502); ` +
    `statuses seen by the browser: ${byCount(statuses)}; outcomes: ${byCount(outcomes)}; ` +
    `slowest answer ${stats.slowestMs.toFixed(0)} ms; server RSS ${mib(rssBefore)} → ${mib(rssAfter)} MiB (peak ${mib(peakRss)})`;
  console.log(`# figure: lab-answers: ${figure}`);
  t.diagnostic(figure);
  if (result.failed) {
    const example = result.counterexample ? show(result.counterexample[0]) : 'none';
    const tail = server.output().slice(-3000);
    throw new Error(
      `lab answers: property failed (seed ${result.seed}, path ${result.counterexamplePath}): ${String(result.errorInstance)}\n` +
        `answer: ${example}\nserver alive: ${server.alive()}, its output ends with:\n${tail}`,
    );
  }
  assert.equal(stats.answers, RUNS);
  assert.ok(server.alive(), 'the server never crashed');
  assert.doesNotMatch(server.output(), /Uncaught|unhandled/);
  assert.equal(await siteStatus(), 200);
});
