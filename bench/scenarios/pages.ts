// Scenario 6, pages: bytes of the chapter page on first load (bench/pages.ts: HTML, CSS, JS, compressed),
// the lab panel's weight (bench/lab-bundle.ts), and Lighthouse (the `lighthouse` package driving
// Debian's Chromium through chrome-launcher) on the chapter page served by the real server, mobile.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS } from '../../tests/helpers/browser.ts';
import type { Figure, Scenario } from '../lib/result.ts';
import { startBenchServer } from '../lib/server.ts';
import { summarize } from '../lib/stats.ts';

const root = resolve(import.meta.dirname, '..', '..');
const CHAPTER = '/05-fastcgi/';
const CHROME_FLAGS = ['--headless=new', ...CHROMIUM_ARGS];
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'] as const;

interface Weights {
  pages: { page: string; total: { raw: number; gzip: number; brotli: number }; js: { total: { gzip: number } } }[];
}
interface Bundle {
  total: { raw: number; gzip: number; brotli: number };
  upfront: { total: { gzip: number; brotli: number } };
}

function runScript(script: string): void {
  const r = spawnSync(process.execPath, [resolve(root, script)], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} failed:\n${r.stdout}${r.stderr}`);
}

interface LighthouseRun {
  scores: Record<string, number | null>;
  failing: { category: string; id: string; title: string; score: number | null; displayValue?: string; items?: unknown[] }[];
  metrics: Record<string, number | undefined>;
  warnings: string[];
}

async function lighthouseRun(url: string): Promise<LighthouseRun> {
  const { default: lighthouse } = await import('lighthouse');
  const chromeLauncher = await import('chrome-launcher');
  const chrome = await chromeLauncher.launch({ chromePath: CHROMIUM, chromeFlags: CHROME_FLAGS, logLevel: 'silent' });
  try {
    // Lighthouse's default configuration is the mobile one (emulated phone, simulated slow 4G, 4x CPU).
    const result = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: [...CATEGORIES] });
    if (!result) throw new Error('lighthouse returned nothing');
    const lhr = result.lhr;
    const failing: LighthouseRun['failing'] = [];
    for (const category of CATEGORIES) {
      for (const ref of lhr.categories[category]?.auditRefs ?? []) {
        const audit = lhr.audits[ref.id];
        if (!audit || ref.weight === 0 || audit.score === null || audit.score >= 1) continue;
        const details = audit.details as { items?: unknown[] } | undefined;
        failing.push({
          category,
          id: audit.id,
          title: audit.title,
          score: audit.score,
          displayValue: audit.displayValue,
          items: details?.items?.slice(0, 5),
        });
      }
    }
    const num = (id: string) => lhr.audits[id]?.numericValue;
    return {
      scores: Object.fromEntries(
        CATEGORIES.map((c) => [
          c,
          lhr.categories[c]?.score === null || lhr.categories[c]?.score === undefined ? null : Math.round(lhr.categories[c]!.score! * 100),
        ]),
      ),
      failing,
      metrics: {
        fcpMs: num('first-contentful-paint'),
        lcpMs: num('largest-contentful-paint'),
        tbtMs: num('total-blocking-time'),
        cls: num('cumulative-layout-shift'),
        speedIndexMs: num('speed-index'),
      },
      warnings: lhr.runWarnings,
    };
  } finally {
    chrome.kill();
  }
}

export const scenario: Scenario = {
  name: 'pages',
  title: 'Pages: chapter page weight, lab panel weight, Lighthouse (mobile)',
  async run({ quick, log }) {
    const notes: string[] = [];
    const dist = resolve(root, 'dist');
    if (!existsSync(resolve(dist, CHAPTER.slice(1), 'index.html'))) {
      log('no built site: npm run build');
      const r = spawnSync('npm', ['run', 'build'], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${resolve(root, 'node_modules/.bin')}:${process.env.PATH}` },
      });
      if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
    }
    const builtAt = statSync(resolve(dist, CHAPTER.slice(1), 'index.html')).mtime.toISOString();

    runScript('bench/pages.ts');
    const weights = JSON.parse(readFileSync(resolve(root, 'bench/results/pages.json'), 'utf8')) as Weights;
    runScript('bench/lab-bundle.ts');
    const bundle = JSON.parse(readFileSync(resolve(root, 'bench/results/lab-bundle.json'), 'utf8')) as Bundle;
    const chapter = weights.pages.find((p) => p.page === CHAPTER);
    if (!chapter) throw new Error(`bench/pages.ts did not measure ${CHAPTER}`);
    const larger = (s: { gzip: number; brotli: number }) => Math.max(s.gzip, s.brotli);

    const runs = quick ? 1 : 3;
    const lighthouse: LighthouseRun[] = [];
    let lighthouseError: string | undefined;
    if (!existsSync(CHROMIUM)) lighthouseError = `${CHROMIUM} is not installed (apt-get install chromium)`;
    else {
      const server = await startBenchServer('pages', { ATELIER_LAB_POOL: '' });
      try {
        for (let i = 0; i < runs; i++) {
          log(`Lighthouse ${i + 1}/${runs} on ${CHAPTER}`);
          lighthouse.push(await lighthouseRun(`${server.url}${CHAPTER}`));
        }
      } catch (err) {
        lighthouseError = `Lighthouse could not run: ${(err as Error).message}`;
      } finally {
        await server.stop();
      }
    }
    if (lighthouseError) notes.push(lighthouseError);

    const score = (c: string) => (lighthouse.length === 0 ? null : summarize(lighthouse.map((r) => r.scores[c] ?? 0)).p50);
    const figures: Figure[] = [
      {
        name: `chapter page ${CHAPTER}, first load (HTML + CSS + JS), compressed`,
        value: larger(chapter.total) / 1024,
        unit: 'KiB',
        target: { on: 'value', op: '<=', limit: 30 },
      },
      {
        name: 'lab panel (loader and CSS up front, chunks on scroll), compressed',
        value: larger(bundle.total) / 1024,
        unit: 'KiB',
        target: { on: 'value', op: '<=', limit: 150 },
      },
      ...CATEGORIES.map(
        (c): Figure => ({
          name: `Lighthouse ${c} (mobile${runs > 1 ? `, median of ${runs}` : ''})`,
          value: score(c),
          unit: '',
          target: { on: 'value', op: '>=', limit: 100 },
          ...(lighthouseError ? { note: lighthouseError } : {}),
        }),
      ),
    ];
    const failing = new Map<string, LighthouseRun['failing'][number]>();
    for (const r of lighthouse) for (const f of r.failing) failing.set(`${f.category}/${f.id}`, f);
    for (const f of failing.values())
      notes.push(`Lighthouse ${f.category}: "${f.title}" scores ${f.score}${f.displayValue ? ` (${f.displayValue})` : ''}.`);
    return {
      settings: {
        page: CHAPTER,
        builtAt,
        lighthouseRuns: runs,
        chromium: CHROMIUM,
        chromeFlags: CHROME_FLAGS,
        formFactor: 'mobile (Lighthouse default: emulated phone, simulated throttling)',
        compressed: 'the larger of gzip -9 and brotli q11',
      },
      figures,
      details: { chapter, labBundle: bundle, lighthouse, pageWeights: weights },
      notes: [
        `The chapter page's first load includes the lab panel's up-front part (loader and CSS, ${(larger(bundle.upfront.total) / 1024).toFixed(1)} KiB compressed); the rest of the panel loads when it scrolls into view.`,
        ...notes,
      ],
    };
  },
};
