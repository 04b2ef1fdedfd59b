// Host firewall for lab bridges. An internal Docker network has no route out, but the machine itself
// owns an address on every bridge (the gateway), so without these rules a lab could connect to
// anything listening on the machine (the backend, the engine API on tcp, databases on 0.0.0.0).
// Rules: packets coming in from a lab bridge (atl+) are dropped unless they answer a connection the
// machine opened (the preview proxy's). Forwarding from a lab bridge to anything that is not a lab
// bridge is dropped too (Docker's own isolation rules already do; this holds if they are missing).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const INPUT_CHAIN = 'ATELIER-INPUT';
export const FORWARD_CHAIN = 'ATELIER-FORWARD';
export const BRIDGE_MATCH = 'atl+';

export interface FirewallStatus {
  ok: boolean;
  warnings: string[];
}

// iptables-restore --noflush replaces just these chains, atomically: no moment without the DROP.
const chains = `*filter
:${INPUT_CHAIN} - [0:0]
:${FORWARD_CHAIN} - [0:0]
-A ${INPUT_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ${INPUT_CHAIN} -j DROP
-A ${FORWARD_CHAIN} -i ${BRIDGE_MATCH} ! -o ${BRIDGE_MATCH} -j DROP
-A ${FORWARD_CHAIN} -j RETURN
COMMIT
`;

async function restore(tool: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile(`${tool}-restore`, ['-w', '5', '--noflush'], { timeout: 15000 }, (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(chains);
  });
}

/** Adds `rule` at the top of `chain` unless it is there already. */
async function ensureJump(tool: string, chain: string, rule: string[]): Promise<void> {
  try {
    await run(tool, ['-w', '5', '-C', chain, ...rule], { timeout: 15000 });
  } catch {
    await run(tool, ['-w', '5', '-I', chain, '1', ...rule], { timeout: 15000 });
  }
}

async function chainExists(tool: string, chain: string): Promise<boolean> {
  try {
    await run(tool, ['-w', '5', '-S', chain], { timeout: 15000 });
    return true;
  } catch {
    return false;
  }
}

async function installFor(tool: string): Promise<void> {
  await restore(tool);
  await ensureJump(tool, 'INPUT', ['-i', BRIDGE_MATCH, '-j', INPUT_CHAIN]);
  // DOCKER-USER is where Docker wants operators' forwarding rules (it is jumped to first).
  const forwardFrom = (await chainExists(tool, 'DOCKER-USER')) ? 'DOCKER-USER' : 'FORWARD';
  await ensureJump(tool, forwardFrom, ['-i', BRIDGE_MATCH, '-j', FORWARD_CHAIN]);
}

async function available(tool: string): Promise<boolean> {
  try {
    await run(tool, ['--version'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs the rules (idempotent). `engineIsLocal`: rules on this machine only protect it when the
 * engine runs here too.
 */
export async function ensureHostFirewall(engineIsLocal: boolean): Promise<FirewallStatus> {
  const warnings: string[] = [];
  if (!engineIsLocal) {
    warnings.push('the engine is remote (DOCKER_HOST): install the atl+ firewall rules on the engine host (docs/security.md)');
    return { ok: false, warnings };
  }
  if (process.getuid?.() !== 0) {
    warnings.push('not root: cannot install the firewall rules that stop labs from reaching services on this machine');
    return { ok: false, warnings };
  }
  if (!(await available('iptables'))) {
    warnings.push("iptables not found: labs can reach services listening on this machine's addresses");
    return { ok: false, warnings };
  }
  try {
    await installFor('iptables');
  } catch (err) {
    warnings.push(`iptables rules could not be installed: ${(err as Error).message.split('\n')[0]}`);
  }
  if (await available('ip6tables')) {
    try {
      await installFor('ip6tables');
    } catch (err) {
      warnings.push(`ip6tables rules could not be installed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { ok: warnings.length === 0, warnings };
}

/** True when the INPUT jump and the DROP are in place (for health checks and audits). */
export async function firewallInPlace(tool = 'iptables'): Promise<boolean> {
  try {
    await run(tool, ['-w', '5', '-C', 'INPUT', '-i', BRIDGE_MATCH, '-j', INPUT_CHAIN], { timeout: 15000 });
    await run(tool, ['-w', '5', '-C', INPUT_CHAIN, '-j', 'DROP'], { timeout: 15000 });
    return true;
  } catch {
    return false;
  }
}
