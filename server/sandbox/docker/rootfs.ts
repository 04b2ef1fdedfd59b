// Bounded writable space without storage-driver quotas. The image's root filesystem is mounted
// read-only; each directory a learner may write (/etc, /var, /root, /tmp, ... and the directories of
// seeded files) is a size-limited tmpfs, which the host's init fills from the image's read-only twin of
// that directory (prepare.ts).
import type { LabHost } from '../../../sandbox/labs/schema.ts';

export interface WritableDir {
  path: string;
  sizeMb: number;
}

const dirOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';
const covers = (dir: string, path: string) => dir === '/' || path === dir || path.startsWith(`${dir}/`);

/**
 * The writable directories of a host: the configured ones plus the directory of every seeded file not
 * already inside one. A directory inside another is dropped (the outer one holds it).
 */
export function writableDirs(host: LabHost, configured: Record<string, number>, seedDirMb: number): WritableDir[] {
  const dirs: WritableDir[] = Object.entries(configured).map(([path, sizeMb]) => ({ path, sizeMb }));
  for (const f of host.files) {
    if (!dirs.some((d) => covers(d.path, f.path))) dirs.push({ path: dirOf(f.path), sizeMb: seedDirMb });
  }
  return dirs.filter((d) => !dirs.some((o) => o !== d && o.path !== d.path && covers(o.path, d.path)));
}

/**
 * Mount options of a writable directory: programs may run from it (a learner's script in /root), nothing
 * there is set-uid or a device. Its mode and owner come from the image's copy, which lab-init copies over
 * it with `cp -a`; /tmp starts world-writable for the time before.
 */
export const tmpfsOptions = (sizeMb: number, path: string) =>
  `rw,exec,nosuid,nodev,size=${sizeMb}m,mode=${path === '/tmp' ? '1777' : '755'}`;
