// The labs as the API server tells them, kept current by two watches (the labs' Services and pods, by
// label): listing a learner's lab reads this cache instead of asking the API server each time. A watch
// that fails starts again after a back-off; `waitFor` resolves when the cache shows what a creation waits for.
import {
  type CoreV1Api,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  makeInformer,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import type { LabInfo } from '../provider.ts';
import { assembleLabs, LABEL, labSelector, mine, type Naming } from './labels.ts';
import { backoffMs } from './retry.ts';

export class LabInventory {
  readonly #services;
  readonly #pods;
  readonly #naming: Naming;
  readonly #waiters = new Set<() => void>();
  #stopped = false;

  constructor(kc: KubeConfig, core: CoreV1Api, namespace: string, n: Naming, log: (m: string) => void) {
    this.#naming = n;
    const selector = labSelector(n);
    this.#services = makeInformer<V1Service>(
      kc,
      `/api/v1/namespaces/${namespace}/services`,
      () => core.listNamespacedService({ namespace, labelSelector: selector }),
      selector,
    );
    this.#pods = makeInformer<V1Pod>(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => core.listNamespacedPod({ namespace, labelSelector: selector }),
      selector,
    );
    for (const informer of [this.#services, this.#pods] as Informer<KubernetesObject>[]) {
      informer.on('add', () => this.#wake());
      informer.on('update', () => this.#wake());
      informer.on('delete', () => this.#wake());
      let failures = 0;
      informer.on('error', (err) => {
        if (this.#stopped) return;
        failures++;
        log(`lab watch failed (${(err as Error)?.message ?? err}); again in a moment`);
        setTimeout(() => void informer.start().then(() => (failures = 0)), backoffMs(Math.min(failures, 6))).unref();
      });
    }
  }

  async start(): Promise<void> {
    await Promise.all([this.#services.start(), this.#pods.start()]);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([this.#services.stop(), this.#pods.stop()]);
    this.#wake();
  }

  labs(filter: { owner?: string; labId?: string; definitionId?: string } = {}): LabInfo[] {
    const keep = <T extends { metadata?: { labels?: Record<string, string> } }>(list: readonly T[]) =>
      list.filter((o) => mine(this.#naming, o.metadata?.labels) && (!filter.labId || o.metadata?.labels?.[LABEL.labId] === filter.labId));
    return assembleLabs(keep(this.#services.list()), keep(this.#pods.list())).filter(
      (l) =>
        (filter.owner === undefined || l.owner === filter.owner) &&
        (filter.definitionId === undefined || l.definitionId === filter.definitionId),
    );
  }

  pod(name: string, namespace: string): V1Pod | undefined {
    return this.#pods.get(name, namespace);
  }

  service(name: string, namespace: string): V1Service | undefined {
    return this.#services.get(name, namespace);
  }

  /** Resolves once `ready()` holds (checked at each change), rejects after `timeoutMs`. */
  waitFor<T>(what: string, timeoutMs: number, ready: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#stopped) return finish(() => reject(new Error('the lab watch stopped')));
        let value: T | undefined;
        try {
          value = ready();
        } catch (err) {
          return finish(() => reject(err));
        }
        if (value !== undefined) finish(() => resolve(value));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${what}: not within ${timeoutMs} ms`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      this.#waiters.add(check);
      check();
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}
