// The state of a few files in a lab host, read in one command (bounded), and the shell that puts them back
// in a given state. Paths come from the lab definition, contents from the reference lab: never from the
// browser. What the learner's files hold is theirs (they are root there): it is only decoded and compared.
import type { RunInLab } from './checks.ts';

export type FileState =
  | { kind: 'file'; text: string }
  | { kind: 'link'; target: string }
  | { kind: 'absent' }
  /** a directory, a device, a file too big or not text: shown, never compared line by line nor restored */
  | { kind: 'other'; what: string };

/** Larger files are not compared (the chapter's configuration files are a few KiB). */
export const MAX_FILE_BYTES = 64 * 1024;
const READ_TIMEOUT_MS = 10_000;

export const quote = (text: string) => `'${text.replaceAll("'", `'"'"'`)}'`;

/** One line per path, in order: L <base64 target> | F <base64 content> | B (too big) | O (other) | A (absent). */
function readScript(paths: readonly string[]): string {
  const limit = MAX_FILE_BYTES;
  return `for p in ${paths.map(quote).join(' ')}; do
if [ -L "$p" ]; then printf 'L %s\\n' "$(readlink -- "$p" | head -c 4096 | base64 -w0)"
elif [ -f "$p" ]; then if [ "$(stat -c %s -- "$p")" -gt ${limit} ]; then echo B; else printf 'F %s\\n' "$(head -c ${limit + 1} -- "$p" | base64 -w0)"; fi
elif [ -e "$p" ]; then echo O; else echo A; fi
done`;
}

function decode(line: string | undefined): FileState {
  const [tag, data = ''] = (line ?? '').split(' ');
  const bytes = Buffer.from(data, 'base64');
  switch (tag) {
    case 'L':
      return { kind: 'link', target: bytes.toString('utf8').replace(/\n$/, '') };
    case 'F':
      if (bytes.length > MAX_FILE_BYTES) return { kind: 'other', what: 'fichier trop grand pour être comparé' };
      if (bytes.includes(0)) return { kind: 'other', what: 'fichier binaire' };
      return { kind: 'file', text: bytes.toString('utf8') };
    case 'B':
      return { kind: 'other', what: 'fichier trop grand pour être comparé' };
    case 'A':
      return { kind: 'absent' };
    default:
      return { kind: 'other', what: 'ni un fichier ni un lien' };
  }
}

/** The state of each path in that host (same order). */
export async function readFiles(run: RunInLab, host: string, paths: readonly string[]): Promise<FileState[]> {
  if (paths.length === 0) return [];
  const result = await run(host, readScript(paths), READ_TIMEOUT_MS);
  if (result.exitCode !== 0) throw new Error(`reading ${paths.join(', ')} in ${host}: exit ${result.exitCode}`);
  const out = result.stdout.split('\n');
  return paths.map((_, i) => decode(out[i]));
}

/** Shell that gives `path` this state (a file keeps its mode when it exists; a link replaces whatever is there). */
export function restoreScript(path: string, state: FileState): string {
  const p = quote(path);
  switch (state.kind) {
    case 'file':
      return `if [ -L ${p} ]; then rm -f -- ${p}; fi; mkdir -p -- "$(dirname -- ${p})" && printf %s ${quote(Buffer.from(state.text).toString('base64'))} | base64 -d > ${p}`;
    case 'link':
      return `rm -f -- ${p} && ln -s -- ${quote(state.target)} ${p}`;
    case 'absent':
      return `rm -f -- ${p}`;
    case 'other':
      throw new Error(`${path}: cannot restore a ${state.what}`);
  }
}

/** The state as lines of text, for a diff: a file's lines, a link as one line, nothing when absent. */
export function shownLines(state: FileState): string[] {
  switch (state.kind) {
    case 'file':
      return state.text === '' ? [] : state.text.replace(/\n$/, '').split('\n');
    case 'link':
      return [`→ lien symbolique vers ${state.target}`];
    case 'absent':
      return [];
    case 'other':
      return [`(${state.what})`];
  }
}

export const sameState = (a: FileState, b: FileState) => JSON.stringify(a) === JSON.stringify(b);
