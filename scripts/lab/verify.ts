// What `npm run lab -- check` and the integration tests run in a lab, one code for both: the reference
// solution in the order of sandbox/labs/plan.ts (start-state checks, each step then the checks that hold
// after it, the end state), and the chapter's <Run> blocks of that lab in page order (a block bound to a
// solution step is followed by the checks that hold after that step). Each item gives one row: ✓ or ✗, and
// for a ✗ what failed with the command's output.
import { readFileSync } from 'node:fs';
import type { Root, RootContent } from 'mdast';
import remarkMdx from 'remark-mdx';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { checkFailures } from '../../sandbox/labs/expect.ts';
import { runOrder, stepCommand } from '../../sandbox/labs/plan.ts';
import type { Lab, LabCheck } from '../../sandbox/labs/schema.ts';
import type { SandboxProvider } from '../../server/sandbox/provider.ts';

/** A runner's bound for a command without timeoutSeconds. */
const DEFAULT_TIMEOUT_S = 60;

export type Item =
  | { kind: 'run'; what: string; host: string; command: string; timeoutMs: number; stage: string }
  | { kind: 'check'; what: string; check: LabCheck; stage: string };

export interface Row {
  item: Item;
  ok: boolean;
  /** why it failed, with the command's output; empty when it passed */
  detail: string;
  ms: number;
}

export type Exec = (host: string, command: string, timeoutMs: number) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

/** Commands in one lab, each in its host's environment and workdir from the definition, as the lab manager runs them. */
export function labExec(provider: Pick<SandboxProvider, 'exec'>, lab: Lab, labId: string): Exec {
  return (host, command, timeoutMs) => {
    const h = lab.hosts.find((each) => each.name === host);
    const options = { timeoutMs, env: h?.env, workdir: h?.workdir };
    return provider.exec(labId, host, command, options);
  };
}

const timeout = (seconds: number | undefined) => (seconds ?? DEFAULT_TIMEOUT_S) * 1000;
const checkItem = (check: LabCheck, stage: string): Item => ({ kind: 'check', what: `check ${check.id}`, check, stage });
const stageName = (lab: Lab, stage: string) =>
  stage === 'start' ? 'start' : stage === `#${lab.solution.length}` ? 'end' : `after ${stage}`;

/** The reference solution and its checks. */
export function solutionItems(lab: Lab): Item[] {
  return runOrder(lab).map((i) =>
    i.kind === 'step'
      ? {
          kind: 'run',
          what: `step ${i.index + 1}${i.step.id ? ` ${i.step.id}` : ''}: ${i.step.title}`,
          host: i.step.host,
          command: stepCommand(i.step),
          timeoutMs: timeout(i.step.timeoutSeconds),
          stage: i.step.id ?? `#${i.index + 1}`,
        }
      : checkItem(i.check, stageName(lab, i.stage)),
  );
}

type Node = Root | RootContent;
interface Jsx {
  type: string;
  name: string | null;
  attributes: { type: string; name?: string; value?: unknown }[];
  children: Node[];
  position?: { start: { line: number } };
}
const attr = (n: Jsx, name: string) => {
  const v = n.attributes.find((a) => a.type === 'mdxJsxAttribute' && a.name === name)?.value;
  return typeof v === 'string' ? v : undefined;
};

/** The chapter's <Run> blocks of this lab, in page order, each bound step followed by its checks. */
export function chapterItems(lab: Lab, mdx: string): Item[] {
  const tree = unified().use(remarkParse).use(remarkMdx).parse(mdx);
  const items: Item[] = [];
  const walk = (node: Node) => {
    const jsx = node as unknown as Jsx;
    if ((jsx.type === 'mdxJsxFlowElement' || jsx.type === 'mdxJsxTextElement') && jsx.name === 'Run' && attr(jsx, 'lab') === lab.id) {
      const line = jsx.position?.start.line ?? 0;
      const stepId = attr(jsx, 'step');
      const step = stepId === undefined ? undefined : lab.solution.find((s) => s.id === stepId);
      if (step) {
        items.push({
          kind: 'run',
          what: `line ${line}: step ${stepId}`,
          host: step.host,
          command: stepCommand(step),
          timeoutMs: timeout(step.timeoutSeconds),
          stage: stepId!,
        });
        for (const check of lab.checks.filter((c) => c.after === stepId)) items.push(checkItem(check, `after ${stepId}`));
      } else {
        const code = jsx.children.find((c) => c.type === 'code');
        const host = attr(jsx, 'host') ?? '';
        if (code && 'value' in code)
          items.push({
            kind: 'run',
            what: `line ${line}: ${code.value.split('\n')[0]}`,
            host,
            command: code.value,
            timeoutMs: timeout(undefined),
            stage: 'chapter',
          });
      }
      return;
    }
    if ('children' in node) for (const child of node.children as Node[]) walk(child);
  };
  walk(tree);
  return items;
}

/** The chapter file of a lab, or undefined when the chapter has no file. */
export function chapterText(lab: Lab): string | undefined {
  try {
    return readFileSync(new URL(`../../content/${lab.chapter}.mdx`, import.meta.url), 'utf8');
  } catch {
    return undefined;
  }
}

/** Runs the items one after the other (a failure does not stop the rest: the table shows all). */
export async function runItems(items: readonly Item[], exec: Exec, onRow: (row: Row) => void = () => {}): Promise<Row[]> {
  const rows: Row[] = [];
  for (const item of items) {
    const started = Date.now();
    let row: Row;
    try {
      if (item.kind === 'run') {
        const r = await exec(item.host, item.command, item.timeoutMs);
        row = { item, ok: r.exitCode === 0, detail: r.exitCode === 0 ? '' : output(`exit code ${r.exitCode}`, item.command, r), ms: 0 };
      } else {
        const r = await exec(item.check.host, item.check.run, timeout(item.check.timeoutSeconds));
        const failures = checkFailures(item.check.expect, r);
        row = {
          item,
          ok: failures.length === 0,
          detail: failures.length === 0 ? '' : output(failures.join('; '), item.check.run, r),
          ms: 0,
        };
      }
    } catch (err) {
      row = { item, ok: false, detail: (err as Error).message, ms: 0 };
    }
    row.ms = Date.now() - started;
    rows.push(row);
    onRow(row);
  }
  return rows;
}

const tail = (s: string, lines = 12) => s.trimEnd().split('\n').slice(-lines).join('\n');
function output(why: string, command: string, r: { stdout: string; stderr: string }): string {
  return [why, `$ ${command}`, r.stdout.trim() && `--- stdout\n${tail(r.stdout)}`, r.stderr.trim() && `--- stderr\n${tail(r.stderr)}`]
    .filter(Boolean)
    .join('\n');
}

/** One line of the table (and the failure's output under it, indented). */
export function formatRow(row: Row): string {
  const host = row.item.kind === 'run' ? row.item.host : row.item.check.host;
  const line = `  ${row.ok ? '✓' : '✗'} ${row.item.stage.padEnd(24)} ${host.padEnd(6)} ${row.item.what}  (${(row.ms / 1000).toFixed(1)} s)`;
  return row.ok ? line : `${line}\n${row.detail.replace(/^/gm, '      ')}`;
}
