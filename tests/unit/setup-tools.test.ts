// Every external command that the start and test scripts call on this machine is either declared in
// scripts/setup.sh (TOOLS_<part>="command:package …", installed when missing) or comes with a fresh
// machine of this kind (tests/fixtures/fresh-machine-packages.txt). A tool once installed by hand on a
// developer's machine can then no longer hide a missing install step, as mmdebstrap once did.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..', '..');
/** Scripts that run on the machine itself. sandbox/image/layer.sh runs inside the lab image, whose packages base/packages.txt lists. */
const HOST_SCRIPTS = [
  '.ci/run',
  'scripts/setup.sh',
  'scripts/start.sh',
  'scripts/test.sh',
  'sandbox/image/build.sh',
  'sandbox/image/base/mmdebstrap.sh',
  'deploy/image/build.sh',
  'deploy/image/stage.sh',
  'deploy/image/base/mmdebstrap.sh',
];
const BUILTINS = new Set(
  (
    'alias bg break builtin case cd command continue declare do done echo elif else esac eval exec exit export false fc fg for ' +
    'function getopts hash if in jobs kill let local mapfile printf pwd read readarray readonly return select set shift source ' +
    'test then time trap true type typeset ulimit umask unalias unset until wait while [ [[ ] ]] { } ! : .'
  ).split(' '),
);

function declaredTools(): Map<string, string> {
  const setup = readFileSync(resolve(root, 'scripts/setup.sh'), 'utf8');
  const tools = new Map<string, string>();
  for (const [, list] of setup.matchAll(/^TOOLS_\w+="([^"]*)"/gm)) {
    for (const pair of list!.split(/\s+/).filter(Boolean)) {
      const [command, pkg] = pair.split(':');
      tools.set(command!, pkg!);
    }
  }
  return tools;
}

/**
 * The script with quoted text and comments blanked out (they are data), keeping command substitutions
 * that sit inside double quotes, and with line continuations joined.
 */
function code(script: string): string {
  const s = script.replace(/\\\n/g, ' ');
  let out = '';
  /** per open $( … ): paren depth inside it, and whether it opened inside double quotes */
  const subs: { depth: number; inDouble: boolean }[] = [];
  let inDouble = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inDouble) {
      if (c === '"') inDouble = false;
      else if (c === '$' && s[i + 1] === '(') {
        subs.push({ depth: 0, inDouble: true });
        inDouble = false;
        out += ' $(';
        i++;
      }
      continue;
    }
    if (c === "'") {
      i = s.indexOf("'", i + 1);
      if (i < 0) break;
      out += ' Q '; // a word, so that what follows is an argument (`"$docker" image`: not a command)
      continue;
    }
    if (c === '"') {
      inDouble = true;
      out += ' Q ';
      continue;
    }
    if (c === '#' && (i === 0 || /[\s;]/.test(s[i - 1]!))) {
      const eol = s.indexOf('\n', i);
      i = eol < 0 ? s.length : eol - 1;
      continue;
    }
    const sub = subs.at(-1);
    if (c === '(' && sub) sub.depth++;
    if (c === ')' && sub && sub.depth-- === 0) {
      subs.pop();
      inDouble = sub.inDouble;
    }
    out += c;
  }
  return out;
}

