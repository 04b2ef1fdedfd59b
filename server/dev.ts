// `npm run dev`: mounts the same lab API and terminal WebSocket on Astro's dev server, and starts the
// preview server, so the student uses one address in development too (chapters reload live).
import type { AstroIntegration } from 'astro';
import type { AddressInfo } from 'node:net';

export default function atelierBackend(): AstroIntegration {
  return {
    name: 'atelier-backend',
    hooks: {
      'astro:server:setup': async ({ server, logger }) => {
        // Loaded here, not at the top: `astro build` never needs Docker.
        const [{ createBackend }, { startLabs }, { bindPorts, webSettings }, { openProgressStore }, { fastcgiAccess }] = await Promise.all([
          import('./backend.ts'),
          import('./compose.ts'),
          import('./http/settings.ts'),
          import('./progress/open.ts'),
          import('./fastcgi-access.ts'),
        ]);
        const settings = webSettings(process.env);
        let backend: import('./backend.ts').Backend;
        try {
          const labs = await startLabs((m) => logger.warn(m));
          backend = createBackend(labs.access, settings, await openProgressStore(settings), (m) => logger.error(m), fastcgiAccess(labs));
          server.httpServer?.once('close', () => void Promise.allSettled([backend.close(), labs.close()]));
        } catch (err) {
          logger.error(`labs unavailable (${(err as Error).message}): the site works, terminals will not`);
          return;
        }
        server.middlewares.use((req, res, next) => {
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
