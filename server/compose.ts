// Composition root of the lab side: picks the sandbox provider (one place only), builds the lab manager
// and adapts it to the LabAccess port the web side uses.
import { parseScriptLog, SCRIPT_LOG_COMMAND, SCRIPT_LOG_POOL_FILE } from './preview/script-timing.ts';
import { getLab, loadLabs } from '../sandbox/labs/index.ts';
import type { Lab } from '../sandbox/labs/schema.ts';
import { loadConfig, type Config } from './config.ts';
import { API_MESSAGES } from './http/messages.ts';
import { NoRoomError as ManagerNoRoom, UnknownLabKindError } from './labs/errors.ts';
import { LabManager } from './labs/manager.ts';
import { DockerProvider } from './sandbox/docker/provider.ts';
import { loadKubeConfig } from './sandbox/kubernetes/kubeconfig.ts';
import { KubernetesProvider } from './sandbox/kubernetes/provider.ts';
import { loadKubernetesSettings } from './sandbox/kubernetes/settings.ts';
import { LabNotFoundError, type LabInfo, type SandboxProvider } from './sandbox/provider.ts';
import {
  ApplyRefusedError,
  NoLabError,
  NoRoomError,
  SolutionUnavailableError,
  UnknownCheckError,
  UnknownLabError,
  type LabAccess,
  type LabView,
  type Shell,
} from './terminal/ports.ts';
import { findCheck, NoSuchCheckError, runCheck } from './labs/checks.ts';
import { References } from './labs/reference.ts';
import { ApplyRefusedError as Refused, applySolution, computeReference, viewSolution, type ExecInLab } from './labs/solution.ts';

export interface Labs {
  access: LabAccess;
  manager: LabManager;
  provider: SandboxProvider;
  close(): Promise<void>;
}

function definitions(id: string): Lab | undefined {
  try {
    return getLab(id);
  } catch {
    return undefined;
  }
}

/** The provider named by ATELIER_PROVIDER (config.ts); building one contacts nothing, `init()` does. */
export function createProvider(config: Config, log: (m: string) => void, env: NodeJS.ProcessEnv = process.env): SandboxProvider {
  switch (config.provider) {
    case 'docker':
      return new DockerProvider({ config, log });
    case 'kubernetes':
      return new KubernetesProvider({ config, settings: loadKubernetesSettings(env), kubeConfig: loadKubeConfig(env), log });
  }
}

export async function startLabs(log: (m: string) => void = (m) => console.error(`[labs] ${m}`)): Promise<Labs> {
  const config = loadConfig();
  const provider = createProvider(config, log);
  await provider.init();
  const health = await provider.healthy();
  if (!health.ok) throw new Error(`the container engine does not answer (${health.engine})`);
  for (const w of health.warnings) log(`WARNING: ${w}`);
  const manager = new LabManager({ provider, definitions, limits: config.labs, pool: poolSizes(config.pool), log });
  await manager.start();
  await hangUpStrayTerminals(provider, log);
  return {
    access: labAccess(manager),
    manager,
    provider,
    async close() {
      await manager.stop();
      await provider.close();
    },
  };
}

/** ATELIER_LAB_POOL with "*" expanded to every definition; an unknown lab id stops the server. */
export function poolSizes(configured: Record<string, number>): Record<string, number> {
  const ids = loadLabs().map((l) => l.id);
  const sizes: Record<string, number> = {};
  for (const [id, n] of Object.entries(configured)) {
    if (id === '*') for (const each of ids) sizes[each] ??= n;
    else if (ids.includes(id)) sizes[id] = n;
    else throw new Error(`ATELIER_LAB_POOL: no lab definition "${id}" (known: ${ids.join(', ')})`);
  }
  return sizes;
}

/**
 * Shells that a previous run of the backend left in its labs (killed before it could close them) idle
 * there, out of anyone's reach: hung up before learners come in. Bounded, so a slow engine does not
 * hold the start; what remains goes on in the background (keeping the shells opened since).
 */
async function hangUpStrayTerminals(provider: SandboxProvider, log: (m: string) => void): Promise<void> {
  const sweep = provider.hangUpStrayTerminals().then(
    (n) => n > 0 && log(`hung up ${n} terminal shell(s) left by a previous run`),
    (err: unknown) => log(`stray terminal shells not hung up: ${(err as Error).message}`),
  );
  await Promise.race([sweep, new Promise((r) => setTimeout(r, 5000).unref())]);
}

/** The owner of the throwaway labs that compute reference states (no learner id has a colon). */
const REFERENCE_OWNER = 'reference:solution';

/** The solution run in a throwaway lab of the same definition, its declared files read at each stage. */
function references(manager: LabManager): References {
  return new References(async (definition) => {
    const lab = await manager.ensure(REFERENCE_OWNER, definition.id);
    try {
      return await computeReference(definition, (host, command, timeoutMs) => manager.exec(lab.labId, host, command, { timeoutMs }));
    } finally {
      await manager.destroy(REFERENCE_OWNER, definition.id).catch(() => {});
    }
  });
}

