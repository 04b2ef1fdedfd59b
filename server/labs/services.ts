// A host's services (start, stop, status) are commands of the lab definition, run like any other
// command: no provider needs to know about them.
import type { LabHost } from '../../sandbox/labs/schema.ts';
import type { ExecResult } from '../sandbox/provider.ts';
import { ServiceNotFoundError } from './errors.ts';

export type ServiceAction = 'start' | 'stop' | 'status';

export interface ServiceResult {
  /** whether the service runs after the action (the definition's status command succeeded) */
  running: boolean;
  /** exit code of the start/stop/status command itself */
  exitCode: number;
  output: string;
}

/** `start` or `stop`, then `status`; ServiceNotFoundError when the host has no such service. */
export async function runService(
  host: LabHost,
  name: string,
  action: ServiceAction,
  exec: (command: string) => Promise<ExecResult>,
): Promise<ServiceResult> {
  const service = Object.hasOwn(host.services, name) ? host.services[name] : undefined;
  if (!service) throw new ServiceNotFoundError(host.name, name);
  const done = action === 'status' ? undefined : await exec(service[action]);
  const status = await exec(service.status);
  const told = done ?? status;
  return { running: status.exitCode === 0, exitCode: told.exitCode, output: `${told.stdout}${told.stderr}` };
}
