// What the definition says about a lab's hosts: the manager's side of exec, terminals, services and the
// preview, so that a provider only runs what it is given. A lab's definition id never changes during its
// life, so it is cached (asked of the engine once per lab and process).
import type { Lab, LabHost } from '../../sandbox/labs/schema.ts';
import { HostNotFoundError, LabNotFoundError, type LabInfo } from '../sandbox/provider.ts';
import { UnknownLabKindError } from './errors.ts';

const MAX_CACHED = 20_000;

export class LabHosts {
  readonly #definitions: (id: string) => Lab | undefined;
  readonly #getLab: (labId: string) => Promise<LabInfo | undefined>;
  /** labId → definition id */
  readonly #kinds = new Map<string, string>();

  constructor(definitions: (id: string) => Lab | undefined, getLab: (labId: string) => Promise<LabInfo | undefined>) {
    this.#definitions = definitions;
    this.#getLab = getLab;
  }

  /** A lab this process created or found: its definition is known without asking the engine. */
  known(labId: string, definitionId: string): void {
    if (this.#kinds.size >= MAX_CACHED) this.#kinds.clear();
    this.#kinds.set(labId, definitionId);
  }

  forget(labId: string): void {
    this.#kinds.delete(labId);
  }

  /** LabNotFoundError: no such lab; UnknownLabKindError: its definition is gone (renamed or removed). */
  async definition(labId: string): Promise<Lab> {
    let id = this.#kinds.get(labId);
    if (!id) {
      const lab = await this.#getLab(labId);
      if (!lab) throw new LabNotFoundError(labId);
      id = lab.definitionId;
      this.known(labId, id);
    }
    const definition = this.#definitions(id);
    if (!definition) throw new UnknownLabKindError(id);
    return definition;
  }

  /** HostNotFoundError when the lab's definition has no such host. */
  async host(labId: string, name: string): Promise<LabHost> {
    const found = (await this.definition(labId)).hosts.find((h) => h.name === name);
    if (!found) throw new HostNotFoundError(labId, name);
    return found;
  }
}