/** Command names in command position: first word of each simple command, in the script and in $(…). */
export function commandsOf(script: string): Set<string> {
  const functions = new Set([...script.matchAll(/^\s*([A-Za-z_][\w-]*)\s*\(\)\s*\{/gm)].map((m) => m[1]!));
  const commands = new Set<string>();
  // Redirections (2>&1, >&2) and arithmetic $(( … )) are not commands.
  const body = code(script)
    .replace(/\d*[<>]&\d*-?/g, ' ')
    .replace(/\$\(\([^)]*\)\)/g, ' ');
  for (let segment of body.split(/\$\(|`|\|\||&&|[;|&()\n]/)) {
    segment = segment.replace(/^\s*(?:(?:if|then|do|else|elif|while|until|!|\{|\}|exec|time)\s+)*/, '');
    // Assignments and redirections before the command.
    segment = segment.replace(/^(?:\s*(?:[A-Za-z_]\w*=\S*|\d*[<>]+\S*))+/, '');
    const word = /^\s*([a-z][\w.+-]*)(?=\s|$)/.exec(segment)?.[1];
    if (!word || BUILTINS.has(word) || functions.has(word)) continue;
    if (['case', 'esac', 'in', 'fi', 'done', 'then'].includes(word)) continue;
    commands.add(word);
  }
  return commands;
}

/** The Debian package that owns each command on this machine (absent: none). One dpkg call for all. */
function debianPackages(commands: string[]): Map<string, string> {
  const paths = new Map<string, string>(); // candidate path → command
  for (const command of commands) {
    let path: string;
    try {
      path = execFileSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
    } catch {
      continue;
    }
    const candidates = new Set([path, realpathSync(path)]);
    for (const p of [...candidates]) candidates.add(p.replace(/^\/usr\/(s?bin)\//, '/$1/'));
    for (const p of candidates) paths.set(p, command);
  }
  const owners = new Map<string, string>();
  // dpkg -S exits 1 when some path has no owner, and still prints the others.
  const r = spawnSync('dpkg', ['-S', ...paths.keys()], { encoding: 'utf8' });
  for (const line of r.stdout.split('\n')) {
    const m = /^([^:,\s]+)(?::\w+)?(?:, [^:]+)?: (\/.*)$/.exec(line);
    const command = m ? paths.get(m[2]!) : undefined;
    if (command && !owners.has(command)) owners.set(command, m![1]!);
  }
  return owners;
}

test('the command finder reads command position only', () => {
  const found = commandsOf(
    'x=$(mktemp -d) # comment rm\nif ! docker info >/dev/null 2>&1; then say "starting (not) dockerd\'s"; fi\nfoo() { bar; }\necho "$(date +%s) $(( 1 + 2 ))" | tee log \\\n  --append\n',
  );
  assert.deepEqual([...found].sort(), ['bar', 'date', 'docker', 'mktemp', 'say', 'tee']);
});

test('every command the scripts call is declared in setup.sh or comes with a fresh machine of this kind', () => {
  const declared = declaredTools();
  const fresh = new Set(
    readFileSync(resolve(root, 'tests/fixtures/fresh-machine-packages.txt'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#')),
  );
  const missing: string[] = [];
  const seen = new Map<string, string>(); // command → first script calling it
  for (const script of HOST_SCRIPTS)
    for (const command of commandsOf(readFileSync(resolve(root, script), 'utf8'))) if (!seen.has(command)) seen.set(command, script);
  const owners = debianPackages([...seen.keys()]);
  for (const [command, script] of seen) {
    if (declared.has(command)) continue;
    // node_modules/.bin comes first on PATH in the scripts (npm ci, setup.sh's deps part): node 24, tsc, astro.
    if (existsSync(resolve(root, 'node_modules/.bin', command))) continue;
    const pkg = owners.get(command);
    if (pkg && fresh.has(pkg)) continue;
    missing.push(`${script}: ${command} (${pkg ? `Debian package ${pkg}, not on a fresh machine` : 'no Debian package owns it here'})`);
  }
  assert.ok(
    seen.has('mmdebstrap') && seen.has('docker') && seen.has('apt-get'),
    `the finder sees the scripts' tools: ${[...seen.keys()].join(' ')}`,
  );
  assert.deepEqual(missing, [], 'declare these in a TOOLS_<part> line of scripts/setup.sh');
});

test('each declared package brings its command', () => {
  for (const [command, pkg] of declaredTools()) {
    // setup.sh has run before the tests (npm test), so every declared package is installed here.
    const files = spawnSync('dpkg', ['-L', pkg], { encoding: 'utf8' }).stdout.split('\n');
    // iptables is an alternative: the package installs iptables-nft and iptables-legacy behind it.
    assert.ok(
      files.some((f) => new RegExp(`/s?bin/${command}(-(nft|legacy))?$`).test(f)),
      `${pkg} installs no ${command}`,
    );
  }
});
