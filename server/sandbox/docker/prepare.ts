// A host's preparation as one command: unpack the host's files (the image's content of its writable
// directories and the lab's seeded files, from standard input), give back the owners of the files that
// are not root's, then run the boot commands in order, each in its own `bash -c` and time bound. One
// exec instead of one per step: each exec costs the engine tens to hundreds of milliseconds.
// Markers on standard output tell which step failed and what it printed.
import { randomBytes } from 'node:crypto';

export interface PrepareInput {
  /** unpack a tar from standard input at "/" first */
  unpack: boolean;
  owners: { path: string; uid: number; gid: number }[];
  boot: string[];
  /** bound of each boot command */
  commandTimeoutMs: number;
}

export interface PreparePlan {
  script: string;
  /** bound of the whole script */
  timeoutMs: number;
  marker: string;
}

export const shellQuote = (text: string) => `'${text.replaceAll("'", `'"'"'`)}'`;

export function prepareScript(input: PrepareInput): PreparePlan {
  const marker = `@@atelier-${randomBytes(6).toString('hex')}`;
  const seconds = (input.commandTimeoutMs / 1000).toFixed(3);
  const lines = [`step() { printf '\\n${marker} step %s\\n' "$1"; }`, `fail() { printf '\\n${marker} fail %s %s\\n' "$1" "$2"; exit 1; }`];
  if (input.unpack) {
    lines.push('step files', 'tar -x --no-same-owner -f - -C / 2>&1 || fail files $?');
    for (const o of input.owners) lines.push(`chown -h ${o.uid}:${o.gid} -- ${shellQuote(o.path)} 2>&1 || fail files $?`);
  }
  input.boot.forEach((command, i) => {
    lines.push(`step ${i}`, `timeout -k 2 ${seconds} bash -c ${shellQuote(command)} </dev/null 2>&1 || fail ${i} $?`);
  });
  lines.push(`printf '\\n${marker} done\\n'`);
  return { script: lines.join('\n'), timeoutMs: input.commandTimeoutMs * (input.boot.length + 1) + 5000, marker };
}

export type PrepareOutcome =
  | { ok: true }
  | { ok: false; step: 'files' | 'unknown'; exitCode: number; output: string }
  | { ok: false; step: number; exitCode: number; output: string };

/** What happened, from the script's output and exit code. */
export function prepareOutcome(plan: PreparePlan, stdout: string, exitCode: number): PrepareOutcome {
  const at = (text: string) => stdout.lastIndexOf(`${plan.marker} ${text}`);
  if (exitCode === 0 && at('done') >= 0) return { ok: true };
  const failed = new RegExp(`${plan.marker} fail (\\S+) (\\d+)`).exec(stdout);
  if (!failed) return { ok: false, step: 'unknown', exitCode, output: stdout.trim() };
  const name = failed[1]!;
  const start = at(`step ${name}`);
  const output = stdout.slice(start >= 0 ? stdout.indexOf('\n', start) + 1 : 0, failed.index).trim();
  const step = name === 'files' ? 'files' : Number(name);
  return { ok: false, step, exitCode: Number(failed[2]), output } as PrepareOutcome;
}
