// The « Navigateur » tab tells the truth, in Chromium against the real server and real labs: in
// apache-remote the default page, then the PHP-FPM page once proxy_fcgi is enabled and Apache reloaded,
// the 503 once PHP-FPM is stopped, the page again once it is started; in nginx-remote the 502, the page,
// the 502 again and the page. Each time the status chip beside the address describes the page on screen:
// it never keeps the previous page's status while a new page shows (the status answer is held back to
// make that moment last), and a request the page itself makes (a fetch of a missing file) is not taken
// for the page's status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page, Route } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { chip, chipShows, chipTexts, labSelector, previewFrame, previewShows, runAndWait, startLab } from '../helpers/lab-page.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { isPreviewUrl, startServer, type RunningServer } from '../helpers/server.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const scope = newScope('e2e-preview');

let server: RunningServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

before(async () => {
  await ensureSiteBuilt();
  server = await startServer({ ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // The preview's 4xx and 5xx are the point: errors of pages on the preview origin are expected.
  page.on('console', (m) => {
    if (m.type() === 'error' && !isPreviewUrl(server, m.location().url)) problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  await page.goto(`${server.url}/05-fastcgi/`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await destroyScope(scope);
});

/**
 * Shell, run in the lab: waits (20 s at most) until the web server answers `code` at `path`. A reload
 * of Apache or Nginx returns before the new configuration serves; the preview is asked for after that.
 */
const answers = (path: string, code: number) =>
  `timeout 20 sh -c 'until [ "$(curl -s -o /dev/null -w %{http_code} http://localhost${path})" = ${code} ]; do sleep 0.2; done'`;

const previewTab = (lab: string) => page.locator(`${labSelector(lab)} [role=tab][data-preview]`);
const reloadButton = (lab: string) => page.locator(`${labSelector(lab)} [data-action="preview-reload"]`);

/**
 * Does `load` (which makes the tab load a page) while the lab API holds back the page's status, so the
 * moment between "the new page is on screen" and "its status is known" lasts: the chip must not show the
 * previous page's status then. Returns what the chip said at that moment and once the status came.
 */
async function heldStatus(
  lab: string,
  load: () => Promise<void>,
  pageText: RegExp,
  status: RegExp,
): Promise<{ meanwhile: string; after: string }> {
  let release = () => {};
  const gate = new Promise<void>((ok) => (release = ok));
  const url = `**/api/labs/${lab}/preview-status`;
  const hold = async (route: Route) => {
    await gate;
    await route.continue();
  };
  await page.route(url, hold);
  let meanwhile = '';
  try {
    await load();
    await previewShows(page, lab, pageText);
    meanwhile = await chip(page, lab);
  } finally {
    release();
  }
  const shown = await chipShows(page, lab, status);
  await page.unroute(url, hold);
  return { meanwhile, after: shown };
}

describe('apache-remote: the preview and its chip follow the server', () => {
  const LAB = 'apache-remote';

  test('the lab starts; the tab shows Apache’s default page with HTTP 200', async () => {
    await startLab(page, LAB, 'web');
    await previewTab(LAB).click();
    await previewShows(page, LAB, /Apache2 Debian Default Page/);
    await chipShows(page, LAB, /^HTTP 200 OK$/);
  });

  test('the lab is the root of an origin of its own: the default page’s /icons/openlogo-75.png shows', async () => {
    const frame = await previewFrame(page, LAB);
    const origin = new URL(frame.url());
    assert.match(origin.hostname, /^[a-z0-9]{8,40}\.localhost$/, frame.url());
    assert.equal(origin.pathname, '/');
    // The root-relative image of Debian's page (a 404 under /p/<lab>/ before): loaded, with its size.
    const logo = await frame.waitForFunction(
      () => {
        const img = document.querySelector<HTMLImageElement>('img[src="/icons/openlogo-75.png"]');
        return img?.complete && img.naturalWidth > 0 ? `${img.naturalWidth}×${img.naturalHeight}` : null;
      },
      null,
      { timeout: 10_000 },
    );
    assert.match(String(await logo.jsonValue()), /^\d+×\d+$/);
  });

  test('a page that fetches a missing file: the chip keeps the page’s 200, not the fetch’s 404', async () => {
    // The learner's own page: a synchronous request for a file that does not exist, made while the page
    // loads (so it reaches the proxy before the page's load event, every time).
    await runAndWait(
      page,
      LAB,
      'web',
      `printf '%s\\n' '<!doctype html><title>Sonde</title><h1>Sonde</h1><script>' 'try { const x = new XMLHttpRequest(); x.open("GET", "absent.txt", false); x.send(); } catch (e) {}' '</script>' > /var/www/html/sonde.html`,
    );
    await previewTab(LAB).click();
    const address = page.locator(`${labSelector(LAB)} .lab__address input`);
    try {
      await address.fill('/sonde.html');
      const texts = await chipTexts(page, LAB, () => address.press('Enter'));
      await previewShows(page, LAB, /Sonde/);
      assert.equal(texts.at(-1), 'HTTP 200 OK', `the chip said ${texts.map((t) => `« ${t} »`).join(' then ')}`);
      // The page's own request did reach Apache, and was answered 404.
      const log = await runAndWait(
        page,
        LAB,
        'web',
        `echo "absent demandé: $(grep -c '/absent.txt HTTP/1.1" 404' /var/log/apache2/access.log)"`,
      );
      assert.match(log, /^absent demandé: [1-9]/m, 'the missing file was asked for');
    } finally {
      await previewTab(LAB).click();
      await address.fill('/');
    }
  });

  test('proxy_fcgi enabled and Apache reloaded: the tab shows the PHP-FPM page with HTTP 200', async () => {
    await runAndWait(page, LAB, 'web', 'a2enmod proxy proxy_fcgi');
    await runAndWait(
      page,
      LAB,
      'web',
      `cat > /etc/apache2/conf-available/php-fpm.conf <<'EOF'
ProxyPassMatch ^/(.*\\.php(/.*)?)$ fcgi://php:9000/var/www/html/$1
<Directory "/var/www/html">
    DirectoryIndex index.php
</Directory>
EOF
a2enconf php-fpm`,
    );
    await runAndWait(page, LAB, 'web', `apache2ctl configtest && service apache2 reload && ${answers('/', 200)}`);
    const r = await heldStatus(LAB, () => previewTab(LAB).click(), /PHP-FPM\s+8\.2\.\d+/, /^HTTP 200 OK$/);
    assert.doesNotMatch(r.meanwhile, /HTTP/, `beside the new page the chip said « ${r.meanwhile} »`);
  });

  test('PHP-FPM stopped: the 503 page, and beside it never the previous 200', async () => {
    await runAndWait(page, LAB, 'php', 'service php8.2-fpm stop');
    const r = await heldStatus(LAB, () => previewTab(LAB).click(), /Service Unavailable/, /^HTTP 503 Service Unavailable$/);
    assert.doesNotMatch(r.meanwhile, /HTTP 200/, 'the 503 page was shown with the 200 of the page before');
    assert.equal(r.meanwhile, 'chargement…');
  });

  test('PHP-FPM started again: ⟳ shows the page again with HTTP 200', async () => {
    await runAndWait(page, LAB, 'php', 'service php8.2-fpm start');
    await runAndWait(page, LAB, 'web', answers('/', 200));
    await previewTab(LAB).click();
    await previewShows(page, LAB, /PHP-FPM\s+8\.2\.\d+/);
    await chipShows(page, LAB, /^HTTP 200 OK$/);
    const r = await heldStatus(LAB, () => reloadButton(LAB).click(), /PHP-FPM\s+8\.2\.\d+/, /^HTTP 200 OK$/);
    assert.equal(r.meanwhile, 'chargement…', 'after ⟳ the chip waits for the status of the page it reloaded');
  });

  test('a reset while the tab is shown: the new lab’s page, not the old lab’s', async () => {
    // A page only the old lab has, on screen when the reset starts.
    await runAndWait(page, LAB, 'web', 'echo "<h1>Ancien lab</h1>" > /var/www/html/ancien.html');
    await previewTab(LAB).click();
    const address = page.locator(`${labSelector(LAB)} .lab__address input`);
    await address.fill('/ancien.html');
    await address.press('Enter');
    await previewShows(page, LAB, /Ancien lab/);
    page.once('dialog', (d) => void d.accept());
    await page.locator(`${labSelector(LAB)} [data-action="reset"]`).click();
    await previewTab(LAB).click();
    // The same address, asked of the new lab: it has no such page.
    await previewShows(page, LAB, /Not Found/, 120_000);
    await chipShows(page, LAB, /^HTTP 404 Not Found$/);
    await address.fill('/');
    await address.press('Enter');
    await previewShows(page, LAB, /Apache2 Debian Default Page/);
    await chipShows(page, LAB, /^HTTP 200 OK$/);
  });
});

describe('nginx-remote: the preview and its chip follow the server', () => {
  const LAB = 'nginx-remote';

  test('the lab starts; the tab shows Nginx’s 502', async () => {
    await startLab(page, LAB, 'web');
    await previewTab(LAB).click();
    await previewShows(page, LAB, /An error occurred/); // Nginx's 50x.html
    await chipShows(page, LAB, /^HTTP 502 Bad Gateway$/);
  });

  test('Nginx pointed at php and PHP-FPM started: the PHP-FPM page with HTTP 200', async () => {
    await runAndWait(
      page,
      LAB,
      'web',
      "sed -i 's|^\\( *\\)fastcgi_pass   127.0.0.1:9000;|\\1fastcgi_pass   php:9000;|' /etc/nginx/conf.d/default.conf && nginx -t && service nginx reload",
    );
    await runAndWait(page, LAB, 'php', 'service php8.2-fpm start');
    await runAndWait(page, LAB, 'web', answers('/index.php', 200));
    const r = await heldStatus(LAB, () => previewTab(LAB).click(), /PHP-FPM\s+8\.2\.\d+/, /^HTTP 200 OK$/);
    assert.doesNotMatch(r.meanwhile, /HTTP 502/, 'the PHP-FPM page was shown with the 502 of the page before');
  });

  test('PHP-FPM stopped: the 502 page, and beside it never the previous 200', async () => {
    await runAndWait(page, LAB, 'php', 'service php8.2-fpm stop');
    const r = await heldStatus(LAB, () => previewTab(LAB).click(), /An error occurred/, /^HTTP 502 Bad Gateway$/);
    assert.equal(r.meanwhile, 'chargement…');
  });

  test('PHP-FPM started again: ⟳ shows the page again with HTTP 200', async () => {
    await runAndWait(page, LAB, 'php', 'service php8.2-fpm start');
    await runAndWait(page, LAB, 'web', answers('/index.php', 200));
    await previewTab(LAB).click();
    await chipShows(page, LAB, /^HTTP 200 OK$/);
    const r = await heldStatus(LAB, () => reloadButton(LAB).click(), /PHP-FPM\s+8\.2\.\d+/, /^HTTP 200 OK$/);
    assert.equal(r.meanwhile, 'chargement…');
  });
});

test('no page error and no console error of the site along the way', () => {
  assert.deepEqual(problems, []);
});
