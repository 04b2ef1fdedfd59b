// A test server's labs carry their own scope label, so a test file removes exactly its own labs
// (others may run on the same engine) — scripts/clean-test-labs.ts remains the net under everything.
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../server/config.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';

export function newScope(name: string): string {
  return `t-${name}-${randomBytes(3).toString('hex')}`;
}

export async function destroyScope(scope: string): Promise<number> {
  const config = loadConfig({ ...process.env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope });
  const provider = new DockerProvider({ config, log: () => {} });
  try {
    const labs = await provider.listLabs();
    await Promise.all(labs.map((l) => provider.destroyLab(l.labId)));
    return labs.length;
  } finally {
    await provider.close();
  }
}
