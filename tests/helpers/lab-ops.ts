// What the lab manager adds to a provider, for tests that drive a provider directly: a lab's preview
// (the definition's host and port, reached through connect) and its hosts' services.
import type { Lab } from '../../sandbox/labs/schema.ts';
import { runService, type ServiceAction, type ServiceResult } from '../../server/labs/services.ts';
import type { PreviewTarget } from '../../server/labs/preview-targets.ts';
import type { ExecOptions, ExecResult, SandboxProvider } from '../../server/sandbox/provider.ts';

export function previewOf(provider: SandboxProvider, definition: Lab, labId: string): PreviewTarget {
  const { host, port, sites } = definition.preview;
  return { host, port, sites: sites.map((s) => s.hostHeader), connect: () => provider.connect(labId, host, port) };
}

export function service(
  provider: SandboxProvider,
  definition: Lab,
  labId: string,
  host: string,
  name: string,
  action: ServiceAction,
): Promise<ServiceResult> {
  const h = definition.hosts.find((each) => each.name === host);
  if (!h) throw new Error(`no host ${host} in ${definition.id}`);
  return runService(h, name, action, (command) => provider.exec(labId, host, command, { env: h.env, workdir: h.workdir }));
}

/** provider.exec with the host's environment and workdir from the definition, as the manager runs it. */
export function hostExec(provider: SandboxProvider, definition: Lab) {
  return (labId: string, host: string, command: string, options: ExecOptions = {}): Promise<ExecResult> => {
    const h = definition.hosts.find((each) => each.name === host);
    return provider.exec(labId, host, command, { ...options, env: { ...h?.env, ...options.env }, workdir: options.workdir ?? h?.workdir });
  };
}
