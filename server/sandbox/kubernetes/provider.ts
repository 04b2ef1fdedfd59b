// The Kubernetes provider: a lab is one pod per host in the namespace of labs, a headless Service that
// names them, a NetworkPolicy that fences them, a ConfigMap with their preparation. Thin over pure
// modules (labels.ts, manifests.ts, channel.ts); docs/providers.md. Never run against a real cluster
// here (no cluster can run on the development machine): tests/integration/kubernetes-provider.test.ts
// runs when KUBECONFIG reaches one.
import { fileURLToPath } from 'node:url';
import { Duplex, PassThrough } from 'node:stream';
import { connect as tcpConnect } from 'node:net';
import { CoreV1Api, KubeConfig, Log, NetworkingV1Api, PatchStrategy, setHeaderOptions, VersionApi } from '@kubernetes/client-node';
import { labImageTag } from '../../../sandbox/image/tag.ts';
import type { EngineSettings } from '../../config.ts';
import { readSeededFiles, tarOf } from '../docker/archive.ts';
import { type PreparePlan, prepareOutcome, prepareScript } from '../docker/prepare.ts';
import {
  assertLabId,
  EngineError,
  HostNotFoundError,
  LabClaimedError,
  LabCreateError,
  LabNotFoundError,
  type CreationPhase,
  type ExecOptions,
  type ExecResult,
  type LabFilter,
  type LabInfo,
  type LabSpec,
  type PacketCapture,
  type ProviderHealth,
  type SandboxProvider,
  type TerminalOptions,
  type TerminalSession,
} from '../provider.ts';
import type { Lab } from '../../../sandbox/labs/schema.ts';
import { openShell, runCommand } from './exec.ts';
import { LabInventory } from './inventory.ts';
import { ANNOTATION, LABEL, labName, labSelector, naming, type Naming, ownerHash, podName } from './labels.ts';
import { CONTAINER, type LabManifestInput, labManifests } from './manifests.ts';
import { bounded, isConflict, isNotFound } from './retry.ts';
import type { KubernetesSettings } from './settings.ts';

const HOST_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const DEFAULT_FILES_ROOT = fileURLToPath(new URL('../../../sandbox/labs/files/', import.meta.url));

export interface KubernetesProviderOptions {
  config: EngineSettings;
  settings: KubernetesSettings;
  /** default: KUBECONFIG, else the in-cluster service account */
  kubeConfig?: KubeConfig;
  filesRoot?: string;
  log?: (message: string) => void;
}

export class KubernetesProvider implements SandboxProvider {
  readonly name = 'kubernetes';
  readonly #config: EngineSettings;
  readonly #settings: KubernetesSettings;
  readonly #naming: Naming;
  readonly #kc: KubeConfig;
  readonly #core: CoreV1Api;
  readonly #net: NetworkingV1Api;
  readonly #inventory: LabInventory;
  readonly #filesRoot: string;
  readonly #log: (m: string) => void;
  readonly #terminals = new Set<string>();
  #initialized: Promise<void> | undefined;

  constructor(options: KubernetesProviderOptions) {
    this.#config = options.config;
    this.#settings = options.settings;
    this.#naming = naming(options.config.test, options.config.scope);
    this.#kc = options.kubeConfig ?? KubernetesProvider.defaultConfig();
    this.#core = this.#kc.makeApiClient(CoreV1Api);
    this.#net = this.#kc.makeApiClient(NetworkingV1Api);
    this.#filesRoot = options.filesRoot ?? DEFAULT_FILES_ROOT;
    this.#log = options.log ?? ((m) => console.error(`[kubernetes-provider] ${m}`));
    this.#inventory = new LabInventory(this.#kc, this.#core, this.#settings.namespace, this.#naming, this.#log);
  }

