// `npm run dev`: mounts the same lab API and terminal WebSocket on Astro's dev server, and starts the
// preview server, so the student uses one address in development too (chapters reload live). For authors:
// the labs this server starts are removed when it stops (Ctrl-C, SIGTERM, a restart), and a lab started before its
// definition (or a seeded file) changed is told to the page (GET /__atelier/lab-changed), whose panel then
// offers a reset (site/components/LabChanged.astro). Lab definitions themselves are reloaded on each edit
// by astro.config.mjs (sandbox/labs/index.ts reloadLabs), which this server's lookups read.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { AstroIntegration } from 'astro';
import { LAB_CHANGED_PATH } from '../protocol/dev.ts';
import type { LabAccess } from './terminal/ports.ts';

export default function atelierBackend(): AstroIntegration {
  return {
    name: 'atelier-backend',
    hooks: {
      'astro:server:setup': async ({ server, logger }) => {
        // Loaded here, not at the top: `astro build` never needs Docker.
        const [{ createBackend }, { startLabs }, { bindPorts, webSettings }, { openProgressStore }, { getLab, FILES_DIR }] =
          await Promise.all([
            import('./backend.ts'),
            import('./compose.ts'),
            import('./http/settings.ts'),
            import('./progress/open.ts'),
            import('../sandbox/labs/index.ts'),
          ]);
        const settings = webSettings(process.env);
        /** A lab kind's definition as it is now: its fields and its seeded files' bytes. */
        const versionOf = (name: string): string => {
          const lab = getLab(name);
          const hash = createHash('sha256').update(JSON.stringify(lab ?? null));
          for (const h of lab?.hosts ?? []) for (const f of h.files) hash.update(readFileSync(new URL(f.source, FILES_DIR)));
          return hash.digest('hex');
        };
        let backend: import('./backend.ts').Backend;
        let labs: Awaited<ReturnType<typeof startLabs>>;
        /** the labs this server created or reset, by id, with the version of their definition then */
        const started = new Map<string, string>();
        try {
          labs = await startLabs((m) => logger.warn(m));
          backend = createBackend(recording(labs.access, started, versionOf), settings, await openProgressStore(settings), (m) =>
            logger.error(m),
          );
        } catch (err) {
          logger.error(`labs unavailable (${(err as Error).message}): the site works, terminals will not`);
          return;
        }
        // One way out, however the server stops (Ctrl-C, SIGTERM, Astro's restart on a config change): the labs
        // it started are removed first, then the backend and the provider close. Vite's own SIGTERM handler
        // exits right after server.close(), hence the wrapper.
        let closing: Promise<void> | undefined;
        const shutdown = () =>
          (closing ??= (async () => {
            const ids = [...started.keys()];
            if (ids.length > 0) logger.info(`removing the ${ids.length} lab(s) this server started`);
            await bounded(Promise.allSettled(ids.map((id) => labs.provider.destroyLab(id))), 20_000);
            await Promise.allSettled([backend.close(), labs.close()]);
          })());
        const viteClose = server.close.bind(server);
        server.close = async () => {
          await shutdown();
          return viteClose();
        };
        server.httpServer?.once('close', () => void shutdown());
        for (const signal of ['SIGINT', 'SIGTERM'] as const)
          process.once(signal, () => void shutdown().then(() => process.exit(signal === 'SIGINT' ? 130 : 143)));
        server.middlewares.use((req, res, next) => {
          if (req.method === 'GET' && req.url?.startsWith(`${LAB_CHANGED_PATH}?`)) {
            const query = new URL(req.url, 'http://dev').searchParams;
            const [name, labId] = [query.get('lab') ?? '', query.get('labId') ?? ''];
            const then = started.get(labId);
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ changed: then !== undefined && then !== versionOf(name) }));
            return;
          }
          backend.handleRequest(req, res).then((handled) => handled || next(), next);
        });
        // Vite's HMR socket shares this server; the gateway only takes its own path.
        server.httpServer?.on('upgrade', (req, socket, head) => backend.handleUpgrade(req, socket, head));
        backend.preview.listen(settings.previewPort, settings.host);
        server.httpServer?.once('listening', () => {
          const port = (server.httpServer?.address() as AddressInfo | null)?.port ?? settings.port;
          bindPorts(settings, process.env, port, settings.previewPort);
          logger.info(`labs ready; preview on http://${settings.host}:${settings.previewPort}`);
        });
      },
    },
  };
}

/** The lab port, noting each lab it creates or resets with its definition's version at that time. */
function recording(access: LabAccess, started: Map<string, string>, versionOf: (name: string) => string): LabAccess {
  return {
    ...access,
    async ensure(learner, name) {
      const view = await access.ensure(learner, name);
      if (!started.has(view.labId)) started.set(view.labId, versionOf(name));
      return view;
    },
    async reset(learner, name) {
      const view = await access.reset(learner, name);
      started.set(view.labId, versionOf(name));
      return view;
    },
  };
}

/** The promise, or nothing after `ms`: an engine that does not answer does not hold the exit. */
function bounded(work: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([work, new Promise((r) => setTimeout(r, ms).unref())]);
}
