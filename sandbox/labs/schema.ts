// The shape of a lab definition. Lab definitions import this module and nothing from server/:
// the server reads them, never the other way round.
import { z } from 'zod';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'lowercase letters, digits and dashes, starting with a letter (max 31)');

/** A service the learner may stop and start (e.g. php-fpm). Commands run in the host, as root. */
export const ServiceSchema = z.strictObject({
  start: z.string().min(1),
  stop: z.string().min(1),
  /** exits 0 when the service is running */
  status: z.string().min(1),
});

/** A file copied from the repository into a host when the lab is created (and on reset). */
export const SeededFileSchema = z.strictObject({
  /** absolute path inside the host */
  path: z.string().startsWith('/', 'must be an absolute path inside the host'),
  /** path relative to sandbox/labs/files/ */
  source: z
    .string()
    .regex(/^[^/].*$/, 'relative to sandbox/labs/files/')
    .refine((s) => !s.split('/').includes('..'), 'must not contain ..'),
  mode: z.number().int().min(0).max(0o777).default(0o644),
});

export const HostSchema = z.strictObject({
  name,
  /** logical image name; the provider maps it to a built image tag */
  image: z.string().default('atelier-lab'),
  /** commands run (in order, as root) when the host starts, after files are seeded: the start state */
  boot: z.array(z.string()).default([]),
  services: z.record(name, ServiceSchema).default({}),
  files: z.array(SeededFileSchema).default([]),
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
  /** Linux capabilities kept (all others are dropped), e.g. NET_BIND_SERVICE for a web server on port 80 */
  capabilities: z.array(z.string().regex(/^[A-Z_]+$/)).default([]),
  /** working directory of the learner's shell */
  workdir: z.string().startsWith('/').default('/root'),
});

/** Bound of one command, in seconds; when absent the runner's default applies. */
const timeoutSeconds = z.number().int().min(1).max(600).optional();

/**
 * A command of the chapter, run in one host. Commands (boot, steps, checks, services) are shell text run as
 * root with `bash -c` in the host's workdir.
 */
export const StepSchema = z.strictObject({
  /** optional name, so that checks can say they hold right after this step (see CheckSchema.after) */
  id: name.optional(),
  title: z.string().min(1),
  host: name,
  /** what the student is shown and types (a <Run step> block of the chapter shows exactly this text) */
  run: z.string().min(1),
  /**
   * Run after `run` succeeds, by the runners only (never shown): waits for what `run` started in the
   * background, e.g. a graceful reload, before anything is measured. The student clicks « Vérifier » later.
   */
  settle: z.string().min(1).optional(),
  timeoutSeconds,
  /**
   * The files this step changes in its host (absolute paths; a symbolic link counts as a file). « Voir la
   * solution » compares the learner's copies with the reference state after the step, and « Appliquer »
   * puts them back to the state before it, then runs the step. Tested: the step changes exactly these
   * files under /etc and the code directories (tests/integration/solution.test.ts).
   */
  files: z
    .array(
      z
        .string()
        .regex(/^\/[A-Za-z0-9._/-]+$/, 'an absolute path (letters, digits, . _ - /)')
        .refine((p) => !p.split('/').includes('..'), 'must not contain ..'),
    )
    .default([]),
});

export const ExpectSchema = z
  .strictObject({
    exitCode: z.number().int().default(0),
    /** every string must appear in stdout */
    stdoutIncludes: z.array(z.string()).default([]),
    /** regular expression source that stdout must match */
    stdoutMatches: z.string().optional(),
  })
  .default({ exitCode: 0, stdoutIncludes: [] });

/**
 * Why a check fails, told to the student in French: a command run in a host of the lab when the check
 * fails; the first diagnosis whose result meets its `expect` is the answer. `explain` and `hint` may
 * quote what the command found: `{1}`, `{2}`… are the groups of `expect.stdoutMatches`.
 */
export const DiagnosisSchema = z.strictObject({
  id: name,
  host: name,
  run: z.string().min(1),
  expect: ExpectSchema,
  /** what is wrong, in French, e.g. « Nginx cherche PHP-FPM sur sa propre machine (127.0.0.1) » */
  explain: z.string().min(1),
  /** what to do next, in French */
  hint: z.string().min(1),
  timeoutSeconds,
  /**
   * How to put a lab in this failure state, for the tests: the solution up to `after` ("start": none),
   * then `run` in `host`. Every diagnosis has one, so that each is proven to be given when it should.
   */
  example: z.strictObject({ after: z.string(), host: name, run: z.string().min(1) }),
});

