// Prints a lab definition, validated: `node sandbox/labs/print.ts <lab-id>` as JSON (with its run order),
// or `--plan` as tab-separated lines for shell scripts (commands base64-encoded), used by
// bench/baseline/cli-lab.sh, which creates a lab with the plain Docker CLI:
//   host    NAME IMAGE WORKDIR CAP,CAP,... ENV(base64 of K=V lines)
//   file    HOST PATH ABSOLUTE_SOURCE MODE(octal)
//   boot    HOST CMD
//   step    HOST CMD TITLE TIMEOUT_S
//   check   HOST CMD TITLE EXPECT(JSON) TIMEOUT_S ID
//   preview HOST PORT PATH
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labImageTag } from '../image/tag.ts';
import { getLab, loadLabs, FILES_DIR } from './index.ts';
import { runOrder, stepCommand } from './plan.ts';
import type { Lab } from './schema.ts';

/** The runner's bound for a command without timeoutSeconds. */
const DEFAULT_TIMEOUT_S = 30;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The engine image of a host: the logical name atelier-lab is the image built from sandbox/image. */
export function imageOf(logical: string): string {
  return logical === 'atelier-lab' ? labImageTag() : logical;
}

export function planLines(lab: Lab): string[] {
  const files = fileURLToPath(FILES_DIR);
  const lines: string[][] = [];
  for (const h of lab.hosts) {
    const env = Object.entries(h.env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
    lines.push(['host', h.name, imageOf(h.image), h.workdir, h.capabilities.join(','), b64(env)]);
  }
  for (const h of lab.hosts) {
    for (const f of h.files) lines.push(['file', h.name, f.path, join(files, f.source), f.mode.toString(8)]);
  }
  for (const h of lab.hosts) for (const cmd of h.boot) lines.push(['boot', h.name, b64(cmd)]);
  for (const item of runOrder(lab)) {
    if (item.kind === 'step') {
      const s = item.step;
      lines.push(['step', s.host, b64(stepCommand(s)), b64(s.title), String(s.timeoutSeconds ?? DEFAULT_TIMEOUT_S)]);
    } else {
      const c = item.check;
      lines.push([
        'check',
        c.host,
        b64(c.run),
        b64(c.title),
        b64(JSON.stringify(c.expect)),
        String(c.timeoutSeconds ?? DEFAULT_TIMEOUT_S),
        c.id,
      ]);
    }
  }
  lines.push(['preview', lab.preview.host, String(lab.preview.port), lab.preview.path]);
  return lines.map((l) => l.join('\t'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const id = args.find((a) => !a.startsWith('--'));
  const known = () =>
    loadLabs()
      .map((l) => l.id)
      .join(', ');
  if (!id) {
    console.error(`usage: node sandbox/labs/print.ts [--plan] <lab-id>\nlabs: ${known()}`);
    process.exit(2);
  }
  const lab = getLab(id);
  if (!lab) {
    console.error(`unknown lab "${id}" (labs: ${known()})`);
    process.exit(2);
  }
  if (args.includes('--plan')) console.log(planLines(lab).join('\n'));
  else console.log(JSON.stringify({ lab, filesDir: fileURLToPath(FILES_DIR), order: runOrder(lab) }, null, 2));
}
