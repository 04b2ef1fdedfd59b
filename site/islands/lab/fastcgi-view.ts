// The « FastCGI » tab: the records that the learner's own lab really exchanged between the web server
// and PHP-FPM, drawn live as a sequence diagram (two lifelines, one arrow per record, as the chapter's
// diagrams), each arrow opening onto its fields. The capture starts only when the tab is first opened
// (server/fastcgi/, /api/fastcgi) and stops when the lab goes or the page leaves.
import {
  FASTCGI_PATH,
  FASTCGI_VERSION,
  type FastcgiServerMessage,
  type FcgiRecord,
  type FcgiRequestEnd,
  type Preview,
  parseFastcgiMessage,
} from '../../../protocol/fastcgi.ts';

/** Arrows kept on screen; older ones go (the diagram stays readable, the page light). */
const MAX_ROWS = 300;

const S = {
  connecting: 'Capture en cours de démarrage…',
  watching: (port: number) =>
    `Capture du port ${port} de l’hôte php\u202F: chargez une page dans « Navigateur » pour voir ses enregistrements.`,
  ended: 'Capture arrêtée. Rouvrez cet onglet pour la relancer.',
  refused: 'connexion refusée (SYN puis RST)\u202F: rien n’écoute sur ce port',
  connect: 'connexion TCP (SYN)',
  close: 'fin de la connexion',
  reset: 'connexion coupée (RST)',
  lost: 'octets illisibles\u202F: ce n’est pas du FastCGI, la suite de cette connexion est ignorée',
  bytes: (n: number) => `${n.toLocaleString('fr-FR')}\u202Foctet${n > 1 ? 's' : ''}`,
  truncated: (shown: number, all: number) => `(${shown.toLocaleString('fr-FR')} premiers sur ${all.toLocaleString('fr-FR')}\u202Foctets)`,
};

export class FastcgiView {
  readonly #panel: HTMLElement;
  readonly #name: string;
  readonly #status: HTMLElement;
  readonly #rows: HTMLOListElement;
  #socket: WebSocket | null = null;

  constructor(panel: HTMLElement, labName: string) {
    this.#panel = panel;
    this.#name = labName;
    this.#status = panel.querySelector<HTMLElement>('.lab__fastcgi-status')!;
    this.#rows = panel.querySelector<HTMLOListElement>('.lab__fastcgi-records')!;
  }

