// The preview, in Chromium: a page a learner wrote into their lab, served on the preview origin, tries to
// read the site's cookie, overwrite it with another learner's (session fixation), call the lab API with
// the victim's credentials, open the terminal WebSocket and navigate the top window. Opened as the panel
// shows it (an iframe with the panel's own sandbox attribute, read from the built page) and in a tab of
// its own (« Ouvrir dans un nouvel onglet »). Everything must fail, seen from the page and from the site.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { containerName, execIn, labContainers, pollUntil, removeScope, terminalSessionIds } from '../helpers/engine.ts';
import { COOKIE, Learner } from '../helpers/learner.ts';
import { ensureSiteBuilt, panelSandbox } from '../helpers/site-build.ts';

const LAB = 'nginx-local';
const env = securityEnv('preview');
const scope = env.ATELIER_LAB_SCOPE!;

let server: Backend;
let browser: Browser;
let context: BrowserContext;
let site: Page;
let victimLabId = '';
let shellsBefore: string[] | null = null;
let previewUrl = '';
let attacker: Learner;

/** The attacker's page: PHP shows what the lab received, JavaScript tries every way to the site. */
function evilPage(siteUrl: string, attackerCookie: string): string {
  return `<?php
// Session fixation over HTTP: the lab's response tries to set the site's cookie (cookies ignore ports).
header('Set-Cookie: ${COOKIE}=${attackerCookie}; Path=/; HttpOnly; SameSite=Strict');
header('Set-Cookie: ${COOKIE}=${attackerCookie}; Path=/api; SameSite=Strict', false);
?><!doctype html><meta charset="utf-8"><title>evil</title>
<script>
const SITE = ${JSON.stringify(siteUrl)};
const seenByLab = <?= json_encode(getallheaders()) ?>;
const results = { seenByLab };
const settle = (p, ms = 5000) => Promise.race([p, new Promise((r) => setTimeout(() => r('timeout'), ms))]);
async function attack() {
  try { results.cookie = document.cookie; } catch (e) { results.cookie = 'error: ' + e.name; }
  try {
    document.cookie = '${COOKIE}=${attackerCookie}; path=/api';
    document.cookie = '${COOKIE}=${attackerCookie}; path=/';
    results.cookieWrite = document.cookie;
  } catch (e) { results.cookieWrite = 'error: ' + e.name; }
  try { results.parentCookie = window.parent === window ? 'top' : window.parent.document.cookie; } catch (e) { results.parentCookie = 'error: ' + e.name; }
  const call = async (name, url, init) => {
    try {
      const r = await fetch(url, { credentials: 'include', ...init });
      results[name] = r.type === 'opaque' ? 'opaque' : r.status + ' ' + (await r.text()).slice(0, 200);
    } catch (e) { results[name] = 'error: ' + e.name; }
  };
  await call('postJson', SITE + '/api/labs/${LAB}/reset', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  await call('postNoCors', SITE + '/api/labs/apache-local', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
  await call('resetNoCors', SITE + '/api/labs/${LAB}/reset', { method: 'POST', mode: 'no-cors', body: '{}' });
  await call('readLab', SITE + '/api/labs/${LAB}', {});
  // A form posted into a hidden frame: no CORS at all, the browser adds the cookie if it may.
  const sink = document.createElement('iframe');
  sink.name = 'sink';
  sink.style.display = 'none';
  document.body.append(sink);
  // The site's answer to the form lands in the sink (a page or an error page, never about:blank again).
  const answered = new Promise((resolve) => sink.addEventListener('load', () => {
    let away = true;
    try { away = sink.contentWindow.location.href !== 'about:blank'; } catch (e) {}
    if (away) resolve('answered');
  }));
  const form = Object.assign(document.createElement('form'), { method: 'POST', action: SITE + '/api/labs/apache-local', target: 'sink', enctype: 'text/plain' });
  form.innerHTML = '<input name="{&quot;a&quot;:&quot;" value="&quot;}">';
  document.body.append(form);
  form.submit();
  results.ws = await settle(new Promise((resolve) => {
    try {
      const ws = new WebSocket(SITE.replace(/^http/, 'ws') + '/api/terminal');
      ws.onopen = () => { ws.send(JSON.stringify({ t: 'hello', v: 1, lab: '${LAB}', host: 'web', cols: 80, rows: 24 })); resolve('open'); };
      ws.onerror = () => resolve('error');
      ws.onclose = (e) => resolve('closed ' + e.code);
    } catch (e) { resolve('error: ' + e.name); }
  }));
  try {
    if (window.top !== window) { window.top.location.href = SITE + '/?navigated-by-preview'; results.topNavigation = 'no exception'; }
    else results.topNavigation = 'top';
  } catch (e) { results.topNavigation = 'error: ' + e.name; }
  try { results.opener = window.opener === null ? 'null' : 'present'; } catch (e) { results.opener = 'error'; }
  results.form = await settle(answered); // the site has had the form post: what it did is there to see
  results.done = true;
}
window.results = results;
window.addEventListener('load', () => attack());
</script>
<p>Rien à voir ici.</p>
`;
}

