// The shape of a lab definition. Lab definitions import this module and nothing from server/:
// the server reads them, never the other way round.
import { z } from 'zod';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'lowercase letters, digits and dashes, starting with a letter (max 31)');

/** A service the learner may stop and start (e.g. php-fpm). Commands run in the host, as root. */
export const ServiceSchema = z.object({
  start: z.string().min(1),
  stop: z.string().min(1),
  /** exits 0 when the service is running */
  status: z.string().min(1),
});

/** A file copied from the repository into a host when the lab is created (and on reset). */
export const SeededFileSchema = z.object({
  /** absolute path inside the host */
  path: z.string().startsWith('/', 'must be an absolute path inside the host'),
  /** path relative to sandbox/labs/files/ */
  source: z
    .string()
    .regex(/^[^/].*$/, 'relative to sandbox/labs/files/')
    .refine((s) => !s.split('/').includes('..'), 'must not contain ..'),
  mode: z.number().int().min(0).max(0o777).default(0o644),
});

export const HostSchema = z.object({
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
export const StepSchema = z.object({
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
  .object({
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
export const DiagnosisSchema = z.object({
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
  example: z.object({ after: z.string(), host: name, run: z.string().min(1) }),
});

/**
 * A name-based virtual host of the preview's web server: the preview asks it with this `Host` header, at
 * an origin of its own (server/preview/location.ts), and the panel lets the student pick it by its label.
 */
export const PreviewSiteSchema = z.object({
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
  .object({
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
export const CheckSchema = z.object({
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
});

export const LabSchema = z
  .object({
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
  .superRefine((lab, ctx) => {
    const hosts = new Set<string>();
    lab.hosts.forEach((h, i) => {
      if (hosts.has(h.name)) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `duplicate host "${h.name}"` });
      hosts.add(h.name);
    });
    const known = (host: string, path: (string | number)[]) => {
      if (!hosts.has(host)) ctx.addIssue({ code: 'custom', path, message: `unknown host "${host}" (hosts: ${[...hosts].join(', ')})` });
    };
    known(lab.preview.host, ['preview', 'host']);
    for (const [i, s] of lab.solution.entries()) known(s.host, ['solution', i, 'host']);
    for (const [i, c] of lab.checks.entries()) {
      known(c.host, ['checks', i, 'host']);
      const ids = new Set<string>();
      c.diagnoses.forEach((d, j) => {
        known(d.host, ['checks', i, 'diagnoses', j, 'host']);
        known(d.example.host, ['checks', i, 'diagnoses', j, 'example', 'host']);
        if (d.example.after !== 'start' && !lab.solution.some((s) => s.id === d.example.after)) {
          ctx.addIssue({
            code: 'custom',
            path: ['checks', i, 'diagnoses', j, 'example', 'after'],
            message: `unknown step "${d.example.after}"`,
          });
        }
        if (ids.has(d.id))
          ctx.addIssue({ code: 'custom', path: ['checks', i, 'diagnoses', j, 'id'], message: `duplicate diagnosis id "${d.id}"` });
        ids.add(d.id);
      });
    }
    const steps = new Set<string>();
    lab.solution.forEach((s, i) => {
      if (s.id === undefined) return;
      if (s.id === 'start')
        ctx.addIssue({ code: 'custom', path: ['solution', i, 'id'], message: '"start" is reserved for the start state' });
      if (steps.has(s.id)) ctx.addIssue({ code: 'custom', path: ['solution', i, 'id'], message: `duplicate step id "${s.id}"` });
      steps.add(s.id);
    });
    const checkIds = new Set<string>();
    lab.checks.forEach((c, i) => {
      if (checkIds.has(c.id)) ctx.addIssue({ code: 'custom', path: ['checks', i, 'id'], message: `duplicate check id "${c.id}"` });
      checkIds.add(c.id);
      if (c.after !== undefined && c.after !== 'start' && !steps.has(c.after)) {
        const names = ['start', ...steps].join(', ');
        ctx.addIssue({ code: 'custom', path: ['checks', i, 'after'], message: `unknown step "${c.after}" (known: ${names})` });
      }
    });
  });

export type LabInput = z.input<typeof LabSchema>;
export type Lab = z.output<typeof LabSchema>;
export type LabHost = Lab['hosts'][number];
export type LabStep = Lab['solution'][number];
export type LabCheck = Lab['checks'][number];
export type LabDiagnosis = LabCheck['diagnoses'][number];

/** Identity for typing: lab files call defineLab({...}) and get editor completion. */
export function defineLab(lab: LabInput): LabInput {
  return lab;
}

/** Validates a definition; the error names the lab file and each bad field. */
export function parseLab(source: string, input: unknown): Lab {
  const result = LabSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`Invalid lab definition in ${source}:\n${lines.join('\n')}`);
}
