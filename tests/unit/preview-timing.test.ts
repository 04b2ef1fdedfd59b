// The pure parts of the preview's timing (issue 15): the proxy's per-page request list, bounded; the
// rows and scale of the bars; the figures in words; php-fpm's log lines, whatever the learner wrote there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PREVIEW_REQUESTS_KEPT, type PreviewRequestTiming } from '../../protocol/preview.ts';
import { PreviewStatuses } from '../../server/preview/proxy.ts';
import { parseScriptLog, SCRIPT_LOG, SCRIPT_LOG_POOL_FILE } from '../../server/preview/script-timing.ts';
import { milliseconds, timingRows } from '../../site/islands/lab/preview-timing.ts';
import { getLab } from '../../sandbox/labs/index.ts';

const request = (over: Partial<PreviewRequestTiming>): PreviewRequestTiming => ({
  id: '0123456789abcdef',
  path: '/',
  status: 200,
  navigation: true,
  firstByteMs: 10,
  lastByteMs: 20,
  ...over,
});

test('a navigation starts the page’s list; what it loads follows; past the bound nothing more is kept', () => {
  const s = new PreviewStatuses();
  assert.equal(s.begin('lab', '/img.png', false), null, 'no page yet: nothing to attach a load to');
  const page = s.begin('lab', '/', true)!;
  assert.match(page.id, /^[0-9a-f]{16}$/);
  for (let i = 0; i < PREVIEW_REQUESTS_KEPT + 5; i++) s.begin('lab', `/${i}.png`, false);
  s.record('lab', { path: '/', status: 200, statusText: 'OK', at: 1 });
  const kept = s.get('lab')!.requests;
  assert.equal(kept.length, PREVIEW_REQUESTS_KEPT);
  assert.equal(kept[0]!.id, page.id);
  page.firstByteMs = 3;
  assert.equal(s.get('lab')!.requests[0]!.firstByteMs, 3, 'filled in as the answer comes');
  s.begin('lab', '/other', true);
  assert.deepEqual(
    s.get('lab')!.requests.map((r) => r.path),
    ['/other'],
  );
  assert.notEqual(s.begin('lab', '/', true)!.id, page.id, 'each request its own id');
});

test('bars share one scale, the longest time; a script that outlives its answer is the longest bar', () => {
  const rows = timingRows([request({ id: 'a'.repeat(16), firstByteMs: 5, lastByteMs: 10 })], new Map([['a'.repeat(16), 4000]]));
  assert.equal(rows[0]!.script, 100);
  assert.equal(rows[0]!.lastByte, 0.3);
  assert.ok(rows[0]!.firstByte < rows[0]!.lastByte);
  assert.match(rows[0]!.text, /premier octet à 5\u00A0ms · dernier octet à 10\u00A0ms · fin du script PHP à 4\u202F000\u00A0ms/);
  const slow = timingRows([request({ firstByteMs: 4003, lastByteMs: 4004 })]);
  assert.equal(slow[0]!.lastByte, 100);
  assert.equal(slow[0]!.script, undefined);
  const none = timingRows([request({ status: 0, firstByteMs: null, lastByteMs: null })]);
  assert.match(none[0]!.text, /pas de réponse · aucun octet reçu/);
  assert.deepEqual(timingRows([]), []);
});

test('figures in French: decimal comma under 10 ms, narrow spaces between thousands', () => {
  assert.equal(milliseconds(2.46), '2,5\u00A0ms');
  assert.equal(milliseconds(12345.6), '12\u202F346\u00A0ms');
});

test('php-fpm’s log: id and duration of the proxy’s requests; anything else is skipped', () => {
  const log = [
    '- 12.000',
    '0123456789abcdef 4001.233',
    'fedcba9876543210 3.5',
    '0123456789abcdef 1e9',
    '<script> 1',
    `${'f'.repeat(17)} 2`,
    '',
  ].join('\n');
  assert.deepEqual(parseScriptLog(log), [
    { request: '0123456789abcdef', durationMs: 4001.233 },
    { request: 'fedcba9876543210', durationMs: 3.5 },
  ]);
  assert.ok(parseScriptLog(`0123456789abcdef 1\n`.repeat(10_000)).length <= 64, 'bounded');
});

test('the finish-request lab installs the pool file the server looks for, logging where it reads', () => {
  const finishRequest = getLab('finish-request')!;
  const web = finishRequest.hosts.find((h) => h.name === finishRequest.preview.host)!;
  const file = web.files!.find((f) => f.path === SCRIPT_LOG_POOL_FILE);
  assert.ok(file, `finish-request installs ${SCRIPT_LOG_POOL_FILE}`);
  const conf = readFileSync(new URL(`../../sandbox/labs/files/${file.source}`, import.meta.url), 'utf8');
  assert.match(conf, new RegExp(`^access\\.log = ${SCRIPT_LOG.replaceAll('.', '\\.')}$`, 'm'));
  assert.match(conf, /^access\.format = "%\{HTTP_X_ATELIER_REQUEST\}e %\{mili\}d"$/m);
});