/**
 * A name-based virtual host of the preview's web server: the preview asks it with this `Host` header, at
 * an origin of its own (server/preview/location.ts), and the panel lets the student pick it by its label.
 */
export const PreviewSiteSchema = z.strictObject({
  /** the `Host` header sent to the web server, e.g. site-a.test */
  hostHeader: z
    .string()
    .max(253)
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'a host name in lowercase, e.g. site-a.test'),
  /** what the panel's picker shows, e.g. « Site A » */
  label: z.string().min(1).max(40),
  /** the first page of this site; default: the preview's path */
  path: z.string().startsWith('/').optional(),
});

/** Which host and port the preview tab shows; `sites`: its virtual hosts, when it has several (else Host: localhost). */
export const PreviewSchema = z
  .strictObject({
    host: name,
    port: z.number().int().min(1).max(65535),
    path: z.string().startsWith('/').default('/'),
    sites: z.array(PreviewSiteSchema).max(8).default([]),
  })
  .superRefine((preview, ctx) => {
    const seen = new Set<string>();
    preview.sites.forEach((site, i) => {
      if (seen.has(site.hostHeader))
        ctx.addIssue({ code: 'custom', path: ['sites', i, 'hostHeader'], message: `duplicate site "${site.hostHeader}"` });
      seen.add(site.hostHeader);
    });
  });

/** A command whose result says whether a step of the chapter succeeded. */
export const CheckSchema = z.strictObject({
  id: name,
  title: z.string().min(1),
  host: name,
  run: z.string().min(1),
  expect: ExpectSchema,
  /**
   * When the check holds while the solution runs: "start" (the start state, before any step), or the id of
   * the solution step right after which it holds. Absent: after the whole solution. A chapter's story has
   * stages (502, then still 502, then 200), so one end state cannot hold them all.
   */
  after: z.string().optional(),
  timeoutSeconds,
  /** why it fails, most specific first (the student sees the first that applies) */
  diagnoses: z.array(DiagnosisSchema).default([]),
  /**
   * Why this check has no diagnoses: it cannot fail in a way a diagnosis could explain. A chapter shows a
   * check without diagnoses only with this reason (site/lib/chapter-labs.ts).
   */
  undiagnosed: z.string().min(1).optional(),
});

export const LabSchema = z
  .strictObject({
    id: name,
    title: z.string().min(1),
    /** chapter slug, e.g. 05-fastcgi */
    chapter: z.string().min(1),
    hosts: z.array(HostSchema).min(1),
    /** which host and port the preview tab shows */
    preview: PreviewSchema,
    /** the chapter's steps, as commands: running them from the start state completes the demo */
    solution: z.array(StepSchema).default([]),
    checks: z.array(CheckSchema).default([]),
  })
  // Run even when fields are wrong (`when`), so that a file's problems all show at once: the value may then
  // be malformed, hence the defensive reads.
  .superRefine(
    (input, ctx) => {
      const lab = input as Partial<Lab>;
      const list = <T>(v: T[] | undefined): T[] => (Array.isArray(v) ? v : []);
      const issue = (path: (string | number)[], message: string, fix: string) =>
        ctx.addIssue({ code: 'custom', path, message, params: { fix } });
      const hosts = new Set<string>();
      list(lab.hosts).forEach((h, i) => {
        if (hosts.has(h?.name)) issue(['hosts', i, 'name'], `duplicate host "${h.name}"`, 'give each host its own name');
        hosts.add(h?.name);
      });
      const hostList = [...hosts].join(', ');
      const known = (host: string | undefined, path: (string | number)[]) => {
        if (typeof host === 'string' && !hosts.has(host)) issue(path, `unknown host "${host}"`, `use one of the lab's hosts: ${hostList}`);
      };
      known(lab.preview?.host, ['preview', 'host']);
      const steps = new Set<string>();
      list(lab.solution).forEach((s, i) => {
        known(s?.host, ['solution', i, 'host']);
        if (s?.id === undefined) return;
        if (s.id === 'start') issue(['solution', i, 'id'], '"start" is reserved for the start state', 'pick another id');
        if (steps.has(s.id)) issue(['solution', i, 'id'], `duplicate step id "${s.id}"`, 'give each step its own id');
        steps.add(s.id);
      });
      const stepNames = ['start', ...steps].join(', ');
      const knownStep = (after: unknown, path: (string | number)[]) => {
        if (typeof after === 'string' && after !== 'start' && !steps.has(after))
          issue(path, `unknown step "${after}"`, `use "start" or a solution step's id: ${stepNames}`);
      };
      const checkIds = new Set<string>();
      list(lab.checks).forEach((c, i) => {
        known(c?.host, ['checks', i, 'host']);
        if (checkIds.has(c?.id)) issue(['checks', i, 'id'], `duplicate check id "${c.id}"`, 'give each check its own id');
        checkIds.add(c?.id);
        knownStep(c?.after, ['checks', i, 'after']);
        if (c?.undiagnosed !== undefined && list(c?.diagnoses).length > 0)
          issue(['checks', i, 'undiagnosed'], 'a check with diagnoses cannot say it has none', 'remove undiagnosed');
        const ids = new Set<string>();
        list(c?.diagnoses).forEach((d, j) => {
          known(d?.host, ['checks', i, 'diagnoses', j, 'host']);
          known(d?.example?.host, ['checks', i, 'diagnoses', j, 'example', 'host']);
          knownStep(d?.example?.after, ['checks', i, 'diagnoses', j, 'example', 'after']);
          if (ids.has(d?.id))
            issue(['checks', i, 'diagnoses', j, 'id'], `duplicate diagnosis id "${d.id}"`, 'give each diagnosis its own id');
          ids.add(d?.id);
        });
      });
    },
    { when: () => true },
  );

