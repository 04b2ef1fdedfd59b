// The preview's timing bars in Chromium, against the real server and a real finish-request lab (issue 15):
// with fastcgi_finish_request() the answer's last byte comes within a fraction of the 4 s of work, and the
// second bar (php-fpm's own log of the script's end) runs past it to about 4 s; without it the answer
// itself waits for the end of the script, and the two bars end together.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { labSelector, openChapterPage, previewShows, startLab, type ChapterPage } from '../helpers/lab-page.ts';
import { newScope } from '../helpers/scope.ts';

const LAB = 'finish-request';
let chapter: ChapterPage;

before(async () => {
  chapter = await openChapterPage(newScope('e2e-timing'));
});
after(async () => {
  await chapter?.close();
});

/** The first row's bars (percent of the scale) and words, once its script's end is known. */
async function bars(path: string): Promise<{ response: number; script: number; text: string }> {
  const row = chapter.page.locator(`${labSelector(LAB)} .lab__timing-row`).first();
  await row.locator('.lab__timing-bar--script').waitFor({ timeout: 20_000 });
  const text = (await row.locator('.lab__timing-text').textContent()) ?? '';
  assert.ok(text.startsWith(path), text);
  return {
    response: Number(await row.locator('.lab__timing-bar--response').getAttribute('data-end')),
    script: Number(await row.locator('.lab__timing-bar--script').getAttribute('data-end')),
    text,
  };
}

describe('timing in the « Navigateur » tab', () => {
  test('with fastcgi_finish_request(), the script ends long after the response', async () => {
    const { page } = chapter;
    await startLab(page, LAB, 'web');
    await page.locator(`${labSelector(LAB)} [role=tab][data-preview]`).click();
    await previewShows(page, LAB, /Réponse envoyée/);
    const { response, script, text } = await bars('/avec-finish.php');
    assert.equal(script, 100, `the script's end is the longest time (${text})`);
    assert.ok(response < 25, `the answer is complete before a quarter of the script's time (${response} %; ${text})`);
    const ms = /fin du script PHP à ([\d\u202F]+)/.exec(text)?.[1]?.replaceAll('\u202F', '');
    assert.ok(Number(ms) >= 4000 && Number(ms) < 6000, `about the 4 s of sleep(4): ${text}`);
    assert.match(text, /HTTP 200 · premier octet à [\d,\u202F]+\u00A0ms · dernier octet à/);
  });

  test('without it, the answer waits for the script: the bars end together', async () => {
    const { page } = chapter;
    const address = page.locator(`${labSelector(LAB)} .lab__address input`);
    await address.fill('/sans-finish.php');
    await address.press('Enter');
    await previewShows(page, LAB, /Réponse préparée/);
    const { response, script, text } = await bars('/sans-finish.php');
    assert.ok(response > 90 && script > 90, `both bars near the end (${response} %, ${script} %; ${text})`);
  });

  test('no page error and no console error of the site along the way', () => {
    assert.deepEqual(chapter.problems, []);
  });
});
