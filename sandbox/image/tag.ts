// The lab image is tagged by a hash of its definition (every file under sandbox/image), so it is rebuilt
// exactly when that definition changes. The base root filesystem (mmdebstrap, slow) has its own tag, hashed
// over sandbox/image/base only, so changing a lab-layer file does not redo mmdebstrap.
// CLI: `node sandbox/image/tag.ts` prints the lab image tag; `--base` prints the base image tag.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const IMAGE_DIR = fileURLToPath(new URL('.', import.meta.url));
export const IMAGE_NAME = 'atelier-lab';
export const BASE_IMAGE_NAME = 'atelier-lab-base';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => join(e.parentPath, e.name));
}

/** First 12 hex digits of sha256 over the sorted relative paths and contents of every file under `dir`. */
export function hashTree(dir: string): string {
  const hash = createHash('sha256');
  const files = filesUnder(dir)
    .map((f) => ({ abs: f, rel: relative(dir, f).split(sep).join('/') }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  for (const f of files) {
    hash.update(f.rel).update('\0').update(readFileSync(f.abs)).update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

/** e.g. atelier-lab:0123456789ab */
export function labImageTag(dir = IMAGE_DIR): string {
  return `${IMAGE_NAME}:${hashTree(dir)}`;
}

/** e.g. atelier-lab-base:0123456789ab (the mmdebstrap root filesystem, before the lab layers) */
export function baseImageTag(dir = IMAGE_DIR): string {
  return `${BASE_IMAGE_NAME}:${hashTree(join(dir, 'base'))}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(process.argv.includes('--base') ? baseImageTag() : labImageTag());
}
