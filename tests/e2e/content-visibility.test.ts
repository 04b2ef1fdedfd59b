// Boxes of a chapter drawn only near the screen (content-visibility: auto, site/styles/global.css) have an
// estimated height until then, and what they hold is laid out inside it: a control below the estimate lies
// over the next box (Lighthouse's touch-target audit failed so on a run block's button, 311 px tall against
// 16rem). Every control of such a box must sit within its estimate, at a phone's narrowest width and wider.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { chapters, ensureSiteBuilt } from '../helpers/site-build.ts';

let server: RunningServer;
let browser: Browser;

before(async () => {
  await ensureSiteBuilt();
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('boxes drawn only near the screen', () => {
  for (const width of [320, 412, 1000]) {
    test(`hold every control within their estimated height, at ${width} px`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 800 } });
      try {
        const page = await context.newPage();
        let boxes = 0;
        for (const { id } of chapters()) {
          await page.goto(`${server.url}/${id}/`);
          // Which boxes are deferred and their estimates, then every box laid out for real to measure it.
          const deferred = await page.evaluate(() =>
            [...document.querySelectorAll('.prose > *')].flatMap((box, index) => {
              const style = getComputedStyle(box);
              if (style.contentVisibility !== 'auto') return [];
              return [{ index, estimate: Number.parseFloat(style.containIntrinsicHeight.replace('auto', '')) }];
            }),
          );
          await page.addStyleTag({ content: '.prose > * { content-visibility: visible !important }' });
          const overflows = await page.evaluate((list) => {
            const children = [...document.querySelectorAll('.prose > *')];
            return list.flatMap(({ index, estimate }) => {
              const box = children[index]!;
              const top = box.getBoundingClientRect().top;
              const controls = [...box.querySelectorAll('button, a[href], summary, input, select, textarea, [tabindex]')].filter(
                (c) => c.getClientRects().length > 0,
              );
              const lowest = Math.max(0, ...controls.map((c) => c.getBoundingClientRect().bottom - top));
              return lowest > estimate
                ? [
                    `${box.tagName.toLowerCase()}.${box.classList[0]} #${index}: a control ends ${Math.round(lowest)} px down, estimate ${estimate} px`,
                  ]
                : [];
            });
          }, deferred);
          boxes += deferred.length;
          assert.deepEqual(overflows, [], `/${id}/ at ${width} px`);
        }
        assert.ok(boxes > 10, `deferred boxes were measured (${boxes})`);
      } finally {
        await context.close();
      }
    });
  }
});