export type LabInput = z.input<typeof LabSchema>;
export type Lab = z.output<typeof LabSchema>;
export type LabHost = Lab['hosts'][number];
export type LabStep = Lab['solution'][number];
export type LabCheck = Lab['checks'][number];
export type LabDiagnosis = LabCheck['diagnoses'][number];

const LAB = Symbol.for('atelier.lab');

/** Marks a lab file's default export (sandbox/labs/index.ts finds labs by it) and gives editor completion. */
export function defineLab(lab: LabInput): LabInput {
  return Object.defineProperty({ ...lab }, LAB, { value: true, enumerable: false });
}

/** Whether a module's default export came from defineLab. */
export function isDefinedLab(value: unknown): value is LabInput {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[LAB] === true;
}

/** One mistake in a lab file: where (1-based line, dotted field), what, and what to write instead. */
export interface Problem {
  line: number;
  path: string;
  message: string;
  fix: string;
}

export interface FileProblems {
  file: string;
  problems: Problem[];
}

/**
 * Every problem of every invalid lab file at once, one line each (file:line, field, message) and its fix.
 * `loc` points at the first one, for Vite's error overlay in `npm run dev`.
 */
export class LabDefinitionError extends Error {
  readonly files: readonly FileProblems[];
  readonly loc: { file: string; line: number; column: number };
  constructor(files: readonly FileProblems[]) {
    const text = files.map(({ file, problems }) =>
      [
        `Invalid lab definition in ${file}:`,
        ...problems.map((p) => `  ${file}:${p.line}: ${p.path ? `${p.path}: ` : ''}${p.message}\n    fix: ${p.fix}`),
      ].join('\n'),
    );
    super(text.join('\n'));
    this.name = 'LabDefinitionError';
    this.files = files;
    const first = files[0]!;
    this.loc = { file: first.file, line: first.problems[0]?.line ?? 1, column: 1 };
  }
}

/** A key of each array's elements that every element writes first: how an index finds its line. */
const ELEMENT_KEY: Record<string, string> = {
  hosts: 'name',
  files: 'path',
  solution: 'title|id',
  checks: 'id',
  diagnoses: 'id',
  stdoutIncludes: '',
};

/**
 * The 1-based line of a field in a lab file's source, found by following its path through the object
 * literal (formatted code: one key per line, an array's elements at one column). A field that is not
 * written in the file (it comes from a helper, or is missing) gets the line of the closest enclosing one.
 */
export function locate(source: string, path: readonly PropertyKey[]): number {
  const lines = source.split('\n');
  let at = Math.max(
    0,
    lines.findIndex((l) => l.includes('defineLab(')),
  );
  let end = lines.length;
  for (const [k, seg] of path.entries()) {
    if (typeof seg === 'number') {
      const marker = ELEMENT_KEY[String(path[k - 1])];
      if (!marker) break;
      const re = new RegExp(`^(.*?)\\b(?:${marker})\\s*:`);
      let column = -1;
      const starts: number[] = [];
      for (let j = at + 1; j < end; j++) {
        const m = re.exec(lines[j]!);
        if (!m || (column !== -1 && m[1]!.length !== column)) continue;
        column = m[1]!.length;
        starts.push(j);
      }
      if (starts[seg] === undefined) break;
      at = starts[seg]!;
      end = starts[seg + 1] ?? end;
    } else {
      const re = new RegExp(`\\b${String(seg).replace(/[^A-Za-z0-9_]/g, '')}\\s*:`);
      const j = lines.findIndex((l, i) => i >= at && i < end && re.test(l));
      if (j === -1) break;
      at = j;
    }
  }
  return at + 1;
}

