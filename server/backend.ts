// The web side of Atelier, independent of how labs run: the lab API, the terminal WebSocket and the
// preview proxy. Used by the production server (server/main.ts) and by `astro dev` (server/dev.ts),
// so both give the student one address for the site, the API and the terminals.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { FastcgiEndpoint, type FastcgiAccess } from './fastcgi/endpoint.ts';
import { clientAddress } from './http/address.ts';
import { answerHealth } from './http/health.ts';
import { labApi } from './http/api.ts';
import { anonymousCookieIdentity } from './http/identity.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { previewSpaceFor, type WebSettings } from './http/settings.ts';
import { labDomain } from './preview/location.ts';
import { PreviewStatuses, previewProxy } from './preview/proxy.ts';
import type { ProgressStore } from './progress/store.ts';
import { TerminalGateway } from './terminal/gateway.ts';
import type { LabAccess } from './terminal/ports.ts';

export interface Backend {
  /** Handles /api/* requests; returns false for anything else. */
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Handles the terminal and FastCGI view WebSocket upgrades; returns false for other upgrades. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  readonly preview: Server;
  readonly gateway: TerminalGateway;
  close(): Promise<void>;
}

/** A limiter per address, or none when the setting is 0. */
function perAddress(perMinute: number, header: string | null): ((req: IncomingMessage) => boolean) | undefined {
  if (perMinute <= 0) return undefined;
  const limiter = new RateLimiter(perMinute, perMinute);
  return (req) => limiter.take(clientAddress(req, header));
}

/**
 * `progress`: the learners' progress store (progress/open.ts); closed with the backend. `fastcgi`: the
 * FastCGI view's captures (server/fastcgi-access.ts); without it, that view's socket is not served.
 */
export function createBackend(
  labs: LabAccess,
  settings: WebSettings,
  progress: ProgressStore,
  log: (msg: string) => void = console.error,
  fastcgi?: FastcgiAccess,
): Backend {
  const identity = anonymousCookieIdentity({ secret: settings.secret, secure: settings.secureCookie, maxAgeSeconds: 30 * 24 * 3600 });
  const gateway = new TerminalGateway({
    labs,
    identity,
    allowedOrigins: settings.siteOrigins,
    connectionsPerLearner: settings.connectionsPerLearner,
    connectLimiter: new RateLimiter(settings.connectsPerMinute, settings.connectsPerMinute),
    addressAllowed: perAddress(settings.connectsPerMinutePerAddress, settings.addressHeader),
    graceMs: settings.graceMs,
    outputBytesPerSecond: settings.terminalOutputBytesPerSecond,
    log,
  });
  const fastcgiView =
    fastcgi &&
    new FastcgiEndpoint({
      access: fastcgi,
      identity,
      allowedOrigins: settings.siteOrigins,
      connectLimiter: new RateLimiter(settings.connectsPerMinute, settings.connectsPerMinute),
      log,
    });
  const previewStatuses = new PreviewStatuses();
  const api = labApi({
    // A reset's hosts are new: the shells held for the old ones end with it (never resumed after).
    labs: {
      ...labs,
      reset: async (learner, name) => {
        const lab = await labs.reset(learner, name);
        await gateway.endLab(lab.labId);
        return lab;
      },
    },
    identity,
    allowedOrigins: settings.siteOrigins,
    createLimiter: new RateLimiter(settings.labCreatesPerMinute, settings.labCreatesPerMinute),
    checkLimiter: new RateLimiter(Math.min(10, settings.checksPerMinute), settings.checksPerMinute),
    progress,
    addressAllowed: perAddress(settings.labCreatesPerMinutePerAddress, settings.addressHeader),
    previewSpace: (req) => previewSpaceFor(settings, req),
    previewStatuses,
    log,
  });
  const proxy = previewProxy(labs, {
    domain: labDomain(settings.previewOrigin),
    timeoutMs: 15_000,
    statuses: previewStatuses,
    concurrent: settings.previewRequestsPerLab,
    bytesPerSecond: settings.previewBytesPerSecond,
    burstBytes: 4 * settings.previewBytesPerSecond,
  });
  const preview = createServer((req, res) => {
    proxy(req, res).catch((err: unknown) => {
      log(`preview: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  return {
    handleRequest: async (req, res) => answerHealth(req, res) || api(req, res),
    handleUpgrade: (req, socket, head) =>
      gateway.handleUpgrade(req, socket, head) || (fastcgiView?.handleUpgrade(req, socket, head) ?? false),
    preview,
    gateway,
    async close() {
      await gateway.close();
      await fastcgiView?.close();
      await new Promise<void>((ok) => preview.close(() => ok()));
      await progress.close();
    },
  };
}