export function labAccess(manager: LabManager): LabAccess {
  const reference = references(manager);
  /** learner + lab kind of the creations and resets under way here: their hosts are not all running yet */
  const working = new Map<string, number>();
  const busy = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    working.set(key, (working.get(key) ?? 0) + 1);
    return work().finally(() => {
      const n = (working.get(key) ?? 1) - 1;
      if (n > 0) working.set(key, n);
      else working.delete(key);
    });
  };
  const view = (lab: LabInfo, key = ''): LabView => {
    const def = definitions(lab.definitionId);
    // A lab whose hosts stopped (engine restarted, container killed) never comes back by itself: the
    // student is told it is over ('expired') and gets a fresh one from « Relancer » (ensure recreates it).
    const stopped = lab.state === 'stopped' && !working.has(key);
    const state = lab.expiresAt.getTime() <= Date.now() || stopped ? 'expired' : lab.state === 'ready' ? 'ready' : 'starting';
    const progress = state === 'starting' ? manager.startProgress(lab.owner, lab.definitionId) : undefined;
    return {
      name: lab.definitionId,
      labId: lab.labId,
      title: def?.title ?? lab.definitionId,
      hosts: lab.hosts.map((h) => h.name),
      previewSites: Math.max(1, def?.preview.sites.length ?? 0),
      state,
      expiresAt: lab.expiresAt.getTime(),
      ...(progress && { progress }),
    };
  };
  const known = (name: string) => {
    if (!definitions(name)) throw new UnknownLabError(API_MESSAGES.unknownLab(name));
  };
  const translate = (err: unknown): never => {
    if (err instanceof ManagerNoRoom) throw new NoRoomError(API_MESSAGES.noRoom);
    if (err instanceof UnknownLabKindError) throw new UnknownLabError(API_MESSAGES.unknownLab(err.definitionId));
    throw err;
  };
  /** Work in the learner's running lab of that kind, its errors told in the port's terms. */
  const inLab = async <T>(learner: string, name: string, what: string, work: (def: Lab, run: ExecInLab) => Promise<T>): Promise<T> => {
    known(name);
    const lab = await manager.find(learner, name);
    if (lab?.state !== 'ready') throw new NoLabError(`lancez d’abord le lab «\u00A0${name}\u00A0» pour ${what}`);
    manager.touch(lab.labId);
    return work(definitions(name)!, (host, command, timeoutMs) => manager.exec(lab.labId, host, command, { timeoutMs })).catch(
      (err: unknown) => {
        throw err instanceof NoSuchCheckError ? new UnknownCheckError(err.message) : err;
      },
    );
  };
  /** The reference states (the check named first: an unknown check never starts a reference lab). */
  const referenceOf = (def: Lab, checkId: string) => {
    findCheck(def, checkId);
    return reference.get(def).catch((err: unknown) => {
      throw err instanceof NoSuchCheckError ? err : new SolutionUnavailableError((err as Error).message);
    });
  };
  return {
    async find(learner, name) {
      known(name);
      const lab = await manager.find(learner, name);
      return lab ? view(lab, `${learner}\0${name}`) : null;
    },
    async ensure(learner, name) {
      known(name);
      return view(await busy(`${learner}\0${name}`, () => manager.ensure(learner, name)).catch(translate));
    },
    async reset(learner, name) {
      known(name);
      return view(await busy(`${learner}\0${name}`, () => manager.reset(learner, name)).catch(translate));
    },
    async openShell(labId, host, size): Promise<Shell> {
      const session = await manager.openTerminal(labId, host, size);
      return {
        output: session.output,
        write: (data) => session.write(data),
        drained: () => session.drained(),
        resize: (cols, rows) => session.resize(cols, rows),
        close: () => session.close(),
        exited: session.exited,
      };
    },
    touch: (labId) => manager.touch(labId),
    async check(learner, name, checkId) {
      return inLab(learner, name, 'vérifier', (def, run) => runCheck(def, checkId, run));
    },
    async solution(learner, name, checkId) {
      return inLab(learner, name, 'voir la solution', async (def, run) => viewSolution(def, checkId, await referenceOf(def, checkId), run));
    },
    async applySolution(learner, name, checkId) {
      return inLab(learner, name, 'appliquer la solution', async (def, run) =>
        applySolution(def, checkId, await referenceOf(def, checkId), run).catch((err: unknown) => {
          throw err instanceof Refused ? new ApplyRefusedError(err.message) : err;
        }),
      );
    },
    async previewScripts(learner, name) {
      return inLab(learner, name, 'voir ses temps', async (def, run) => {
        const host = def.hosts.find((h) => h.name === def.preview.host);
        if (!host?.files.some((f) => f.path === SCRIPT_LOG_POOL_FILE)) return null;
        return parseScriptLog((await run(host.name, SCRIPT_LOG_COMMAND, 5_000)).stdout);
      });
    },
    async previewTarget(labId) {
      try {
        return await manager.previewTarget(labId);
      } catch (err) {
        if (err instanceof LabNotFoundError) return null;
        throw err;
      }
    },
  };
}