/** The closest known key to an unknown one (a case or a letter apart), for "did you mean". */
function closest(key: string, known: readonly string[]): string | undefined {
  const near = (a: string, b: string) => {
    if (a.toLowerCase() === b.toLowerCase()) return true;
    if (Math.abs(a.length - b.length) > 1) return false;
    let [i, j, edits] = [0, 0, 0];
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) [i, j] = [i + 1, j + 1];
      else if (++edits > 1) return false;
      else if (a.length > b.length) i++;
      else if (b.length > a.length) j++;
      else [i, j] = [i + 1, j + 1];
    }
    return edits + (a.length - i) + (b.length - j) <= 1;
  };
  return known.find((k) => near(key, k));
}

/** The keys an object schema at this path of the lab accepts. */
function knownKeys(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = LabSchema;
  for (const seg of path) {
    while ('unwrap' in schema && typeof schema.unwrap === 'function') schema = (schema as z.ZodOptional<z.ZodType>).unwrap();
    if ('def' in schema && (schema.def as { type: string }).type === 'pipe') schema = (schema.def as unknown as { in: z.ZodType }).in;
    if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(seg)] ?? schema;
    else return [];
  }
  while ('unwrap' in schema && typeof schema.unwrap === 'function') schema = (schema as z.ZodOptional<z.ZodType>).unwrap();
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** What to write instead, for one zod issue. */
function fixOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'custom' && typeof issue.params?.fix === 'string') return issue.params.fix;
  if (issue.code === 'invalid_type') return `write ${issue.expected === 'array' ? 'a list [...]' : `a ${issue.expected}`} here`;
  if (issue.code === 'too_small' && issue.origin === 'array') return `add at least ${issue.minimum} item`;
  if (issue.code === 'too_small' && issue.origin === 'string') return 'write a non-empty text';
  return "see the field's comment in sandbox/labs/schema.ts";
}

export interface LabFileContext {
  /** the lab file's text, to find each problem's line */
  source: string;
  /** the file's name without .ts: the lab's id must be it */
  fileName: string;
  /** whether a seeded file's `source` exists under sandbox/labs/files/ */
  seeded: (source: string) => boolean;
}

/** Validates a lab file's definition; returns the lab, or every problem of the file with its line and fix. */
export function validateLab(file: string, input: unknown, context: LabFileContext): Lab | FileProblems {
  const problems: Problem[] = [];
  const add = (path: readonly PropertyKey[], message: string, fix: string) =>
    problems.push({ line: locate(context.source, path), path: path.join('.'), message, fix });
  const result = LabSchema.safeParse(input);
  for (const issue of result.error?.issues ?? []) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(issue.path);
      for (const key of issue.keys) {
        const near = closest(key, known);
        add([...issue.path, key], `unknown key "${key}"`, near ? `did you mean "${near}"?` : `remove it (known keys: ${known.join(', ')})`);
      }
    } else add(issue.path, issue.message, fixOf(issue));
  }
  // Checked on the input as written, so that these show with the schema's problems, not after them.
  const raw = input as { id?: unknown; hosts?: { files?: { source?: unknown }[] }[] };
  if (typeof raw?.id === 'string' && raw.id !== context.fileName)
    add(['id'], `"${raw.id}" is not the file's name`, `name the lab "${context.fileName}" or rename the file ${raw.id}.ts`);
  for (const [i, h] of (Array.isArray(raw?.hosts) ? raw.hosts : []).entries()) {
    for (const [j, f] of (Array.isArray(h?.files) ? h.files : []).entries()) {
      if (typeof f?.source === 'string' && !f.source.split('/').includes('..') && !context.seeded(f.source))
        add(
          ['hosts', i, 'files', j, 'source'],
          `no file sandbox/labs/files/${f.source}`,
          'create that file, or fix the path (relative to sandbox/labs/files/)',
        );
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return result.success && problems.length === 0 ? result.data : { file, problems };
}

/** Validates a definition without a file (tests, tools); throws a LabDefinitionError. */
export function parseLab(file: string, input: unknown): Lab {
  const result = validateLab(file, input, { source: '', fileName: (input as { id?: string })?.id ?? '', seeded: () => true });
  if ('problems' in result) throw new LabDefinitionError([result]);
  return result;
}
