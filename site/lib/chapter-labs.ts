// A chapter's use of its labs, checked at build time (and on each edit in `npm run dev`) by a remark plugin:
// every <Lab name>, <Run lab host step> and <Check lab id> names a lab, host, step or check that exists, and
// the frontmatter's `labs` lists exactly the labs the chapter shows; every step shown (<Run step>) is followed,
// before the lab's next step, by a « Vérifier » (<Check>) of a check that holds right after that step, and
// every check shown has diagnoses or says why it has none (`undiagnosed`). All the problems of a file are reported
// at once, each with its line and what to write instead; the error's `loc` puts Vite's overlay on the first.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Root, RootContent } from 'mdast';
import { ChapterFrontmatterError, validateChapterFrontmatter } from './chapter-schema.ts';

/** What the check needs of each lab (a subset of the `virtual:atelier/labs` catalog entries). */
export interface CatalogLab {
  id: string;
  hosts: { name: string }[];
  steps: { id: string; host: string }[];
  /** `after`: the step right after which the check holds; `diagnosed`: it has diagnoses or says why not */
  checks: { id: string; after: string | undefined; diagnosed: boolean }[];
}

export interface ChapterProblem {
  line: number;
  message: string;
  fix: string;
}

export class ChapterError extends Error {
  readonly problems: readonly ChapterProblem[];
  readonly loc: { file: string; line: number; column: number };
  constructor(file: string, absolute: string, problems: readonly ChapterProblem[]) {
    const lines = problems.map((p) => `  ${file}:${p.line}: ${p.message}\n    fix: ${p.fix}`);
    super(`Invalid chapter ${file}:\n${lines.join('\n')}`);
    this.name = 'ChapterError';
    this.problems = problems;
    this.loc = { file: absolute, line: problems[0]?.line ?? 1, column: 1 };
  }
}

type Node = Root | RootContent;
interface JsxElement {
  name: string | null;
  attributes: { type: string; name?: string; value?: unknown }[];
  position?: { start: { line: number } };
}

const isJsx = (node: Node): node is Node & JsxElement => node.type === 'mdxJsxFlowElement' || node.type === 'mdxJsxTextElement';
const attr = (node: JsxElement, name: string) => {
  const value = node.attributes.find((a) => a.type === 'mdxJsxAttribute' && a.name === name)?.value;
  return typeof value === 'string' ? value : undefined;
};
const listed = (names: readonly string[]) => names.join(', ') || 'none';

/** The 1-based line of a frontmatter field in the chapter's text (1 when the text is not at hand). */
function fieldLine(text: string, field: string): number {
  const index = text.split('\n').findIndex((l) => l.startsWith(`${field}:`));
  return index + 1 || 1;
}

