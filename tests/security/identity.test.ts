// The learner's identity, attacked as an attacker would, in Chromium against the real server and real labs.
// (a) A page on another site links to the lab API: the top-level navigation carries no SameSite=Strict
// cookie, and a GET that issued a new identity would log the victim out of their labs. (b) A learner page in
// the preview (same host name, other port: cookies ignore ports) answers with 50 cookies of 4 KiB
// (Path=/api and Path=/) and Clear-Site-Data, and its script writes big cookies: opened in the panel's
// sandboxed iframe and in a tab of its own. (c) A request whose Cookie header carries 12 KiB of other
// cookies besides the learner's. Each time the browser must keep exactly the victim's cookie, and the API
// and the terminal must still know the victim by the same lab.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, BrowserContext, Frame, Page, Response } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { containerName, execIn, pollUntil, removeScope } from '../helpers/engine.ts';
import { COOKIE } from '../helpers/learner.ts';
import { ensureSiteBuilt, panelSandbox } from '../helpers/site-build.ts';

const LAB = 'nginx-local';
const env = securityEnv('identity');
const scope = env.ATELIER_LAB_SCOPE!;
/** Big cookies: the preview's lab answers and the page's script each try this many, of this size. */
const BOMBS = 50;
const BOMB_BYTES = 4000; // name + value within Chromium's 4096-byte limit: each one would be stored
/** One lab answer carries 3 of them (about 12 KiB of headers, under what a proxy reads of one answer). */
const PER_ANSWER = 3;
const IMAGES = Math.ceil((BOMBS - 2) / PER_ANSWER); // the document itself sets 2

let server: Backend;
let attackerSite: Server;
let attackerUrl = '';
let siteUrl = '';
let browser: Browser;
let context: BrowserContext;
let site: Page;
let victimLabId = '';
let victimCookie = '';
let previewUrl = '';

/**
 * The attacker's lab page: every answer sets big cookies for Path=/api and Path=/ and asks the browser to
 * clear the host's cookies; the document's script writes big cookies and loads more such answers as images.
 */
function bombPage(): string {
  return `<?php
$n = isset($_GET['n']) ? intval($_GET['n']) : -1;
header('Clear-Site-Data: "cookies"');
$first = $n < 0 ? 0 : 2 + ${PER_ANSWER} * $n;
$count = $n < 0 ? 2 : ${PER_ANSWER};
for ($k = $first; $k < $first + $count && $k < ${BOMBS}; $k++) {
  header('Set-Cookie: bomb' . $k . '=' . str_repeat(chr(97 + $k % 26), ${BOMB_BYTES}) . '; Path=' . ($k % 2 ? '/' : '/api'), false);
}
if ($n >= 0) {
  header('Content-Type: image/gif');
  echo base64_decode('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7');
  exit;
}
?><!doctype html><meta charset="utf-8"><title>bomb</title>
<script>
const results = {};
window.results = results;
try {
  for (let i = 0; i < ${BOMBS}; i++) document.cookie = 'js' + i + '=' + 'z'.repeat(${BOMB_BYTES}) + '; path=' + (i % 2 ? '/' : '/api');
  results.cookieWrite = 'written: ' + document.cookie.length + ' characters readable';
} catch (e) { results.cookieWrite = 'error: ' + e.name; }
// More answers, each a separate request: a proxy bounds the headers of one answer, not of a page.
Promise.all(Array.from({ length: ${IMAGES} }, (_, n) => new Promise((resolve) => {
  const img = new Image();
  img.onload = () => resolve('load');
  img.onerror = () => resolve('error');
  img.src = 'bomb.php?n=' + n;
}))).then((loads) => { results.images = loads; results.done = true; });
</script>
<p>Rien à voir ici.</p>
`;
}

/** The attacker's own site (another site for SameSite: 127.0.0.1, the course being on localhost). */
function startAttackerSite(): Promise<Server> {
  const s = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://attacker');
    const to = url.searchParams.get('to') ?? '/';
    // Both ways a page takes the victim somewhere: a link they click, a script that sends them there.
    const body =
      url.pathname === '/script'
        ? `<script>window.addEventListener('load', () => { location.href = ${JSON.stringify(to)}; });</script><p>Redirection…</p>`
        : `<a id="go" href="${to.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">Voir le corrigé du lab</a>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><meta charset="utf-8"><title>corrigé</title>${body}`);
  });
  return new Promise((ok) => s.listen(0, '127.0.0.1', () => ok(s)));
}

/** The lab the site's API gives the victim, asked from the site's own page (its cookie, its origin). */
async function victimLab(): Promise<string | null> {
  return site.evaluate(async (lab) => {
    const r = await fetch(`/api/labs/${lab}`);
    return r.status === 200 ? ((await r.json()) as { labId: string }).labId : null;
  }, LAB);
}

