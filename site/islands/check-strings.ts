// What « Vérifier », « Voir la solution de cette étape » and « Appliquer » say (French typography: a
// narrow no-break space before : ; ? !, a no-break space inside « »).
const NNBSP = '\u202F';
const NBSP = '\u00A0';

export const CHECK_STRINGS = {
  passed: '✓ Réussi',
  alreadyPassed: `✓ Réussi (déjà vérifié)`,
  checking: 'vérification…',
  hint: (hint: string) => `Piste${NNBSP}: ${hint}`,
  failedUnknown: 'Pas encore.',
  noAnswer: `la vérification n’a pas pu avoir lieu${NNBSP}; réessayez`,
  offline: `le serveur ne répond pas${NNBSP}; réessayez dans un instant`,
} as const;

export const SOLUTION_STRINGS = {
  show: 'Voir la solution de cette étape',
  hide: 'Masquer la solution',
  loading: 'chargement de la solution…',
  stepsTitle: (n: number) => (n > 1 ? `Les commandes de cette étape${NNBSP}:` : `La commande de cette étape${NNBSP}:`),
  onHost: (host: string) => `sur ${host}`,
  filesTitle: 'Vos fichiers et la solution',
  noFiles: `Cette étape ne modifie aucun fichier${NNBSP}: elle lance seulement ses commandes.`,
  mine: 'votre fichier',
  theirs: 'la solution',
  lineMine: `votre fichier${NNBSP}: `,
  lineTheirs: `la solution${NNBSP}: `,
  hunk: (from: number, to: number) => `@@ votre fichier ligne ${from}, la solution ligne ${to}`,
  same: 'Votre fichier est déjà comme la solution.',
  absent: '(absent)',
  apply: 'Appliquer',
  cancel: 'Annuler',
  applying: 'application de l’étape…',
  confirmTitle: `Appliquer cette étape dans votre lab${NNBSP}?`,
  willRestore: (path: string, host: string) => `remettre ${path} (sur ${host}) dans l’état d’avant l’étape, puis`,
  willRun: (host: string) => `lancer sur ${host}${NNBSP}:`,
  untouched: 'Rien d’autre n’est modifié dans votre lab.',
  applied: `Étape appliquée. Vérification${NNBSP}:`,
  applyFailed: (step: string) => `L’étape «${NBSP}${step}${NBSP}» a échoué dans votre lab${NNBSP}:`,
  error: `la solution n’a pas pu être chargée${NNBSP}; réessayez`,
} as const;
