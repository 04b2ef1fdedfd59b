// What the terminal gateway tells the learner, in French (narrow no-break space before : ; ? !, a no-break
// space inside « », ’). One place, so a test reads every message where it is written
// (tests/unit/runtime-typography.test.ts). The wire protocol's own errors (protocol/terminal.ts) are for
// a client that breaks the protocol, never for a learner, and stay in English.
const NNBSP = '\u202F';
const NBSP = '\u00A0';
const quoted = (s: string) => `«${NBSP}${s}${NBSP}»`;

export const GATEWAY_MESSAGES = {
  inputDropped: `entrée ignorée${NNBSP}: le programme de ce terminal ne lit pas ce que vous tapez (Ctrl-C passera dès qu’il lira)`,
  noHello: 'aucun message hello reçu',
  noSuchLab: (name: string) => `aucun lab ${quoted(name)} pour vous${NNBSP}: lancez-le d’abord`,
  expired: `ce lab a expiré${NNBSP}: lancez-en un nouveau`,
  noSuchHost: (name: string, host: string) => `le lab ${quoted(name)} n’a pas d’hôte ${quoted(host)}`,
  replaced: `terminal ouvert ailleurs (autre onglet${NNBSP}?)`,
  exited: 'le shell est terminé',
  engine: `le moteur de conteneurs ne répond pas comme prévu${NNBSP}; réessayez dans un instant`,
} as const;
