// What a scenario returns and how it is stored: bench/results/<scenario>.json, one file per scenario,
// rendered into BENCHMARKS.md by bench/render.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Machine } from './machine.ts';

export const RESULTS_DIR = resolve(import.meta.dirname, '..', 'results');

/** A target on the value itself or on the ratio value/baseline. */
export interface Target {
  on: 'value' | 'ratio';
  op: '<=' | '>=' | '==';
  limit: number;
}

export interface Figure {
  /** e.g. "POST to prompt p50" */
  name: string;
  /** null: could not be measured (see note) */
  value: number | null;
  unit: string;
  /** the same figure for the bare tools, measured in the same run */
  baseline?: number | null;
  target?: Target;
  note?: string;
}

export interface ScenarioOutput {
  /** settings the scenario ran with (runs, sizes, configuration) */
  settings: Record<string, unknown>;
  figures: Figure[];
  /** raw samples, profiles, anything that explains the figures */
  details?: Record<string, unknown>;
  /** what stood in the way, in words */
  notes?: string[];
}

export interface ScenarioResult extends ScenarioOutput {
  scenario: string;
  title: string;
  date: string;
  quick: boolean;
  durationSeconds: number;
  machine: Machine;
  /** set when the scenario failed before measuring everything */
  error?: string;
}

export interface Scenario {
  name: string;
  title: string;
  run(context: ScenarioContext): Promise<ScenarioOutput>;
}

export interface ScenarioContext {
  quick: boolean;
  log: (message: string) => void;
}

export function ratioOf(f: Figure): number | null {
  if (f.value === null || f.baseline === undefined || f.baseline === null || f.baseline === 0) return null;
  return f.value / f.baseline;
}

/** true, false, or null when the target cannot be judged (nothing measured). */
export function met(f: Figure): boolean | null {
  if (!f.target) return null;
  const x = f.target.on === 'ratio' ? ratioOf(f) : f.value;
  if (x === null || Number.isNaN(x)) return null;
  const { op, limit } = f.target;
  return op === '<=' ? x <= limit : op === '>=' ? x >= limit : x === limit;
}

export function writeResult(result: ScenarioResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${result.scenario}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
