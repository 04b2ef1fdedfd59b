// Records every Engine API call a dockerode client makes (method, path, start, duration), to profile
// where a lab creation spends its time without touching the provider's code.
import type Docker from 'dockerode';

export interface EngineCall {
  method: string;
  path: string;
  /** ms since the trace began */
  start: number;
  /** ms until the engine answered (for a hijacked stream: until the stream was open) */
  ms: number;
  status: 'ok' | 'error';
}

export interface EngineTrace {
  calls: EngineCall[];
  /** forgets recorded calls and restarts the clock */
  reset(): void;
  /** ms since the trace (re)started */
  now(): number;
}

/** Wraps docker.modem.dial; the client keeps working as before. */
export function traceEngine(docker: Docker): EngineTrace {
  const modem = docker.modem as unknown as { dial: (options: Record<string, unknown>, cb: (err: unknown, data: unknown) => void) => void };
  const dial = modem.dial.bind(modem);
  let t0 = performance.now();
  const trace: EngineTrace = {
    calls: [],
    reset() {
      trace.calls = [];
      t0 = performance.now();
    },
    now: () => performance.now() - t0,
  };
  modem.dial = (options, cb) => {
    const start = performance.now();
    const path = String(options.path ?? '').replace(/\?.*$/, '');
    dial(options, (err, data) => {
      trace.calls.push({
        method: String(options.method),
        path,
        start: start - t0,
        ms: performance.now() - start,
        status: err ? 'error' : 'ok',
      });
      cb(err, data);
    });
  };
  return trace;
}

/** Groups calls by a readable name (ids replaced by placeholders): count, total and max ms. */
export function summarize(calls: EngineCall[]): { call: string; count: number; totalMs: number; maxMs: number }[] {
  const groups = new Map<string, { call: string; count: number; totalMs: number; maxMs: number }>();
  for (const c of calls) {
    const path = c.path.replace(/^\/v[\d.]+/, '').replace(/\/(containers|exec|networks|volumes|images)\/[^/]+/, '/$1/{id}');
    const key = `${c.method} ${path}`;
    const g = groups.get(key) ?? { call: key, count: 0, totalMs: 0, maxMs: 0 };
    g.count++;
    g.totalMs += c.ms;
    g.maxMs = Math.max(g.maxMs, c.ms);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.totalMs - a.totalMs);
}

/** Where a lab creation spends its time: each phase from its first call's start to its last call's end. */
export function creationPhases(calls: EngineCall[]): { phase: string; startMs: number; endMs: number; ms: number; calls: number }[] {
  const phases: [string, RegExp][] = [
    ['image inspect', /^GET \/(v[\d.]+\/)?images\//],
    ['network create', /^(GET \/(v[\d.]+\/)?networks$|POST \/(v[\d.]+\/)?networks\/create)/],
    ['container create', /^POST \/(v[\d.]+\/)?containers\/create/],
    ['container attach', /^POST \/(v[\d.]+\/)?containers\/[^/]+\/attach/],
    ['container start', /^POST \/(v[\d.]+\/)?containers\/[^/]+\/start/],
    ['archive API (files)', /^PUT \/(v[\d.]+\/)?containers\/[^/]+\/archive/],
    [
      'prepare exec (files + boot commands)',
      /^(POST \/(v[\d.]+\/)?containers\/[^/]+\/exec|POST \/(v[\d.]+\/)?exec\/|GET \/(v[\d.]+\/)?exec\/)/,
    ],
    ['final listing', /^GET \/(v[\d.]+\/)?(networks|containers\/json|volumes)/],
  ];
  const out = [];
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  const finalFrom = sorted.findIndex((c) => /exec\//.test(c.path) || /\/start$/.test(c.path));
  for (const [phase, re] of phases) {
    const mine = sorted.filter((c, i) => {
      const key = `${c.method} ${c.path}`;
      if (!re.test(key)) return false;
      // The network list before creating the network is part of it; the lists at the end are the final check.
      if (phase === 'network create') return i < finalFrom || finalFrom < 0;
      if (phase === 'final listing') return finalFrom >= 0 && i > finalFrom;
      return true;
    });
    if (mine.length === 0) continue;
    const startMs = Math.min(...mine.map((c) => c.start));
    const endMs = Math.max(...mine.map((c) => c.start + c.ms));
    out.push({ phase, startMs: Math.round(startMs), endMs: Math.round(endMs), ms: Math.round(endMs - startMs), calls: mine.length });
  }
  // The hosts' own init prepares them (files, boot commands) without engine calls: the gap between the
  // last start and the final listing.
  const started = out.find((p) => p.phase === 'container start');
  const final = out.find((p) => p.phase === 'final listing');
  if (started && final && !out.some((p) => p.phase.startsWith('prepare exec'))) {
    const at = out.indexOf(final);
    out.splice(at, 0, {
      phase: 'preparation by lab-init (files + boot commands)',
      startMs: started.endMs,
      endMs: final.startMs,
      ms: final.startMs - started.endMs,
      calls: 0,
    });
  }
  return out;
}
