// What the lab API tells the learner when it refuses or fails (the `message` of its JSON errors), in
// French with French typography: U+202F before : ; ? !, ’, no-break spaces inside « ». One table, read
// as it is by tests/unit/runtime-typography.test.ts.
export const API_MESSAGES = {
  notFound: 'adresse inconnue',
  method: 'méthode non permise',
  origin: 'origine refusée',
  contentType: 'Content-Type: application/json attendu',
  tooManyPreview: 'trop de demandes\u202F: attendez quelques secondes',
  tooManyFromNetwork: 'trop de demandes depuis votre réseau\u202F: attendez une minute',
  tooManyChecks: 'trop de vérifications\u202F: attendez quelques secondes',
  tooMany: 'trop de demandes\u202F: attendez une minute',
  solutionUnavailable: 'la solution n’est pas disponible pour le moment\u202F; réessayez dans une minute',
  engine: 'le lab ne peut pas démarrer pour le moment\u202F; réessayez',
  unknownLab: (name: string) => `aucun lab nommé «\u00A0${name}\u00A0»`,
  noRoom: 'plus de place pour un nouveau lab pour l’instant\u202F: réessayez dans quelques minutes',
} as const;
