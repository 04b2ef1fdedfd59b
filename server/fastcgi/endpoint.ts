// The FastCGI view's WebSocket (/api/fastcgi): the same gate as the terminals (exact Origin, the signed
// learner cookie, rate limits), then one `watch` naming a lab kind; the server finds that learner's own
// lab of that kind (the browser never names a lab instance), starts a capture and sends each decoded
// event as one JSON text frame. Bounded: events per second, bytes queued for the socket, watches per learner.
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { FASTCGI_PATH, type FastcgiServerMessage, parseWatch } from '../../protocol/fastcgi.ts';
import type { Identity } from '../http/identity.ts';
import { originAllowed } from '../http/origin.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { FastcgiDecoder } from './decoder.ts';

export interface Capture {
  readonly output: Readable;
  close(): Promise<void>;
}

/** What the endpoint needs from the lab side (the composition root adapts the manager and provider). */
export interface FastcgiAccess {
  /**
   * Starts capturing the FastCGI traffic of the learner's lab of that kind: the capture and where it
   * looks, or why not ('unix-socket': that lab's FastCGI never crosses a network; 'no-lab': none running).
   */
  watch(
    learner: string,
    lab: string,
  ): Promise<{ capture: Capture; host: string; port: number } | { unavailable: 'unix-socket' | 'no-lab' }>;
}

export interface FastcgiEndpointOptions {
  access: FastcgiAccess;
  identity: Identity;
  allowedOrigins: ReadonlySet<string>;
  connectLimiter: RateLimiter;
  watchesPerLearner?: number;
  /** events sent per second at most; past it the capture is paused (the kernel drops, nothing piles up here) */
  eventsPerSecond?: number;
  log?: (msg: string) => void;
}

const QUEUED_BYTES = 1024 * 1024;

export const UNAVAILABLE: Record<'unix-socket' | 'no-lab' | 'engine' | 'bad-message', string> = {
  'unix-socket':
    'Dans ce lab, le serveur web parle à PHP-FPM par un socket Unix, un fichier partagé sur le même hôte\u202F: aucun paquet ne passe par le réseau, il n’y a rien à capturer sans donner à la capture un accès aux processus du lab. Les labs «\u00A0distants\u00A0» (Nginx ou Apache et PHP-FPM sur deux hôtes, port 9000) montrent les enregistrements.',
  'no-lab': 'Démarrez le lab pour voir ses échanges FastCGI.',
  engine: 'La capture n’a pas pu démarrer. Réessayez dans un instant.',
  'bad-message': 'Message incompris.',
};

export class FastcgiEndpoint {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  readonly #opts: FastcgiEndpointOptions;
  readonly #perLearner = new Map<string, number>();
  readonly #captures = new Set<Capture>();

  constructor(opts: FastcgiEndpointOptions) {
    this.#opts = opts;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if ((req.url ?? '').split('?')[0] !== FASTCGI_PATH) return false;
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string) =>
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    if (!originAllowed(req, this.#opts.allowedOrigins)) return (refuse(403, 'Forbidden'), true);
    const learner = this.#opts.identity.identify(req);
    if (!learner) return (refuse(401, 'Unauthorized'), true);
    if (!this.#opts.connectLimiter.take(learner) || (this.#perLearner.get(learner) ?? 0) >= (this.#opts.watchesPerLearner ?? 4)) {
      return (refuse(429, 'Too Many Requests'), true);
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#serve(ws, learner));
    return true;
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await Promise.all([...this.#captures].map((c) => c.close().catch(() => {})));
    this.#wss.close();
  }

  #serve(ws: WebSocket, learner: string): void {
    this.#perLearner.set(learner, (this.#perLearner.get(learner) ?? 0) + 1);
    let capture: Capture | undefined;
    let closed = false;
    const send = (m: FastcgiServerMessage, done?: () => void) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m), done);
    };
    const unavailable = (reason: keyof typeof UNAVAILABLE) => {
      send({ t: 'unavailable', reason, message: UNAVAILABLE[reason] });
      ws.close(1000, reason);
    };
    const helloTimer = setTimeout(() => ws.close(1008, 'no watch'), 10_000);
    ws.once('message', (data, isBinary) => {
      clearTimeout(helloTimer);
      const watch = isBinary ? null : parseWatch(String(data));
      if (!watch) return unavailable('bad-message');
      this.#opts.access.watch(learner, watch.lab).then(
        (answer) => {
          if ('unavailable' in answer) return unavailable(answer.unavailable);
          capture = answer.capture;
          this.#captures.add(capture);
          if (closed) return void this.#stop(capture);
          send({ t: 'watching', host: answer.host, port: answer.port });
          this.#relay(ws, capture, answer.port, send);
        },
        (err: unknown) => {
          this.#opts.log?.(`fastcgi: capture of ${watch.lab} failed: ${(err as Error).message}`);
          unavailable('engine');
        },
      );
      ws.on('message', () => ws.close(1008, 'one watch per connection'));
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      closed = true;
      clearTimeout(helloTimer);
      const n = (this.#perLearner.get(learner) ?? 1) - 1;
      if (n <= 0) this.#perLearner.delete(learner);
      else this.#perLearner.set(learner, n);
      if (capture) void this.#stop(capture);
    });
  }

  async #stop(capture: Capture): Promise<void> {
    this.#captures.delete(capture);
    await capture.close().catch((err: unknown) => this.#opts.log?.(`fastcgi: capture removal failed: ${(err as Error).message}`));
  }

  /** Capture → decoder → socket, with both bounds applied by pausing the capture. */
  #relay(ws: WebSocket, capture: Capture, port: number, send: (m: FastcgiServerMessage, done?: () => void) => void): void {
    const decoder = new FastcgiDecoder(port);
    const perSecond = this.#opts.eventsPerSecond ?? 200;
    let windowStart = Date.now();
    let sentInWindow = 0;
    let queued = 0;
    let resumeTimer: NodeJS.Timeout | undefined;
    const output = capture.output;
    const maybeResume = () => {
      if (queued < QUEUED_BYTES / 2 && !resumeTimer && output.isPaused()) output.resume();
    };
    output.on('data', (chunk: Buffer) => {
      for (const event of decoder.push(chunk)) {
        const text = JSON.stringify(event);
        queued += text.length;
        sentInWindow++;
        send(event, () => {
          queued -= text.length;
          maybeResume();
        });
      }
      const now = Date.now();
      if (now - windowStart >= 1000) (windowStart = now), (sentInWindow = 0);
      if (sentInWindow >= perSecond && !resumeTimer) {
        output.pause();
        resumeTimer = setTimeout(
          () => {
            resumeTimer = undefined;
            windowStart = Date.now();
            sentInWindow = 0;
            maybeResume();
          },
          1000 - (now - windowStart),
        );
      }
      if (queued >= QUEUED_BYTES) output.pause();
    });
    const end = () => {
      clearTimeout(resumeTimer);
      if (ws.readyState === ws.OPEN) ws.close(1000, 'capture ended');
    };
    output.on('end', end);
    output.on('close', end);
    output.on('error', end);
  }
}
