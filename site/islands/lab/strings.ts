// Every French string the lab panel shows from JavaScript (the server-rendered ones are in
// LabPanel.astro). Server messages arrive in French already; we only capitalise them. French typography:
// a narrow no-break space (\u202F) before : ; ? !, a no-break one between a number and its unit, ’ not '.
// tests/unit/page-typography.test.ts checks every string here.

export const STATE_LABEL = {
  idle: 'non lancé',
  checking: 'vérification…',
  starting: 'démarrage…',
  ready: 'prêt',
  disconnected: 'déconnecté (reconnexion…)',
  expired: 'expiré',
  error: 'erreur',
} as const;

export type PanelState = keyof typeof STATE_LABEL;

/**
 * 'starting', step by step: the badge (a live region) says each step once; the start screen also says
 * how the queue moves (START_DETAIL), which is not announced.
 */
export const START_LABEL = {
  queued: 'démarrage\u202F: en file',
  network: 'démarrage\u202F: réseau',
  containers: 'démarrage\u202F: conteneurs',
  services: 'démarrage\u202F: services',
  terminal: 'démarrage\u202F: terminal',
} as const;

export type StartStep = keyof typeof START_LABEL;

/** The start screen's line for a step (`ahead`: creations waiting before this one, when known). */
export function startDetail(step: StartStep, ahead?: number): string {
  if (step !== 'queued') return START_DETAIL[step];
  if (ahead === undefined) return 'En file d’attente…';
  if (ahead === 0) return 'En file\u202F: votre lab est le prochain.';
  return `En file\u202F: ${ahead} lab${ahead > 1 ? 's' : ''} avant le vôtre.`;
}

const START_DETAIL = {
  network: 'Réseau du lab…',
  containers: 'Conteneurs du lab…',
  services: 'Services du lab…',
  terminal: 'Ouverture du terminal…',
} as const;

/** 'disconnected' because another tab took the lab: no reconnection until the learner asks. */
export const STATE_LABEL_ELSEWHERE = 'déconnecté (ouvert ailleurs)';

export const TEXT = {
  startFailed: 'Le lab n’a pas pu démarrer.',
  network: 'Le serveur ne répond pas. Vérifiez votre connexion et réessayez.',
  loadFailed: 'Le panneau du lab n’a pas pu se charger. Rechargez la page.',
  startTimeout: 'Le lab met trop de temps à démarrer. Réessayez dans un instant.',
  confirmReset: 'Réinitialiser le lab\u202F? Vos fichiers et modifications seront perdus, et les terminaux redémarreront.',
  expired: 'Ce lab a expiré (il s’arrête après un moment sans activité). Lancez-en un nouveau pour continuer.',
  reconnecting: 'Connexion perdue, reconnexion…',
  reconnectingIn: (seconds: number) => `Connexion perdue, nouvel essai dans ${seconds}\u00A0s…`,
  connecting: 'Connexion au terminal…',
  starting: 'Démarrage du lab\u202F: quelques secondes…',
  replaced: 'Ce terminal est ouvert ailleurs (un autre onglet\u202F?).',
  exited: 'Le shell est terminé.',
  otherPanel: 'Ce lab est ouvert dans un autre panneau de cette page.',
  failed: 'Le terminal a rencontré une erreur.',
  noLab: 'Ce lab n’est pas lancé.',
  webglFallback: 'Rendu WebGL indisponible\u202F: affichage simplifié.',
  previewNotReady: 'Lancez le lab pour voir ce que répond son serveur web.',
} as const;

export const PREVIEW_TEXT = {
  /** the chip while the page asked for is on its way (its status is not known yet) */
  loading: 'chargement…',
} as const;

/** The timing of the preview's requests (preview-timing.ts); figures come formatted by milliseconds(). */
export const TIMING_TEXT = {
  title: 'Temps des requêtes',
  legend:
    'Mesurés par le proxy de l’aperçu, de l’envoi de la requête au serveur web du lab. Barre claire\u202F: premier octet, foncée\u202F: dernier octet. Barre orange\u202F: fin du script PHP (journal de PHP-FPM).',
  separator: ' · ',
  noAnswer: 'pas de réponse',
  firstByte: (ms: number) => `premier octet à ${milliseconds(ms)}`,
  noFirstByte: 'aucun octet reçu',
  lastByte: (ms: number) => `dernier octet à ${milliseconds(ms)}`,
  noLastByte: 'réponse pas encore complète',
  scriptEnd: (ms: number) => `fin du script PHP à ${milliseconds(ms)}`,
} as const;

/** « 1 234 ms »: a narrow no-break space between thousands, a no-break one before the unit. */
export function milliseconds(ms: number): string {
  const rounded = ms < 10 ? Math.round(ms * 10) / 10 : Math.round(ms);
  return `${String(rounded)
    .replace('.', ',')
    .replace(/\B(?=(\d{3})+(?!\d))/g, '\u202F')}\u00A0ms`;
}

/** Each host's transcript (transcript.ts). */
export const TRANSCRIPT_TEXT = {
  summary: (host: string) => `Transcription du terminal ${host}`,
  download: 'Télécharger (texte)',
  empty: 'Rien encore.',
  trimmed: '[début de la transcription retiré\u202F: elle garde les dernières lignes]',
} as const;

export const ACTION = {
  start: 'Lancer le lab',
  newLab: 'Nouveau lab',
  reconnect: 'Reprendre ici',
  newShell: 'Nouveau shell',
  retry: 'Réessayer',
} as const;

/** "le shell est terminé" → "Le shell est terminé." */
export function sentence(message: string): string {
  const text = message.trim();
  if (!text) return text;
  const first = text.charAt(0).toLocaleUpperCase('fr');
  const end = /[.!?…]$/.test(text) ? '' : '.';
  return first + text.slice(1) + end;
}