  /** The tab was opened: start watching, unless already. */
  open(): void {
    if (this.#socket) return;
    const url = new URL(FASTCGI_PATH, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    this.#socket = ws;
    this.#say(S.connecting);
    ws.addEventListener('open', () => ws.send(JSON.stringify({ t: 'watch', v: FASTCGI_VERSION, lab: this.#name })));
    ws.addEventListener('message', (e) => {
      const m = typeof e.data === 'string' ? parseFastcgiMessage(e.data) : null;
      if (m) this.#on(m);
    });
    ws.addEventListener('close', () => {
      if (this.#socket !== ws) return;
      this.#socket = null;
      if (this.#panel.dataset.fastcgiState !== 'unavailable') this.#say(S.ended, 'ended');
    });
  }

  /** The lab went (reset, stopped, expired): the capture went with it. */
  close(): void {
    const ws = this.#socket;
    this.#socket = null;
    ws?.close();
  }

  #say(text: string, state = 'watching'): void {
    this.#status.textContent = text;
    this.#panel.dataset.fastcgiState = state;
  }

  #on(m: FastcgiServerMessage): void {
    switch (m.t) {
      case 'watching':
        this.#say(S.watching(m.port));
        break;
      case 'unavailable':
        this.#say(m.message, 'unavailable');
        break;
      case 'record':
        this.#add(this.#record(m));
        break;
      case 'request-end':
        // For whoever draws timings: PHP-FPM's END_REQUEST, with the request it ends.
        this.#panel.dispatchEvent(new CustomEvent<FcgiRequestEnd>('atelier:fastcgi-request-end', { detail: m, bubbles: true }));
        break;
      case 'connect':
        this.#add(this.#line('to-php', 'SYN', S.connect, m.conn, 'tcp'));
        break;
      case 'refused':
        this.#add(this.#line('to-web', 'RST', S.refused, m.conn, 'refused'));
        break;
      case 'close':
        this.#add(this.#line(m.reset ? 'to-web' : 'to-php', m.reset ? 'RST' : 'FIN', m.reset ? S.reset : S.close, m.conn, 'tcp'));
        break;
      case 'lost':
        this.#add(this.#line('to-php', '?', S.lost, m.conn, 'refused'));
        break;
    }
  }

  #add(row: HTMLLIElement): void {
    this.#rows.append(row);
    while (this.#rows.children.length > MAX_ROWS) this.#rows.firstElementChild?.remove();
    row.scrollIntoView?.({ block: 'nearest' });
  }

  /** A TCP event: an arrow without fields. */
  #line(dir: FcgiRecord['dir'], label: string, text: string, conn: number, kind: string): HTMLLIElement {
    const li = this.#row(dir, kind);
    const arrow = li.querySelector('.fcgi__arrow')!;
    arrow.append(el('span', 'fcgi__type', label), el('span', 'fcgi__note', `${text} · connexion ${conn}`));
    return li;
  }

  #row(dir: FcgiRecord['dir'], kind: string): HTMLLIElement {
    const li = document.createElement('li');
    li.className = `fcgi__row fcgi__row--${dir} fcgi__row--${kind}`;
    li.append(el('span', 'fcgi__arrow'));
    li.querySelector('.fcgi__arrow')!.setAttribute('aria-label', dir === 'to-php' ? 'web vers php-fpm' : 'php-fpm vers web');
    return li;
  }

  /** One record: the arrow is the summary; its fields open below it. */
  #record(r: FcgiRecord): HTMLLIElement {
    const li = document.createElement('li');
    li.className = `fcgi__row fcgi__row--${r.dir} fcgi__row--record`;
    li.dataset.type = r.type;
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.className = 'fcgi__arrow';
    summary.append(
      el('span', 'visually-hidden', r.dir === 'to-php' ? 'web vers php-fpm\u202F: ' : 'php-fpm vers web\u202F: '),
      el('span', 'fcgi__type', r.type),
      el('span', 'fcgi__note', `${summaryOf(r)} · requête ${r.requestId}, ${S.bytes(r.length)}`),
    );
    const fields = document.createElement('dl');
    fields.className = 'fcgi__fields';
    const add = (name: string, value: string | Preview) => {
      const dd = document.createElement('dd');
      if (typeof value === 'string') dd.textContent = value;
      else {
        dd.append(el('code', 'fcgi__value', value.text));
        if (value.truncated) dd.append(el('span', 'fcgi__size', ` ${S.truncated(value.text.length, value.bytes)}`));
      }
      fields.append(el('dt', '', name), dd);
    };
    add('connexion', String(r.conn));
    add('requestId', String(r.requestId));
    add('contentLength', S.bytes(r.length));
    if (r.role) add('role', r.role);
    if (r.keepConn !== undefined) add('flags', r.keepConn ? 'FCGI_KEEP_CONN' : '0 (fermer après la réponse)');
    for (const p of r.params ?? []) add(p.name, p.value);
    for (const h of r.headers ?? []) add(`en-tête ${h.name}`, h.value);
    if (r.body && r.body.bytes > 0) add('contenu', r.body);
    if (r.appStatus !== undefined) add('appStatus', String(r.appStatus));
    if (r.protocolStatus) add('protocolStatus', r.protocolStatus);
    details.append(summary, fields);
    li.append(details);
    return li;
  }
}

function el(tag: string, className: string, text = ''): HTMLElement {
  const e = document.createElement(tag);
  if (className) e.className = className;
  e.textContent = text;
  return e;
}

/** The few words an arrow carries, as the chapter's diagrams label theirs. */
function summaryOf(r: FcgiRecord): string {
  const param = (name: string) => r.params?.find((p) => p.name === name)?.value.text;
  switch (r.type) {
    case 'BEGIN_REQUEST':
      return `${r.role ?? ''}${r.keepConn ? ', KEEP_CONN' : ''}`;
    case 'PARAMS': {
      if (!r.params?.length) return 'fin des paramètres';
      const script = param('SCRIPT_FILENAME');
      const method = param('REQUEST_METHOD');
      return [method, script && `SCRIPT_FILENAME=${script}`, `${r.params.length} paramètres`].filter(Boolean).join(' · ');
    }
    case 'STDIN':
    case 'STDOUT':
    case 'STDERR':
    case 'DATA':
      if (!r.body?.bytes) return 'fin du flux';
      return r.type === 'STDERR' || r.body.bytes < 60
        ? oneLine(r.body.text)
        : (r.headers?.map((h) => `${h.name}: ${h.value}`).join(' · ') ?? '');
    case 'END_REQUEST':
      return `appStatus ${r.appStatus ?? '?'}, ${r.protocolStatus ?? ''}`;
    default:
      return '';
  }
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 80);
