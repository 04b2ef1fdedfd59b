// A host's preparation as one script, given to the host's own init (lab-init) on its standard input
// before anything else runs there: fill the writable directories from the image's read-only twins of
// them, unpack the lab's seeded files (a tar, base64 inside the script), then run the boot commands in
// order, each in its own `bash -c` and time bound. No exec: each one costs the engine tens to hundreds of
// milliseconds, and a tar streamed through one cost half a second per lab. Markers on standard output
// tell when it is done, or which step failed and what it printed.
import { randomBytes } from 'node:crypto';

/** Where the image keeps a read-only copy of each writable directory (sandbox/image/layer.sh). */
export const SKELETON = '/usr/lib/atelier/skel';

export interface PrepareInput {
  /** directories to fill from the skeleton (each an empty tmpfs) */
  fill: string[];
  /** give the copied files their owners (needs CAP_CHOWN in the host), else they are root's */
  keepOwners: boolean;
  /** the seeded files as a tar, unpacked at "/" after the fill */
  seeded: Buffer | undefined;
  /** the lab's host names: boot waits until each one resolves (every host is on the network) */
  peers: string[];
  boot: string[];
  /** bound of each boot command */
  commandTimeoutMs: number;
  skeleton?: string;
}

export interface PreparePlan {
  script: string;
  /** bound of the whole script */
  timeoutMs: number;
  marker: string;
}

/**
 * perl: gives back the mode and owner of the skeleton's entries that are not root's, from its list
 * ("mode uid gid path" lines; sandbox/image/layer.sh). ARGV: the list, 1 to give owners back (else modes
 * only), then the filled directories. Mode first: root may change the mode of a file it gave away only
 * with CAP_FOWNER, which most hosts lack.
 */
const RESTORE_OWNERS = `my ($list, $keep, @dirs) = @ARGV; @ARGV = ($list);
while (<>) {
  chomp; my ($mode, $u, $g, $p) = split / /, $_, 4;
  next unless grep { $p eq $_ || index($p, "$_/") == 0 } @dirs;
  chmod(oct($mode), $p) or die "chmod $p: $!\\n";
  if ($keep) { lchown($u, $g, $p) or die "chown $p: $!\\n" }
}`;

export const shellQuote = (text: string) => `'${text.replaceAll("'", `'"'"'`)}'`;

export function prepareScript(input: PrepareInput): PreparePlan {
  const marker = `@@atelier-${randomBytes(6).toString('hex')}`;
  const seconds = (input.commandTimeoutMs / 1000).toFixed(3);
  const skeleton = input.skeleton ?? SKELETON;
  const lines = [
    'set -o pipefail',
    `step() { printf '\\n${marker} step %s\\n' "$1"; }`,
    `fail() { printf '\\n${marker} fail %s %s\\n' "$1" "$2"; exit 1; }`,
  ];
  if (input.fill.length > 0 || input.seeded) lines.push('step files');
  for (const dir of input.fill) {
    const from = shellQuote(`${skeleton}${dir}`);
    lines.push(`if [ -d ${from} ]; then cp -dR --preserve=mode,timestamps,links ${from}/. ${shellQuote(dir)}/ 2>&1 || fail files $?; fi`);
  }
  if (input.fill.length > 0) {
    const list = shellQuote(`${skeleton}.owners`);
    const dirs = input.fill.map(shellQuote).join(' ');
    lines.push(
      `if [ -f ${list} ]; then perl -MPOSIX=lchown -e ${shellQuote(RESTORE_OWNERS)} ${list} ${input.keepOwners ? 1 : 0} ${dirs} 2>&1 || fail files $?; fi`,
    );
  }
  if (input.seeded) {
    // Base64 lines never contain the here-document's end word.
    const encoded = input.seeded.toString('base64').replace(/.{1,76}/g, '$&\n');
    lines.push(`base64 -d <<'@@SEEDED' | tar -x --no-same-owner -f - -C / 2>&1 || fail files $?`, `${encoded}@@SEEDED`);
  }
  if (input.peers.length > 0 && input.boot.length > 0) {
    // Hosts start side by side; a boot command may name another host (nginx resolves its upstream).
    const names = input.peers.map(shellQuote).join(' ');
    lines.push(
      'step network',
      `timeout ${seconds} sh -c 'for h in "$@"; do until getent hosts "$h" >/dev/null; do sleep 0.05; done; done' - ${names} 2>&1 || fail network $?`,
    );
  }
  input.boot.forEach((command, i) => {
    lines.push(`step ${i}`, `timeout -k 2 ${seconds} bash -c ${shellQuote(command)} </dev/null 2>&1 || fail ${i} $?`);
  });
  lines.push(`printf '\\n${marker} done\\n'`);
  return { script: `${lines.join('\n')}\n`, timeoutMs: input.commandTimeoutMs * (input.boot.length + 1) + 5000, marker };
}

export type PrepareOutcome =
  | { ok: true }
  | { ok: false; step: 'files' | 'network' | 'unknown'; exitCode: number; output: string }
  | { ok: false; step: number; exitCode: number; output: string };

/**
 * What happened, from the script's output so far: undefined while it runs. `ended` says that no more
 * output will come (the host stopped): without a marker, that is a failure.
 */
export function prepareOutcome(plan: PreparePlan, stdout: string, ended: boolean): PrepareOutcome | undefined {
  const at = (text: string) => stdout.lastIndexOf(`${plan.marker} ${text}`);
  const failed = new RegExp(`${plan.marker} fail (\\S+) (\\d+)`).exec(stdout);
  if (!failed) {
    if (at('done') >= 0) return { ok: true };
    return ended ? { ok: false, step: 'unknown', exitCode: -1, output: stdout.trim() } : undefined;
  }
  const name = failed[1]!;
  const start = at(`step ${name}`);
  const output = stdout.slice(start >= 0 ? stdout.indexOf('\n', start) + 1 : 0, failed.index).trim();
  const step = name === 'files' || name === 'network' ? name : Number(name);
  return { ok: false, step, exitCode: Number(failed[2]), output } as PrepareOutcome;
}
