// Finds the Debian archives the host already uses, so the image is built from the same mirror without the
// repository naming any mirror host. Reads /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources}
// (one-line and deb822 formats) and keeps the `deb` entries of the image's suite and its -updates/-security.
// CLI: `node sandbox/image/apt-sources.ts` prints one "deb URI SUITE main" line per archive, for mmdebstrap.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Debian release of the lab image (Dockerfile.hub uses debian:bookworm-slim to match). */
export const IMAGE_SUITE = 'bookworm';

export interface AptSource {
  uri: string;
  suite: string;
}

/** Entries of a one-line sources.list file. */
export function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    // deb [arch=amd64 signed-by=...] URI SUITE COMPONENT...
    const m = /^(deb|deb-src)\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (m && m[1] === 'deb') out.push({ uri: m[2]!, suite: m[3]! });
  }
  return out;
}

/** Entries of a deb822 .sources file (paragraphs of "Field: value" lines). */
export function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  const paragraphs = text.split(/\n\s*\n/);
  for (const p of paragraphs) {
    const fields = new Map<string, string>();
    let last = '';
    for (const line of p.split('\n')) {
      if (line.startsWith('#') || !line.trim()) continue;
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`); // continuation line
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) {
        last = m[1]!.toLowerCase();
        fields.set(last, m[2]!.trim());
      }
    }
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const types = (fields.get('types') ?? '').split(/\s+/);
    if (!types.includes('deb')) continue;
    for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) {
      for (const suite of (fields.get('suites') ?? '').split(/\s+/).filter(Boolean)) out.push({ uri, suite });
    }
  }
  return out;
}

/** The entries for `suite` (and suite-updates, suite-security...), in order, without duplicates. */
export function selectSuite(sources: AptSource[], suite: string): AptSource[] {
  const seen = new Set<string>();
  return sources.filter((s) => {
    const key = `${s.uri} ${s.suite}`;
    const wanted = s.suite === suite || s.suite.startsWith(`${suite}-`);
    if (!wanted || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Reads the host's apt configuration under `root` (default /etc/apt). */
export function hostSources(root = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const list = join(root, 'sources.list');
  if (existsSync(list)) out.push(...parseOneLine(readFileSync(list, 'utf8')));
  const dir = join(root, 'sources.list.d');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      const text = () => readFileSync(join(dir, f), 'utf8');
      if (f.endsWith('.list')) out.push(...parseOneLine(text()));
      else if (f.endsWith('.sources')) out.push(...parseDeb822(text()));
    }
  }
  return out;
}

/**
 * The mmdebstrap source lines for the image. ATELIER_DEBIAN_MIRROR (a Debian archive URI) overrides the host's
 * configuration, for hosts that are not Debian bookworm.
 */
export function imageSourceLines(env: NodeJS.ProcessEnv = process.env, root = '/etc/apt'): string[] {
  const mirror = env.ATELIER_DEBIAN_MIRROR?.trim();
  const sources = mirror
    ? [
        { uri: mirror, suite: IMAGE_SUITE },
        { uri: mirror, suite: `${IMAGE_SUITE}-updates` },
      ]
    : selectSuite(hostSources(root), IMAGE_SUITE);
  if (sources.length === 0) {
    throw new Error(
      `no apt source for Debian ${IMAGE_SUITE} in ${root}/sources.list or ${root}/sources.list.d/: ` +
        `set ATELIER_DEBIAN_MIRROR to a Debian archive URI (the one apt uses on a Debian machine)`,
    );
  }
  return sources.map((s) => `deb ${s.uri} ${s.suite} main`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    for (const line of imageSourceLines()) console.log(line);
  } catch (e) {
    console.error(`[apt-sources] ${(e as Error).message}`);
    process.exit(1);
  }
}
