// What the preview proxy tells the learner, in French (narrow no-break space before : ; ? !, ’): the
// plain-text pages of its own answers, and the words the status chip shows when no HTTP status came back.
// One place, so a test reads every message where it is written (tests/unit/runtime-typography.test.ts).
const NNBSP = '\u202F';
const page = (text: string) => `Aperçu${NNBSP}: ${text}`;

export const PREVIEW_ERRORS = {
  unknownAddress: page('adresse inconnue.'),
  bodyTooLarge: (max: number) => page(`corps de requête trop gros (${max} octets au plus).`),
  engineDown: page('le moteur de conteneurs ne répond pas.'),
  noSuchLab: page('ce lab n’existe pas (ou plus).'),
  noSuchSite: page('ce lab n’a pas ce site.'),
  tooManyRequests: page(`trop de requêtes en cours pour ce lab${NNBSP}; rechargez dans un instant.`),
  noAnswer: page('le serveur web du lab ne répond pas (port fermé ou service arrêté).'),
  badStatus: (code: string) => page(`le serveur web du lab a répondu un code HTTP invalide (${code}).`),
  badHeaders: page('le serveur web du lab a répondu des en-têtes invalides.'),
  broken: page('la réponse du serveur web du lab est invalide ou interrompue.'),
} as const;

/** The status chip's words for a page that got no HTTP status from the lab. */
export const PREVIEW_RESULTS = {
  noAnswer: 'pas de réponse du serveur web du lab',
  badStatus: (code: string) => `réponse invalide du serveur web du lab (code ${code})`,
  broken: 'réponse du serveur web du lab interrompue',
} as const;
