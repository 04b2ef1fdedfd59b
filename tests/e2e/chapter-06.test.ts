// Chapter 06 in Chromium, against the real server and a real php-pools lab: the « Navigateur » tab offers
// the lab's two virtual hosts in a labelled picker; site A shows first, then the student picks site B and
// the frame shows site B, from an origin of its own, where its root-relative link stays (site B's
// voisin.php, which still reads site A's password at the start); back to site A.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { labSelector, openChapterPage, previewFrame, previewShows, startLab, type ChapterPage } from '../helpers/lab-page.ts';
import { newScope } from '../helpers/scope.ts';

const LAB = 'php-pools';
let chapter: ChapterPage;

/**
 * The preview frame once it shows a page of `origin` (a new origin is a new frame in Chromium: the frame
 * taken before the navigation is detached).
 */
async function frameOf(origin: RegExp) {
  const { page } = chapter;
  const sel = `${labSelector(LAB)} iframe.lab__frame`;
  await page.waitForFunction(
    ([s, re]) => new RegExp(re!).test(document.querySelector(s!)?.getAttribute('src') ?? ''),
    [sel, origin.source],
  );
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    const frame = await previewFrame(page, LAB);
    if (origin.test(frame.url())) return frame;
    await page.waitForTimeout(100);
  }
  throw new Error(
    `the preview never showed a page of ${origin}: ${page
      .frames()
      .map((f) => f.url())
      .join(' ')} src=${await page.locator(sel).getAttribute('src')}`,
  );
}

before(async () => {
  chapter = await openChapterPage(newScope('e2e-ch06'), { path: '/06-php-multitenant/' });
});
after(() => chapter?.close());

test('the student switches the preview from site A to site B', { timeout: 180_000 }, async () => {
  const { page } = chapter;
  const panel = page.locator(labSelector(LAB));
  await startLab(page, LAB, 'web');
  await panel.locator('[role=tab][data-preview]').click();

  const picker = panel.getByRole('combobox', { name: 'Site' });
  assert.equal(await picker.isEnabled(), true, 'the site picker is enabled once the lab runs');
  assert.deepEqual(await picker.locator('option').allTextContents(), ['Site A', 'Site B']);

  await previewShows(page, LAB, /site-a\.test[\s\S]*l’utilisateur www-data/);
  const originA = new URL((await previewFrame(page, LAB)).url()).origin;

  await picker.selectOption({ label: 'Site B' });
  await frameOf(/-1\.localhost/);
  await previewShows(page, LAB, /site-b\.test[\s\S]*l’utilisateur www-data/);
  const frame = await previewFrame(page, LAB);
  const originB = new URL(frame.url()).origin;
  assert.notEqual(originB, originA, 'site B is an origin of its own');
  assert.match(originB, /^http:\/\/[a-z0-9]+-1\.localhost:\d+$/);
  // A root-relative link of site B stays on site B (the proxy sends its Host): its voisin.php aims at site A.
  await frame.getByRole('link', { name: 'Lire la configuration du site voisin' }).click();
  await previewShows(page, LAB, /Cible : \/var\/www\/site-a\/config\.php[\s\S]*secret-du-site-a/);
  assert.equal(new URL((await previewFrame(page, LAB)).url()).origin, originB);

  await picker.selectOption({ label: 'Site A' });
  await frameOf(new RegExp(`^${originA}/`));
  await previewShows(page, LAB, /site-a\.test/);
  assert.equal(new URL((await previewFrame(page, LAB)).url()).origin, originA);
  assert.deepEqual(chapter.problems, []);
});