  static defaultConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return kc;
  }

  get #ns() {
    return this.#settings.namespace;
  }
  get #t() {
    return this.#config.timeouts;
  }

  init(): Promise<void> {
    this.#initialized ??= bounded('start the lab watch', this.#t.engineMs, () => this.#inventory.start());
    this.#initialized.catch(() => (this.#initialized = undefined));
    return this.#initialized;
  }

  // ---------------------------------------------------------------- create

  createLab(spec: LabSpec): Promise<LabInfo> {
    return this.#create(spec, new Date());
  }

  async #create(spec: LabSpec, createdAt: Date): Promise<LabInfo> {
    assertLabId(spec.labId);
    if (spec.pooled && spec.owner !== '') throw new RangeError('a pool lab has no owner until it is claimed');
    let timer: NodeJS.Timeout | undefined;
    const work = this.#build(spec, createdAt);
    try {
      await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new EngineError(`lab creation took longer than ${this.#t.createMs} ms`)), this.#t.createMs);
        }),
      ]);
      const info = await this.getLab(spec.labId);
      if (info?.state !== 'ready') throw new EngineError(`lab ${spec.labId} is ${info?.state ?? 'gone'} right after creation`);
      return info;
    } catch (err) {
      // Whatever was created goes: the objects are named, so removal needs nothing of the failed work.
      await this.destroyLab(spec.labId).catch((e: unknown) => this.#log(`cleanup of ${spec.labId} failed: ${(e as Error).message}`));
      if (err instanceof LabCreateError) throw err;
      throw new LabCreateError(`lab ${spec.definition.id} could not be created: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async #build(spec: LabSpec, createdAt: Date): Promise<void> {
    const { definition } = spec;
    const plans = await this.#plan(spec);
    const input: LabManifestInput = {
      naming: this.#naming,
      settings: this.#settings,
      limits: this.#config.host,
      identity: {
        labId: spec.labId,
        owner: spec.owner,
        definitionId: definition.id,
        createdAt,
        expiresAt: spec.expiresAt,
        pooled: spec.pooled,
      },
      hosts: definition.hosts,
      image: (logical) => (logical === 'atelier-lab' ? (this.#settings.image ?? labImageTag()) : logical),
    };
    let m: ReturnType<typeof labManifests>;
    try {
      m = labManifests(input, Object.fromEntries(plans.map((p) => [p.host, p.plan.script])));
    } catch (err) {
      throw new LabCreateError((err as Error).message, { cause: err });
    }
    const ns = this.#ns;
    const t = this.#t.engineMs;
    spec.progress?.('network');
    // The fence first: no pod of the lab ever runs without its policy.
    await bounded('create NetworkPolicy', t, () => this.#net.createNamespacedNetworkPolicy({ namespace: ns, body: m.networkPolicy }));
    await bounded('create ConfigMap', t, () => this.#core.createNamespacedConfigMap({ namespace: ns, body: m.configMap }));
    await bounded('create Service', t, () => this.#core.createNamespacedService({ namespace: ns, body: m.service }));
    spec.progress?.('containers');
    await Promise.all(m.pods.map((pod) => bounded('create Pod', t, () => this.#core.createNamespacedPod({ namespace: ns, body: pod }))));
    spec.progress?.('services');
    await Promise.all(plans.map((p) => this.#prepared(podName(this.#naming, spec.labId, p.host), p.host, p.plan, definition.id)));
  }

  async #plan(spec: LabSpec): Promise<{ host: string; plan: PreparePlan }[]> {
    const readonly = this.#config.host.rootfs === 'readonly';
    return Promise.all(
      spec.definition.hosts.map(async (host) => {
        if (!HOST_NAME.test(host.name)) throw new LabCreateError(`bad host name ${JSON.stringify(host.name)}`);
        const files = await readSeededFiles(host, this.#filesRoot).catch((err: unknown) => {
          throw new LabCreateError((err as Error).message, { cause: err });
        });
        const { writableDirs } = await import('../docker/rootfs.ts');
        const writable = readonly ? writableDirs(host, this.#config.host.writable, this.#config.host.seedDirMb) : [];
        const plan = prepareScript({
          fill: writable.map((d) => d.path),
          keepOwners: host.capabilities.includes('CHOWN'),
          seeded: files.length > 0 ? await tarOf(files) : undefined,
          peers: spec.definition.hosts.map((h) => h.name),
          boot: host.boot,
          commandTimeoutMs: this.#t.execMs,
        });
        return { host: host.name, plan };
      }),
    );
  }

  /** Waits for the pod to run, then follows its log until the preparation says done or failed. */
  async #prepared(pod: string, host: string, plan: PreparePlan, definitionId: string): Promise<void> {
    await this.#inventory.waitFor(`pod ${pod} running`, this.#t.createMs, () => {
      const p = this.#inventory.pod(pod, this.#ns);
      const waiting = p?.status?.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason && /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerConfigError/.test(waiting.reason)) {
        throw new LabCreateError(`host ${host}: ${waiting.reason} (${waiting.message ?? ''})`);
      }
      return p?.status?.phase === 'Running' || p?.status?.phase === 'Failed' || p?.status?.phase === 'Succeeded' ? true : undefined;
    });
    let text = '';
    const outcome = await new Promise<ReturnType<typeof prepareOutcome>>((resolve) => {
      const sink = new PassThrough();
      const timer = setTimeout(() => resolve({ ok: false, step: 'unknown', exitCode: 124, output: text.trim() }), plan.timeoutMs);
      const finish = (r: ReturnType<typeof prepareOutcome>) => {
        clearTimeout(timer);
        abort.then((c) => c.abort()).catch(() => {});
        resolve(r);
      };
      sink.on('data', (chunk: Buffer) => {
        text = (text + chunk.toString('utf8')).slice(-256 * 1024);
        const r = prepareOutcome(plan, text, false);
        if (r) finish(r);
      });
      sink.on('end', () => finish(prepareOutcome(plan, text, true)));
      const abort = new Log(this.#kc).log(this.#ns, pod, CONTAINER, sink, { follow: true });
      abort.catch(() => finish(prepareOutcome(plan, text, true)));
    });
    if (outcome?.ok) return;
    const output = outcome?.output.split('\n').slice(-15).join('\n') ?? '';
    if (typeof outcome?.step === 'number') {
      throw new LabCreateError(`lab ${definitionId}: boot command of host ${host} failed (exit ${outcome.exitCode}): ${output}`);
    }
    throw new LabCreateError(`lab ${definitionId}: preparing host ${host} failed (${outcome?.step ?? 'unknown'})\n${output}`);
  }

  // ---------------------------------------------------------------- find

  async listLabs(filter: LabFilter = {}): Promise<LabInfo[]> {
    await this.init();
    return this.#inventory.labs(filter);
  }

  async getLab(labId: string): Promise<LabInfo | undefined> {
    try {
      assertLabId(labId);
    } catch {
      return undefined;
    }
    return (await this.listLabs({ labId }))[0];
  }

  /**
   * The claim is one patch of the lab's Service with its resourceVersion: of two claims at once, the API
   * server takes the first and answers the second 409 Conflict.
   */
  async claimLab(labId: string, owner: string, expiresAt: Date): Promise<LabInfo> {
    assertLabId(labId);
    if (!owner) throw new RangeError('claimLab needs an owner');
    const lab = await this.getLab(labId);
    if (!lab) throw new LabNotFoundError(labId);
    const service = this.#inventory.service(labName(this.#naming, labId), this.#ns);
    if (!lab.pooled || lab.state !== 'ready' || !service) throw new LabClaimedError(labId);
    const createdAt = new Date();
    const body = {
      metadata: {
        resourceVersion: service.metadata?.resourceVersion,
        labels: { [LABEL.pool]: null, [LABEL.owner]: ownerHash(owner) },
        annotations: {
          [ANNOTATION.owner]: owner,
          [ANNOTATION.created]: createdAt.toISOString(),
          [ANNOTATION.expires]: expiresAt.toISOString(),
          [ANNOTATION.lastActive]: createdAt.toISOString(),
        },
      },
    };
    try {
      await bounded('claim (patch Service)', this.#t.engineMs, () =>
        this.#core.patchNamespacedService(
          { name: labName(this.#naming, labId), namespace: this.#ns, body },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      );
    } catch (err) {
      if (isConflict(err)) throw new LabClaimedError(labId);
      throw err;
    }
    return { ...lab, owner, createdAt, expiresAt, pooled: false };
  }

  /** The idle clock, kept on the lab (an annotation) so that any backend and a restart see it. */
  async recordActivity(labId: string, at: Date = new Date()): Promise<void> {
    assertLabId(labId);
    await bounded('record activity (patch Service)', this.#t.engineMs, () =>
      this.#core.patchNamespacedService(
        {
          name: labName(this.#naming, labId),
          namespace: this.#ns,
          body: { metadata: { annotations: { [ANNOTATION.lastActive]: at.toISOString() } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  // ---------------------------------------------------------------- use

  #runningPod(labId: string, host: string) {
    assertLabId(labId);
    if (!HOST_NAME.test(host)) throw new HostNotFoundError(labId, host);
    const name = podName(this.#naming, labId, host);
    const pod = this.#inventory.pod(name, this.#ns);
    if (pod?.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) throw new HostNotFoundError(labId, host);
    return { pod, ref: { namespace: this.#ns, pod: name } };
  }

  async exec(labId: string, host: string, command: string, options: ExecOptions = {}): Promise<ExecResult> {
    await this.init();
    const { ref } = this.#runningPod(labId, host);
    return runCommand(this.#kc, ref, command, {
      timeoutMs: options.timeoutMs ?? this.#t.execMs,
      engineTimeoutMs: this.#t.engineMs,
      env: options.env,
      workdir: options.workdir,
    });
  }

  async openTerminal(labId: string, host: string, options: TerminalOptions): Promise<TerminalSession> {
    await this.init();
    const { ref } = this.#runningPod(labId, host);
    const session = await openShell(this.#kc, ref, {
      labId,
      host,
      backendId: this.#config.backendId,
      workdir: (options as { workdir?: string }).workdir ?? '/root',
      env: options.env ?? {},
      cols: options.cols,
      rows: options.rows,
      engineTimeoutMs: this.#t.engineMs,
    });
    this.#terminals.add(session.id);
    void session.exited.finally(() => this.#terminals.delete(session.id));
    return session;
  }

  /**
   * Inside the cluster the backend dials the pod's address (the lab's policy lets the backend's pods in).
   * From outside (a backend on a workstation with a kubeconfig) pod addresses are not routable: a
   * port-forward through the API server would be needed, which is not built (docs/providers.md).
   */
  async connect(labId: string, host: string, port: number): Promise<Duplex> {
    await this.init();
    const { pod } = this.#runningPod(labId, host);
    const address = pod.status?.podIP;
    if (!address) throw new HostNotFoundError(labId, host);
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: address, port, timeout: this.#t.engineMs });
      socket.once('connect', () => {
        socket.setTimeout(0);
        resolve(socket);
      });
      socket.once('timeout', () => socket.destroy(new EngineError(`connect to ${host}:${port}: no answer within ${this.#t.engineMs} ms`)));
      socket.once('error', reject);
    });
  }

  async captureTcp(labId: string, host: string): Promise<PacketCapture> {
    this.#runningPod(labId, host);
    throw new EngineError('packet capture is not available with the Kubernetes provider (it needs NET_RAW in the lab pod)');
  }

  /** Same sweep as the Docker provider's, by exec in every running lab pod. */
  async hangUpStrayTerminals(): Promise<number> {
    await this.init();
    const keep = [...this.#terminals].join(' ');
    const script = `n=0; for d in /proc/[0-9]*; do env=$(tr '\\0' '\\n' < "$d/environ" 2>/dev/null); id=$(printf '%s\\n' "$env" | sed -n 's/^ATELIER_TERMINAL=//p'); [ -n "$id" ] || continue; owner=$(printf '%s\\n' "$env" | sed -n 's/^ATELIER_BACKEND=//p'); [ "$owner" = "$1" ] || continue; case " $2 " in *" $id "*) continue ;; esac; set -- "$1" "$2" $(sed 's/^.*) //' "$d/stat"); [ "$6" = "\${d#/proc/}" ] && kill -HUP "\${d#/proc/}" && n=$((n+1)); done; echo $n`;
    let total = 0;
    for (const lab of this.#inventory.labs()) {
      for (const h of lab.hosts.filter((x) => x.state === 'running')) {
        const r = await this.exec(
          lab.labId,
          h.name,
          `bash -c '${script.replaceAll("'", `'"'"'`)}' sweep ${this.#config.backendId} '${keep}'`,
          {
            timeoutMs: 5000,
          },
        ).catch(() => undefined);
        total += Number(r?.stdout.trim()) || 0;
      }
    }
    return total;
  }

  async resetLab(labId: string, definition: Lab, progress?: (phase: CreationPhase) => void): Promise<LabInfo> {
    const lab = await this.getLab(labId);
    if (!lab) throw new LabNotFoundError(labId);
    await this.destroyLab(labId);
    await this.#inventory.waitFor(`lab ${labId} removed`, this.#t.createMs, () =>
      this.#inventory.labs({ labId }).length === 0 ? true : undefined,
    );
    return this.#create({ labId, owner: lab.owner, definition, expiresAt: lab.expiresAt, progress }, lab.createdAt);
  }

  async destroyLab(labId: string): Promise<void> {
    try {
      assertLabId(labId);
    } catch {
      return;
    }
    const ns = this.#ns;
    const t = this.#t.engineMs;
    const labelSelector = labSelector(this.#naming, { [LABEL.labId]: labId });
    const gone = (err: unknown) => {
      if (!isNotFound(err)) throw err;
    };
    await Promise.all([
      bounded('delete Pods', t, () => this.#core.deleteCollectionNamespacedPod({ namespace: ns, labelSelector, gracePeriodSeconds: 0 })),
      bounded('delete ConfigMaps', t, () => this.#core.deleteCollectionNamespacedConfigMap({ namespace: ns, labelSelector })),
      bounded('delete Service', t, () => this.#core.deleteNamespacedService({ name: labName(this.#naming, labId), namespace: ns })).catch(
        gone,
      ),
    ]);
    // The fence goes last, once no pod of the lab is left running unfenced.
    await bounded('delete NetworkPolicies', t, () => this.#net.deleteCollectionNamespacedNetworkPolicy({ namespace: ns, labelSelector }));
  }

  async healthy(): Promise<ProviderHealth> {
    const warnings = ['NetworkPolicy enforcement depends on the cluster network plugin; the API server cannot tell whether it is enforced'];
    try {
      const version = await bounded('version', this.#t.engineMs, () => this.#kc.makeApiClient(VersionApi).getCode());
      await bounded('list pods', this.#t.engineMs, () => this.#core.listNamespacedPod({ namespace: this.#ns, limit: 1 }));
      return { ok: true, engine: `Kubernetes ${version.gitVersion}`, warnings };
    } catch (err) {
      return { ok: false, engine: `unreachable: ${(err as Error).message}`, warnings };
    }
  }

  async close(): Promise<void> {
    await this.#inventory.stop();
  }
}

export { Duplex };