/** Every problem of a chapter: its frontmatter, then its lab components in order. */
export function chapterProblems(
  tree: Root,
  frontmatter: unknown,
  labs: readonly CatalogLab[],
  file: string,
  text: string,
): ChapterProblem[] {
  const problems: ChapterProblem[] = [];
  let declared: readonly string[] = [];
  try {
    declared = validateChapterFrontmatter(frontmatter, file).labs;
  } catch (err) {
    if (!(err instanceof ChapterFrontmatterError)) throw err;
    // The labs as written still count, so that their problems show with the frontmatter's.
    const written = (frontmatter as { labs?: unknown } | undefined)?.labs;
    declared = Array.isArray(written) ? written.filter((l) => typeof l === 'string') : [];
    for (const p of err.problems) {
      const field = /^([a-z]+)/.exec(p)?.[1] ?? '';
      problems.push({ line: fieldLine(text, field), message: `frontmatter: ${p}`, fix: 'see the fields in docs/authoring.md' });
    }
  }
  const ids = labs.map((l) => l.id);
  const panels = new Set<string>();
  const used = new Map<string, number>();
  /** labs whose components have no panel on the page: said once, at the first */
  const unpaneled = new Set<string>();
  const components: (JsxElement & { line: number })[] = [];
  const walk = (node: Node) => {
    if (isJsx(node) && ['Lab', 'Run', 'Check'].includes(node.name ?? '')) {
      const line = node.position?.start.line ?? 1;
      components.push({ ...node, line });
      if (node.name === 'Lab' && attr(node, 'name')) panels.add(attr(node, 'name')!);
    }
    if ('children' in node) for (const child of node.children as Node[]) walk(child);
  };
  walk(tree);

  for (const node of components) {
    const add = (message: string, fix: string) => problems.push({ line: node.line, message, fix });
    const labName = node.name === 'Lab' ? attr(node, 'name') : attr(node, 'lab');
    const shown = `<${node.name} ${node.attributes
      .filter((a) => a.type === 'mdxJsxAttribute' && a.name !== 'steps')
      .map((a) => (typeof a.value === 'string' ? `${a.name}="${a.value}"` : a.name))
      .join(' ')}>`;
    if (labName === undefined) {
      add(`${shown}: which lab?`, node.name === 'Lab' ? 'write <Lab name="a-lab-id" />' : `write <${node.name} lab="a-lab-id" …>`);
      continue;
    }
    const lab = labs.find((l) => l.id === labName);
    if (!lab) {
      add(`${shown}: no lab "${labName}"`, `use one of the labs (${listed(ids)}), or create sandbox/labs/${labName}.ts`);
      continue;
    }
    if (!used.has(labName)) used.set(labName, node.line);
    if (!declared.includes(labName))
      add(`${shown}: lab ${labName} is not in the frontmatter's labs`, `add it: labs: [${[...declared, labName].join(', ')}]`);
    if (node.name !== 'Lab' && !panels.has(labName) && !unpaneled.has(labName) && unpaneled.add(labName))
      add(`${shown}: the page has no panel of lab ${labName}, so its button would stay hidden`, `add <Lab name="${labName}" /> before it`);
    const hosts = lab.hosts.map((h) => h.name);
    if (node.name === 'Run') {
      const [host, step] = [attr(node, 'host'), attr(node, 'step')];
      const found = step === undefined ? undefined : lab.steps.find((s) => s.id === step);
      if (step !== undefined && !found)
        add(
          `${shown}: lab ${labName} has no step "${step}"`,
          `use one of its steps (${listed(lab.steps.map((s) => s.id))}), or give that solution step an id`,
        );
      if (host !== undefined && !hosts.includes(host))
        add(`${shown}: lab ${labName} has no host "${host}"`, `use one of its hosts: ${listed(hosts)}`);
      else if (host !== undefined && found && found.host !== host)
        add(`${shown}: step ${step} runs on ${found.host}, not ${host}`, 'leave host out: it comes from the step');
      if (host === undefined && step === undefined)
        add(`${shown}: which terminal?`, `add step="…" (a solution step) or host="…" (one of ${listed(hosts)})`);
    }
    if (node.name === 'Check') {
      const id = attr(node, 'id');
      const checks = lab.checks.map((c) => c.id);
      const found = lab.checks.find((c) => c.id === id);
      if (!found) add(`${shown}: lab ${labName} has no check "${id ?? ''}"`, `use one of its checks: ${listed(checks)}`);
      else if (!found.diagnosed)
        add(
          `${shown}: check ${found.id} has no diagnoses, so « Vérifier » could only say that it failed`,
          `give it diagnoses in sandbox/labs/${labName}.ts (sandbox/labs/diagnoses.ts), or say why it cannot fail in a way one could explain: undiagnosed: "…"`,
        );
    }
  }
  problems.push(...unverifiedSteps(components, labs));
  const labsLine = fieldLine(text, 'labs');
  for (const name of declared) {
    if (!ids.includes(name))
      problems.push({
        line: labsLine,
        message: `frontmatter: labs names "${name}", which is no lab`,
        fix: `use one of the labs (${listed(ids)})`,
      });
    else if (!used.has(name))
      problems.push({
        line: labsLine,
        message: `frontmatter: lab ${name} is listed but the chapter never shows it`,
        fix: `add <Lab name="${name}" />, or remove it from labs`,
      });
  }
  return problems.sort((a, b) => a.line - b.line);
}

/**
 * Each <Run step> of a lab must be followed, before that lab's next <Run step>, by a <Check> of a check
 * that holds right after that step: the student can tell whether this step worked before the next one.
 */
function unverifiedSteps(components: readonly (JsxElement & { line: number })[], labs: readonly CatalogLab[]): ChapterProblem[] {
  const problems: ChapterProblem[] = [];
  const pending = new Map<string, { step: string; line: number }>();
  const report = (labName: string) => {
    const open = pending.get(labName);
    if (!open) return;
    pending.delete(labName);
    const lab = labs.find((l) => l.id === labName)!;
    const holding = lab.checks.filter((c) => c.after === open.step).map((c) => c.id);
    problems.push({
      line: open.line,
      message: `<Run lab="${labName}" step="${open.step}">: no « Vérifier » after this step`,
      fix:
        holding.length > 0
          ? `add <Check lab="${labName}" id="…"> before the lab's next step, with a check that holds after it: ${listed(holding)}`
          : `add a check with after: "${open.step}" to sandbox/labs/${labName}.ts, and its <Check> before the lab's next step`,
    });
  };
  for (const node of components) {
    const labName = attr(node, 'lab');
    const lab = labs.find((l) => l.id === labName);
    if (node.name === 'Lab' || labName === undefined || !lab) continue;
    const step = attr(node, 'step');
    if (node.name === 'Run' && step !== undefined && lab.steps.some((s) => s.id === step)) {
      report(labName);
      pending.set(labName, { step, line: node.line });
    }
    const check = node.name === 'Check' ? lab.checks.find((c) => c.id === attr(node, 'id')) : undefined;
    if (check && check.after === pending.get(labName)?.step) pending.delete(labName);
  }
  for (const labName of [...pending.keys()]) report(labName);
  return problems;
}

/** The remark plugin: `labs` reads the current catalog (it changes in `npm run dev` when a lab file does). */
export default function remarkChapterLabs({ labs }: { labs: () => readonly CatalogLab[] }) {
  return (tree: Root, file: { path?: string; data: { astro?: { frontmatter?: Record<string, unknown> } } }) => {
    if (!file.path?.endsWith('.mdx')) return;
    const name = relative(process.cwd(), file.path);
    const text = readFileSync(file.path, 'utf8');
    const problems = chapterProblems(tree, file.data.astro?.frontmatter, labs(), name, text);
    if (problems.length > 0) throw new ChapterError(name, file.path, problems);
  };
}
