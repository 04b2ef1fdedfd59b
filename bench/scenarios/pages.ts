// Scenario 6, pages: bytes of the chapter page on first load (bench/pages.ts: HTML, CSS, JS, compressed),
// the lab panel's weight (bench/lab-bundle.ts), and Lighthouse (the `lighthouse` package driving
// Debian's Chromium through chrome-launcher) on the chapter page served by the real server, mobile.
// ATELIER_BENCH_PAGES_BASELINE=<dir>: an older build of the site (`astro build --outDir <dir>`), served by a
// second server and measured in the same run, its Lighthouse runs alternating with the current build's:
// on a loaded machine only a same-run comparison says whether a change helped.
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
  /** Lighthouse's main-thread breakdown, ms by group (styleLayout, parseHTML, scriptEvaluation…) */
  mainThread: Record<string, number>;
  domElements: number | undefined;
  /** Lighthouse's long tasks (simulated on the phone), longest first: what Total Blocking Time is made of */
  longTasks: { url: string; startMs: number; ms: number }[];
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
      mainThread: Object.fromEntries(
        (
          (lhr.audits['mainthread-work-breakdown']?.details as { items?: { group: string; duration: number }[] } | undefined)?.items ?? []
        ).map((i) => [i.group, Math.round(i.duration)]),
      ),
      domElements: lhr.audits['dom-size-insight']?.numericValue ?? lhr.audits['dom-size']?.numericValue,
      longTasks: (
        (lhr.audits['long-tasks']?.details as { items?: { url: string; startTime: number; duration: number }[] } | undefined)?.items ?? []
      )
        .slice(0, 8)
        .map((t) => ({ url: t.url.replace(new URL(url).origin, ''), startMs: Math.round(t.startTime), ms: Math.round(t.duration) })),
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

    // Five runs each: on a shared machine one run's Total Blocking Time varies several times over.
    const runs = quick ? 1 : 5;
    const baselineDir = process.env.ATELIER_BENCH_PAGES_BASELINE;
    if (baselineDir && !existsSync(resolve(baselineDir, CHAPTER.slice(1), 'index.html')))
      throw new Error(`ATELIER_BENCH_PAGES_BASELINE=${baselineDir}: no built chapter ${CHAPTER} there`);
    const lighthouse: LighthouseRun[] = [];
    const baseline: LighthouseRun[] = [];
    let lighthouseError: string | undefined;
    if (!existsSync(CHROMIUM)) lighthouseError = `${CHROMIUM} is not installed (apt-get install chromium)`;
    else {
      const server = await startBenchServer('pages', { ATELIER_LAB_POOL: '' });
      const old = baselineDir
        ? await startBenchServer('pages-old', { ATELIER_LAB_POOL: '', ATELIER_SITE_DIR: resolve(baselineDir) })
        : undefined;
      try {
        for (let i = 0; i < runs; i++) {
          log(`Lighthouse ${i + 1}/${runs} on ${CHAPTER}${old ? ', then on the baseline build' : ''}`);
          lighthouse.push(await lighthouseRun(`${server.url}${CHAPTER}`));
          if (old) baseline.push(await lighthouseRun(`${old.url}${CHAPTER}`));
        }
      } catch (err) {
        lighthouseError = `Lighthouse could not run: ${(err as Error).message}`;
      } finally {
        await server.stop();
        await old?.stop();
      }
    }
    if (lighthouseError) notes.push(lighthouseError);

    const median = (list: LighthouseRun[], of: (r: LighthouseRun) => number | undefined) => {
      const values = list.map(of).filter((v): v is number => v !== undefined);
      return values.length === 0 ? null : summarize(values).p50;
    };
    const score = (c: string) => median(lighthouse, (r) => r.scores[c] ?? 0);
    const withBaseline = (of: (r: LighthouseRun) => number | undefined) =>
      baseline.length > 0 ? { value: median(lighthouse, of), baseline: median(baseline, of) } : { value: median(lighthouse, of) };
    const styleLayout = (r: LighthouseRun) => r.mainThread.styleLayout ?? 0;
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
          ...(c === 'performance' && baseline.length > 0 ? { baseline: median(baseline, (r) => r.scores[c] ?? 0) } : {}),
          unit: '',
          target: { on: 'value', op: '>=', limit: 100 },
          ...(lighthouseError ? { note: lighthouseError } : {}),
        }),
      ),
      { name: 'Lighthouse Total Blocking Time (mobile, median)', ...withBaseline((r) => r.metrics.tbtMs), unit: 'ms' },
      { name: 'Lighthouse main thread: style and layout (median)', ...withBaseline(styleLayout), unit: 'ms' },
      { name: 'Lighthouse main thread: HTML parsing (median)', ...withBaseline((r) => r.mainThread.parseHTML), unit: 'ms' },
      {
        name: 'Lighthouse main thread: all work (median)',
        ...withBaseline((r) => Object.values(r.mainThread).reduce((a, b) => a + b, 0)),
        unit: 'ms',
      },
      { name: 'Lighthouse cumulative layout shift (median)', ...withBaseline((r) => r.metrics.cls), unit: '' },
      { name: 'chapter page DOM elements', ...withBaseline((r) => r.domElements), unit: '' },
    ];
    const perRun = (list: LighthouseRun[]) =>
      list.map((r) => `${r.scores.performance} (${Math.round(r.metrics.tbtMs ?? 0)} ms)`).join(', ');
    if (lighthouse.length > 1) notes.push(`Lighthouse performance of each run (Total Blocking Time): ${perRun(lighthouse)}.`);
    if (baseline.length > 0) notes.push(`The baseline build (${baselineDir}), runs alternating with these: ${perRun(baseline)}.`);
    const worst = [...lighthouse].sort((a, b) => (b.metrics.tbtMs ?? 0) - (a.metrics.tbtMs ?? 0))[0];
    if (worst && (worst.metrics.tbtMs ?? 0) > 0)
      notes.push(
        `Long tasks of the run with the most blocking (${Math.round(worst.metrics.tbtMs ?? 0)} ms; start and length in ms, as simulated on the phone): ${worst.longTasks.map((t) => `${t.url} at ${t.startMs}: ${t.ms}`).join('; ')}. Its main thread, ms: ${JSON.stringify(worst.mainThread)}.`,
      );
    const failing = new Map<string, LighthouseRun['failing'][number]>();
    for (const r of lighthouse) for (const f of r.failing) failing.set(`${f.category}/${f.id}`, f);
    for (const f of failing.values())
      notes.push(`Lighthouse ${f.category}: "${f.title}" scores ${f.score}${f.displayValue ? ` (${f.displayValue})` : ''}.`);
    return {
      settings: {
        page: CHAPTER,
        builtAt,
        ...(baselineDir ? { baseline: baselineDir } : {}),
        lighthouseRuns: runs,
        chromium: CHROMIUM,
        chromeFlags: CHROME_FLAGS,
        formFactor: 'mobile (Lighthouse default: emulated phone, simulated throttling)',
        compressed: 'the larger of gzip -9 and brotli q11',
      },
      figures,
      details: { chapter, labBundle: bundle, lighthouse, baseline, pageWeights: weights },
      notes: [
        `The chapter page's first load includes the lab panel's up-front part (loader and CSS, ${(larger(bundle.upfront.total) / 1024).toFixed(1)} KiB compressed); the rest of the panel loads when it scrolls into view.`,
        ...notes,
      ],
    };
  },
};
