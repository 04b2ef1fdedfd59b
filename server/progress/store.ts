// What a learner has done: the checks they passed, per lab kind. Behind this interface so that a
// database shared by several backends (PostgreSQL) can replace the embedded one (sqlite.ts).

export interface PassedCheck {
  lab: string;
  checkId: string;
  /** first time it passed */
  at: Date;
}

export interface ProgressStore {
  /** Remembers that the learner passed this check (the first time counts; again is no error). */
  recordPass(learner: string, lab: string, checkId: string): Promise<void>;
  /** Every check the learner passed, oldest first. */
  passed(learner: string): Promise<PassedCheck[]>;
  close(): Promise<void>;
}