type Results = Record<string, unknown> & { seenByLab: Record<string, string> };

async function results(where: Page | Frame): Promise<Results> {
  await where
    .waitForFunction(() => (window as unknown as { results?: { done?: boolean } }).results?.done === true, null, {
      timeout: 30_000,
      polling: 200,
    })
    .catch(async (err) => {
      const partial = await where
        .evaluate(() => JSON.stringify((window as unknown as { results?: unknown }).results))
        .catch((e) => String(e));
      throw new Error(`${err}\npartial results: ${partial}\nsite page at ${site.url()}`);
    });
  return where.evaluate(() => (window as unknown as { results: Results }).results);
}

/** What the site says about the victim, asked from the site's own page (its cookie, its origin). */
async function victimView(): Promise<{ nginx: string | null; apache: number }> {
  return site.evaluate(async (lab) => {
    const a = await fetch(`/api/labs/${lab}`);
    const b = await fetch('/api/labs/apache-local');
    return { nginx: a.status === 200 ? ((await a.json()) as { labId: string }).labId : null, apache: b.status };
  }, LAB);
}

before(async () => {
  await ensureSiteBuilt();
  server = await startBackend(env);
  // The attacker has a lab too: a fixated victim would find the attacker's lab.
  attacker = new Learner(server.url);
  await attacker.startLab(LAB);
  browser = await launchChromium();
  context = await browser.newContext();
  site = await context.newPage();
  await site.goto(`${server.url}/05-fastcgi/`);
  // The victim starts a lab from the site's page: the server sets the cookie as it always does.
  const info = await site.evaluate(async (lab) => {
    const r = await fetch(`/api/labs/${lab}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    return r.json() as Promise<{ labId: string; previewUrl: string }>;
  }, LAB);
  victimLabId = info.labId;
  previewUrl = info.previewUrl;
  // The server opens a shell ahead in each host of a new lab, for the panel's first hello: the victim's.
  shellsBefore = await pollUntil(
    () => terminalSessionIds(containerName(victimLabId, 'web')),
    (ids) => (ids?.length ?? 0) > 0,
    15_000,
  );
  // The attacker's page lands in the victim's own lab (anyone who writes into a lab the victim opens).
  const page = Buffer.from(evilPage(server.url, attacker.cookie!)).toString('base64');
  const w = await execIn(containerName(victimLabId, 'web'), `echo ${page} | base64 -d > /scripts/evil.php && chmod 644 /scripts/evil.php`);
  assert.equal(w.exitCode, 0, w.stderr);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await removeScope(scope);
});

function assertAllFailed(r: Results, framed: boolean): void {
  const received = JSON.stringify(r.seenByLab);
  assert.doesNotMatch(
    received,
    new RegExp(`${COOKIE}=(?!${attacker.cookie!.split('.')[0]})`),
    'the lab never received the victim’s cookie',
  );
  assert.doesNotMatch(
    String(r.cookie),
    new RegExp(`${COOKIE}=(?!${attacker.cookie!.split('.')[0]})`),
    'the page cannot read the site’s cookie',
  );
  assert.match(String(r.postJson), /^error: TypeError$/, `POST with credentials: ${r.postJson}`);
  assert.match(String(r.readLab), /^error: TypeError$/, `reading the lab API: ${r.readLab}`);
  assert.notEqual(r.ws, 'open', `terminal WebSocket: ${r.ws}`);
  assert.equal(r.form, 'answered', 'the form post reached the site and was answered: its effect, if any, is visible');
  // Sandboxed (by the iframe, and by the preview's own CSP in a tab): an opaque origin, no cookie jar.
  assert.match(String(r.cookie), /^error: SecurityError$/, 'no cookie jar to read');
  assert.match(String(r.cookieWrite), /^error: SecurityError$/, 'no cookie jar to write');
  if (framed) assert.match(String(r.parentCookie), /^error: SecurityError$/);
}

async function assertSiteUntouched(): Promise<void> {
  const view = await victimView();
  assert.equal(view.nginx, victimLabId, 'the site still knows the victim as the victim (no fixation), with the same lab');
  assert.equal(view.apache, 204, 'no lab was created for the victim');
  const containers = await labContainers(victimLabId);
  assert.ok(
    containers.every((c) => c.State === 'running'),
    'the victim’s lab was not reset',
  );
  // No new shell; and the one opened ahead was not taken: the page's WebSocket never opened (above).
  assert.deepEqual(await terminalSessionIds(containerName(victimLabId, 'web')), shellsBefore, 'no terminal was opened in the victim’s lab');
  const cookies = await context.cookies(server.url);
  const learner = cookies.filter((c) => c.name === COOKIE);
  assert.equal(learner.length, 1, `one learner cookie in the browser: ${JSON.stringify(learner)}`);
  assert.notEqual(learner[0]!.value, attacker.cookie, 'the victim’s cookie was not replaced by the attacker’s');
}

describe('a learner page in the preview', () => {
  let containersBefore: string[] = [];
  before(async () => {
    containersBefore = (await labContainers(victimLabId)).map((c) => c.Id).sort();
  });

  test('inside the panel’s sandboxed iframe: no cookie, no API, no terminal, no top navigation', async () => {
    const sandbox = panelSandbox();
    const siteUrl = site.url();
    await site.evaluate(
      ({ src, sandbox }) => {
        const f = document.createElement('iframe');
        f.setAttribute('sandbox', sandbox);
        f.setAttribute('referrerpolicy', 'no-referrer');
        f.src = src;
        f.id = 'evil';
        document.body.append(f);
      },
      { src: `${previewUrl}evil.php`, sandbox },
    );
    const frame = await (await site.waitForSelector('#evil')).contentFrame();
    assert.ok(frame);
    const r = await results(frame);
    assertAllFailed(r, true);
    assert.match(String(r.topNavigation), /^error|no exception/);
    assert.equal(site.url(), siteUrl, 'the course page was not navigated away');
    await assertSiteUntouched();
  });

  test('in a tab of its own, as « Ouvrir dans un nouvel onglet » opens it: the same, and no opener', async () => {
    // The panel's link: target=_blank rel="noopener noreferrer".
    const [tab] = await Promise.all([
      context.waitForEvent('page'),
      site.evaluate((href) => {
        const a = Object.assign(document.createElement('a'), { href, target: '_blank', rel: 'noopener noreferrer', textContent: 'open' });
        document.body.append(a);
        a.click();
      }, `${previewUrl}evil.php`),
    ]);
    const r = await results(tab);
    assertAllFailed(r, false);
    assert.equal(r.opener, 'null', 'the preview tab cannot reach the course tab');
    await tab.close();
    await assertSiteUntouched();
  });

  test('from the site’s side: the victim’s lab is the same containers, and the server refused every call', async () => {
    assert.deepEqual((await labContainers(victimLabId)).map((c) => c.Id).sort(), containersBefore);
    assert.ok(server.alive());
  });
});
