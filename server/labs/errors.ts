// Errors of the lab manager that callers turn into answers for the learner.

/** The global cap is reached: the answer is "no room right now", not a slower service for everyone. */
export class NoRoomError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`no room right now: all ${limit} lab places are taken, try again in a few minutes`);
    this.name = 'NoRoomError';
    this.limit = limit;
  }
}

/** No lab definition has this id. */
export class UnknownLabKindError extends Error {
  readonly definitionId: string;
  constructor(definitionId: string) {
    super(`no lab named ${JSON.stringify(definitionId)}`);
    this.name = 'UnknownLabKindError';
    this.definitionId = definitionId;
  }
}

/** The host has no service of that name in the lab's definition. */
export class ServiceNotFoundError extends Error {
  constructor(host: string, service: string) {
    super(`host ${JSON.stringify(host)} has no service ${JSON.stringify(service)}`);
    this.name = 'ServiceNotFoundError';
  }
}
