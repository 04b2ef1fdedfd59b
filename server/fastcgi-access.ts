// Composition: the FastCGI view's access to labs, from the lab access (the learner's own lab of a kind)
// and the provider (the capture). Only a running lab of the learner's, only its FastCGI port.
import type { FastcgiAccess } from './fastcgi/endpoint.ts';
import { FASTCGI_OVER_TCP } from './fastcgi/targets.ts';
import { HostNotFoundError, LabNotFoundError, type SandboxProvider } from './sandbox/provider.ts';
import { UnknownLabError, type LabAccess } from './terminal/ports.ts';

export function fastcgiAccess(labs: { access: LabAccess; provider: SandboxProvider }): FastcgiAccess {
  return {
    async watch(learner, name) {
      let knownKind = true;
      const lab = await labs.access.find(learner, name).catch((err: unknown) => {
        if (!(err instanceof UnknownLabError)) throw err;
        knownKind = false;
        return null;
      });
      if (lab === null && !knownKind) return { unavailable: 'no-lab' };
      // A unix-socket lab has nothing to show, started or not: say why at once.
      const target = Object.hasOwn(FASTCGI_OVER_TCP, name) ? FASTCGI_OVER_TCP[name] : undefined;
      if (!target) return { unavailable: 'unix-socket' };
      if (lab?.state !== 'ready') return { unavailable: 'no-lab' };
      try {
        return { ...target, capture: await labs.provider.captureTcp(lab.labId, target.host, target.port) };
      } catch (err) {
        if (err instanceof HostNotFoundError || err instanceof LabNotFoundError) return { unavailable: 'no-lab' };
        throw err;
      }
    },
  };
}
