// `npm run lab -- <command>`: the author's tool for a lab, on the same engine as `npm run dev`.
//   check [lab...] [--keep]   creates the lab, runs its reference solution step by step with its checks,
//                             then the chapter's <Run> blocks in a second lab, prints a table (✓/✗, the
//                             output of what failed) and removes the labs; no lab: every lab. Exit 1 on a ✗.
//                             --keep leaves the solution's lab, for `shell`.
//   shell <lab> <host>        a shell in a lab kept by `check --keep` (the engine's TTY, as the learner's).
//   clean                     removes the labs this tool kept.
import { createProvider } from '../server/compose.ts';
import { loadConfig } from '../server/config.ts';
import { newLabId, type SandboxProvider } from '../server/sandbox/provider.ts';
import { getLab, loadLabs } from '../sandbox/labs/index.ts';
import type { Lab } from '../sandbox/labs/schema.ts';
import { chapterItems, chapterText, formatRow, labExec, runItems, solutionItems, type Item } from './lab/verify.ts';

/** The owner of the labs this tool creates (no learner id has a colon). */
const OWNER = 'author:lab-cli';
const USAGE = 'usage: npm run lab -- check [lab...] [--keep] | shell <lab> <host> | clean';

function labNamed(id: string): Lab {
  const lab = getLab(id);
  if (lab) return lab;
  console.error(
    `no lab "${id}" (labs: ${loadLabs()
      .map((l) => l.id)
      .join(', ')})`,
  );
  process.exit(2);
}

/** Creates a lab, runs the items in it and removes it (unless kept); true when every row is ✓. */
async function pass(provider: SandboxProvider, lab: Lab, title: string, items: Item[], keep: boolean): Promise<boolean> {
  console.log(`\n${lab.id} — ${title}`);
  const labId = newLabId();
  const started = Date.now();
  const removed = () => provider.destroyLab(labId).catch(() => {});
  const onSignal = () => void removed().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    await provider.createLab({ labId, owner: OWNER, definition: lab, expiresAt: new Date(Date.now() + 4 * 3_600_000) });
    console.log(`  created in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const rows = await runItems(items, labExec(provider, lab, labId), (row) => console.log(formatRow(row)));
    const failed = rows.filter((r) => !r.ok).length;
    console.log(`  ${rows.length - failed}/${rows.length} ✓`);
    return failed === 0;
  } catch (err) {
    console.log(`  ✗ ${(err as Error).message}`);
    return false;
  } finally {
    process.off('SIGINT', onSignal);
    if (keep) console.log(`  kept: npm run lab -- shell ${lab.id} ${lab.hosts[0]!.name}   (npm run lab -- clean removes it)`);
    else await removed();
  }
}

async function check(provider: SandboxProvider, ids: string[], keep: boolean): Promise<boolean> {
  const labs = ids.length > 0 ? ids.map(labNamed) : loadLabs();
  let ok = true;
  for (const lab of labs) {
    ok = (await pass(provider, lab, 'reference solution', solutionItems(lab), keep)) && ok;
    const text = chapterText(lab);
    const blocks = text === undefined ? [] : chapterItems(lab, text);
    if (blocks.length > 0) ok = (await pass(provider, lab, `the <Run> blocks of content/${lab.chapter}.mdx`, blocks, false)) && ok;
    else console.log(`\n${lab.id} — no <Run> block in content/${lab.chapter}.mdx`);
  }
  return ok;
}

async function shell(provider: SandboxProvider, id: string, host: string): Promise<void> {
  const lab = labNamed(id);
  if (!lab.hosts.some((h) => h.name === host)) {
    console.error(`lab ${id} has no host "${host}" (hosts: ${lab.hosts.map((h) => h.name).join(', ')})`);
    process.exit(2);
  }
  const kept = (await provider.listLabs({ owner: OWNER })).filter((l) => l.definitionId === id).at(-1);
  if (!kept) {
    console.error(`no kept lab ${id}: run npm run lab -- check ${id} --keep first`);
    process.exit(2);
  }
  // The host's environment and workdir, as the learner's shell has them (a variable: older providers take only the size).
  const h = lab.hosts.find((each) => each.name === host)!;
  const options = { cols: process.stdout.columns ?? 80, rows: process.stdout.rows ?? 24, env: h.env, workdir: h.workdir };
  const session = await provider.openTerminal(kept.labId, host, options);
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.on('data', (d) => session.write(d));
  process.stdout.on('resize', () => void session.resize(process.stdout.columns, process.stdout.rows));
  session.output.pipe(process.stdout, { end: false });
  const { exitCode } = await session.exited;
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.stdin.pause();
  process.exitCode = exitCode ?? 0;
}

const [command, ...rest] = process.argv.slice(2);
const flags = rest.filter((a) => a.startsWith('--'));
const args = rest.filter((a) => !a.startsWith('--'));
const unknown = flags.filter((f) => f !== '--keep');
if (!command || unknown.length > 0 || !['check', 'shell', 'clean'].includes(command)) {
  console.error(unknown.length > 0 ? `unknown option ${unknown.join(' ')}\n${USAGE}` : USAGE);
  process.exit(2);
}
const provider = createProvider(loadConfig(process.env), (m) => console.error(`[labs] ${m}`));
try {
  await provider.init();
  if (command === 'check') process.exitCode = (await check(provider, args, flags.includes('--keep'))) ? 0 : 1;
  else if (command === 'shell') {
    if (args.length !== 2) throw new Error(USAGE);
    await shell(provider, args[0]!, args[1]!);
  } else {
    const labs = await provider.listLabs({ owner: OWNER });
    await Promise.all(labs.map((l) => provider.destroyLab(l.labId)));
    console.log(`removed ${labs.length} lab(s)`);
  }
} finally {
  await provider.close();
}
