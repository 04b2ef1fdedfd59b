// The benchmark's own view of the engine, with the same naming as the server it started (test labels
// and its scope): to remove labs between runs, find container names, and clean up whatever happens.
import { loadConfig } from '../../server/config.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { containerName, naming } from '../../server/sandbox/docker/labels.ts';

export interface ScopeLabs {
  provider: DockerProvider;
  /** the engine's container name of a lab's host */
  container(labId: string, host: string): string;
  /** removes every lab of the scope (a few at a time); returns how many */
  destroyAll(): Promise<number>;
  close(): Promise<void>;
}

export function scopeLabs(scope: string, env: Record<string, string> = {}): ScopeLabs {
  const config = loadConfig({ ...process.env, ...env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope });
  const provider = new DockerProvider({ config, log: () => {} });
  const n = naming(true, scope);
  return {
    provider,
    container: (labId, host) => containerName(n, labId, host),
    async destroyAll() {
      const labs = await provider.listLabs();
      for (let i = 0; i < labs.length; i += 8) {
        await Promise.all(labs.slice(i, i + 8).map((l) => provider.destroyLab(l.labId).catch(() => {})));
      }
      return labs.length;
    },
    close: () => provider.close(),
  };
}