/** A terminal opened from the site's page as the panel opens one: the server's first control message. */
async function terminalHello(): Promise<{ t: string; labId?: string; code?: string }> {
  return site.evaluate(async (lab) => {
    return new Promise<{ t: string; labId?: string; code?: string }>((resolve) => {
      const timer = setTimeout(() => resolve({ t: 'timeout' }), 30_000);
      const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/api/terminal`);
      ws.onopen = () => ws.send(JSON.stringify({ t: 'hello', v: 1, lab, host: 'web', cols: 80, rows: 24 }));
      ws.onmessage = (e) => {
        if (typeof e.data !== 'string') return;
        const m = JSON.parse(e.data) as { t: string; labId?: string; code?: string };
        if (m.t !== 'hello' && m.t !== 'error') return;
        clearTimeout(timer);
        ws.close();
        resolve(m);
      };
      ws.onclose = (e) => (clearTimeout(timer), resolve({ t: `closed ${e.code}` }));
    });
  }, LAB);
}

/** The browser's whole cookie jar, in short: intact is exactly [`atelier_learner@localhost/ (the victim's)`]. */
async function jar(): Promise<string[]> {
  return (await context.cookies()).map((c) => {
    const value = c.name !== COOKIE ? `${c.value.length} chars` : c.value === victimCookie ? 'the victim’s' : 'another value';
    return `${c.name}@${c.domain}${c.path} (${value})`;
  });
}
const INTACT = [`${COOKIE}@localhost/ (the victim’s)`];

/** Short, for messages: a jar of 50 bombs is long. */
function brief(cookies: string[]): string {
  return cookies.length > 6 ? `${cookies.slice(0, 6).join(', ')}, … ${cookies.length} cookies` : cookies.join(', ');
}

before(async () => {
  await ensureSiteBuilt();
  server = await startBackend(env);
  // localhost, not 127.0.0.1: the attacker's site is on 127.0.0.1, another site for SameSite.
  siteUrl = `http://localhost:${server.port}`;
  attackerSite = await startAttackerSite();
  attackerUrl = `http://127.0.0.1:${(attackerSite.address() as AddressInfo).port}`;
  browser = await launchChromium();
  context = await browser.newContext();
  site = await context.newPage();
  await site.goto(`${siteUrl}/05-fastcgi/`);
  // The victim starts a lab from the site's page: the server sets the cookie as it always does.
  const info = await site.evaluate(async (lab) => {
    const r = await fetch(`/api/labs/${lab}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    return r.json() as Promise<{ labId: string; previewUrl: string }>;
  }, LAB);
  victimLabId = info.labId;
  previewUrl = info.previewUrl;
  // A subdomain of the site's host name: a page there may name `Domain=localhost` in a cookie.
  assert.equal(previewUrl, `http://${victimLabId}.localhost:${server.previewPort}/`, 'the lab’s preview is a subdomain of the site’s host');
  const jar = (await context.cookies(siteUrl)).filter((c) => c.name === COOKIE);
  assert.equal(jar.length, 1, 'the victim holds one learner cookie');
  victimCookie = jar[0]!.value;
});

after(async () => {
  await browser?.close();
  await new Promise((ok) => (attackerSite ? attackerSite.close(ok) : ok(undefined)));
  await server?.stop();
  await removeScope(scope);
});

describe('the learner’s identity under attack', () => {
  test('(a) a link or a script on another site sends the victim to the lab API: no new identity', async (t) => {
    const targets = [`${siteUrl}/api/labs/${LAB}`, `${siteUrl}/api/labs/${LAB}/preview-status`];
    const seen: string[] = [];
    for (const target of targets) {
      for (const how of ['link', 'script'] as const) {
        const tab = await context.newPage();
        const navigated = tab.waitForResponse((r) => r.url() === target, { timeout: 30_000 });
        await tab.goto(`${attackerUrl}/${how}?to=${encodeURIComponent(target)}`);
        if (how === 'link') await tab.click('#go');
        const res: Response = await navigated;
        const sent = (await res.request().allHeaders()).cookie ?? '';
        const setCookie = (await res.allHeaders())['set-cookie'];
        await tab.close();
        // Measured first, asserted after: a failure shows what the victim was left with.
        const cookies = await jar();
        const lab = await victimLab();
        const what = `${how} to ${new URL(target).pathname}`;
        t.diagnostic(`${what}: ${res.status()}, Set-Cookie ${setCookie ?? 'none'}; jar [${brief(cookies)}]; the site's lab ${lab}`);
        // The premise of the attack: the browser withholds the SameSite=Strict cookie on this navigation.
        assert.doesNotMatch(sent, new RegExp(`${COOKIE}=`), `${what}: the cross-site navigation carried no learner cookie`);
        assert.deepEqual(cookies, INTACT, `${what}: the browser holds the victim's cookie, unchanged, and nothing else`);
        assert.equal(lab, victimLabId, `${what}: the site still gives the victim the same lab`);
        assert.equal(setCookie, undefined, `${what}: no Set-Cookie on the answer`);
        seen.push(`${how} → ${new URL(target).pathname} ${res.status()}`);
      }
    }
    const figure =
      `identity: ${seen.length} cross-site navigations (${seen.join(', ')}): ` +
      `learner cookie sent 0, Set-Cookie 0, victim's cookie and lab kept`;
    console.log(`# figure: ${figure}`);
    t.diagnostic(figure);
  });

  describe('(b) a preview page bombs the host’s cookies and sends Clear-Site-Data', () => {
    const figures: string[] = [];
    /** The preview's answers to the bomb page and its images, as the browser got them. */
    let relayed: Array<Promise<{ status: number; headers: Record<string, string> }>> = [];
    const onResponse = (r: Response) => {
      // Read at once: the headers of a tab's answers are gone once the tab is closed.
      if (r.url().includes('/bomb.php')) relayed.push(r.allHeaders().then((headers) => ({ status: r.status(), headers })));
    };

    before(async () => {
      const web = containerName(victimLabId, 'web');
      // The attacker is root in the lab: Nginx is told to pass PHP answers with big headers (one memory
      // page by default), then the page lands in the victim's own lab (anyone can share a preview link).
      const conf = 'fastcgi_buffer_size 32k;\nfastcgi_buffers 8 32k;\n';
      const page = Buffer.from(bombPage()).toString('base64');
      const w = await execIn(
        web,
        `printf '${conf}' > /etc/nginx/conf.d/zz-big-headers.conf && echo ${page} | base64 -d > /scripts/bomb.php && ` +
          'chmod 644 /scripts/bomb.php && nginx -t && nginx -s reload',
      );
      assert.equal(w.exitCode, 0, w.stderr);
      // The lab really sends the bombs (after Nginx's reload): 3 big Set-Cookie and Clear-Site-Data per answer.
      const probe = () => execIn(web, `curl -s -m 5 -D - -o /dev/null 'http://localhost/bomb.php?n=0'`);
      const bomb = new RegExp(`^Set-Cookie: bomb\\d+=[a-z]{${BOMB_BYTES}}; Path=/(api)?\\r?$`, 'gim');
      const bombs = (p: { stdout: string }) => p.stdout.match(bomb)?.length ?? 0;
      const r = await pollUntil(probe, (p) => /^HTTP\/1\.1 200/.test(p.stdout) && bombs(p) === PER_ANSWER, 15_000);
      assert.match(r.stdout, /^HTTP\/1\.1 200/, r.stdout.slice(0, 300));
      assert.equal(bombs(r), PER_ANSWER, 'the lab sends its big cookies');
      assert.match(r.stdout, /^Clear-Site-Data: "cookies"/im, 'the lab sends Clear-Site-Data');
      context.on('response', onResponse);
    });

    after(() => {
      context.off('response', onResponse);
      for (const f of figures) console.log(`# figure: identity: ${f}`);
    });

    async function results(where: Page | Frame): Promise<{ cookieWrite: string; images: string[] }> {
      const done = () => (window as unknown as { results?: { done?: boolean } }).results?.done === true;
      await where.waitForFunction(done, null, { timeout: 60_000, polling: 200 }).catch(async (err: Error) => {
        const partial = await where.evaluate(() => JSON.stringify((window as unknown as { results?: unknown }).results)).catch(String);
        throw new Error(`${err.message}\npartial results: ${partial}\nat ${where.url()}`);
      });
      return where.evaluate(() => (window as unknown as { results: { cookieWrite: string; images: string[] } }).results);
    }

    /** What the attack left, all measured before any assertion (a failure then shows the whole picture). */
    async function outcome(cookieWrite: string) {
      const cookies = await jar();
      const lab = await victimLab();
      const hello = await terminalHello();
      const answers = await Promise.all(relayed);
      return {
        cookies,
        lab,
        terminal: hello.t === 'hello' ? `hello in ${hello.labId}` : JSON.stringify(hello),
        cookieWrite,
        answers: answers.length,
        statuses: [...new Set(answers.map((a) => a.status))],
        setCookie: answers.reduce((n, a) => n + (a.headers['set-cookie']?.split('\n').length ?? 0), 0),
        clearSiteData: answers.filter((a) => 'clear-site-data' in a.headers).length,
      };
    }

    async function attackFailed(where: string, t: TestContext, cookieWrite: string): Promise<void> {
      const o = await outcome(cookieWrite);
      t.diagnostic(
        `${where}: jar [${brief(o.cookies)}], the site's lab ${o.lab}, terminal ${o.terminal}, document.cookie ${o.cookieWrite}, ` +
          `${o.answers} answers ${o.statuses.join('/')} with ${o.setCookie} Set-Cookie and ${o.clearSiteData} Clear-Site-Data`,
      );
      // What the victim is left with first, then how the browser was kept from the attack.
      assert.deepEqual(o.cookies, INTACT, `${where}: the browser holds the victim's cookie, unchanged, and nothing else`);
      assert.equal(o.lab, victimLabId, `${where}: the API still gives the victim the same lab`);
      assert.equal(o.terminal, `hello in ${victimLabId}`, `${where}: the terminal still opens in the victim's lab`);
      assert.equal(o.cookieWrite, 'error: SecurityError', `${where}: the page has no cookie jar to write`);
      assert.equal(o.answers, IMAGES + 1, `${where}: the document and its ${IMAGES} images were answered`);
      assert.deepEqual(o.statuses, [200], `${where}: the preview relayed the lab's answers`);
      assert.equal(o.setCookie, 0, `${where}: no Set-Cookie reached the browser`);
      assert.equal(o.clearSiteData, 0, `${where}: no Clear-Site-Data reached the browser`);
      const figure =
        `preview ${where}: ${o.answers} lab answers carrying ${BOMBS} Set-Cookie of 4 KiB and Clear-Site-Data, relayed with none; ` +
        `${BOMBS} document.cookie writes: ${o.cookieWrite}; jar 1 cookie (the victim's), same lab, terminal opens`;
      figures.push(figure);
      t.diagnostic(figure);
    }

    test('inside the panel’s sandboxed iframe', async (t) => {
      relayed = [];
      await site.evaluate(
        ({ src, sandbox }) => {
          const f = document.createElement('iframe');
          f.setAttribute('sandbox', sandbox);
          f.setAttribute('referrerpolicy', 'no-referrer');
          f.src = src;
          f.id = 'bomb';
          document.body.append(f);
        },
        { src: `${previewUrl}bomb.php`, sandbox: panelSandbox() },
      );
      const frame = await (await site.waitForSelector('#bomb', { state: 'attached' })).contentFrame();
      assert.ok(frame);
      const r = await results(frame);
      await site.evaluate(() => document.getElementById('bomb')?.remove());
      await attackFailed('iframe', t, r.cookieWrite);
    });

    test('in a tab of its own (the preview URL opened directly)', async (t) => {
      relayed = [];
      const tab = await context.newPage();
      await tab.goto(`${previewUrl}bomb.php`);
      // The preview's own Content-Security-Policy sandboxes the document: an opaque origin, no cookie jar.
      const r = await results(tab);
      await tab.close();
      await attackFailed('tab', t, r.cookieWrite);
    });
  });

  test('(c) 12 KiB of other cookies in the same header: still the victim, no new identity', async (t) => {
    const others = Array.from({ length: 12 }, (_, i) => `big${i}=${'q'.repeat(1024)}`);
    const stale = [`${COOKIE}=not.a.cookie`, `${COOKIE}=${victimCookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`];
    // As a browser orders them (longer Path first: the others before the site's), the other way, and behind
    // stale learner cookies with a bad signature.
    const headers = {
      'others first': [...others, `${COOKIE}=${victimCookie}`],
      'learner first': [`${COOKIE}=${victimCookie}`, ...others],
      'behind stale learner cookies': [...stale, ...others, `${COOKIE}=${victimCookie}`],
    };
    const sizes: number[] = [];
    for (const [order, cookies] of Object.entries(headers)) {
      const cookie = cookies.join('; ');
      assert.ok(cookie.length > 12 * 1024, 'over 12 KiB');
      sizes.push(cookie.length);
      const res = await fetch(`${server.url}/api/labs/${LAB}`, { headers: { Cookie: cookie }, signal: AbortSignal.timeout(30_000) });
      const text = await res.text();
      assert.equal(res.headers.get('set-cookie'), null, `${order}: no new identity (${res.status})`);
      assert.equal(res.status, 200, `${order}: the victim’s lab is found (${res.status} ${text.slice(0, 200)})`);
      assert.equal((JSON.parse(text) as { labId: string }).labId, victimLabId, `${order}: the same lab`);
    }
    const figure =
      `Cookie header of ${Math.min(...sizes)}–${Math.max(...sizes)} bytes (12 KiB of other cookies, ${sizes.length} orders): ` +
      `${sizes.length} × 200 with the victim's lab, 0 Set-Cookie`;
    console.log(`# figure: identity: ${figure}`);
    t.diagnostic(figure);
  });
});
