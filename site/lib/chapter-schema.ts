// The frontmatter of a chapter (content/NN-slug.mdx), checked with messages an instructor can act on.
// Pure module: used by site/content.config.ts at build time and by the unit tests.
import { z } from 'zod';

export const CHAPTER_STATUSES = ['draft', 'coming', 'published'] as const;
export type ChapterStatus = (typeof CHAPTER_STATUSES)[number];

const LAB_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** What "got" looks like in a message: the value as written, or "nothing". */
function shown(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (typeof input === 'string') return `"${input}"`;
  return JSON.stringify(input) ?? String(input);
}

const text = (what: string) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? `missing: write ${what}` : `must be text (${what}), got ${shown(iss.input)}`) })
    .trim()
    .min(1, { error: `is empty: write ${what}` });

export const chapterSchema = z.strictObject(
  {
    title: text('the chapter title, e.g. title: "Un site dynamique avec FastCGI"'),
    chapter: z
      .number({
        error: (iss) =>
          iss.input === undefined
            ? 'missing: write the chapter number, e.g. chapter: 5'
            : `must be a number without quotes, e.g. chapter: 5, got ${shown(iss.input)}`,
      })
      .int({ error: (iss) => `must be a whole number, got ${shown(iss.input)}` })
      .min(1, { error: (iss) => `must be 1 or more, got ${shown(iss.input)}` }),
    summary: text('one or two sentences saying what the student will learn'),
    labs: z
      .array(
        z.string({ error: (iss) => `each lab must be a lab id in quotes, got ${shown(iss.input)}` }).regex(LAB_ID, {
          error: (iss) => `${shown(iss.input)} is not a lab id: use lowercase letters, digits and dashes, e.g. "nginx-remote"`,
        }),
        { error: (iss) => `must be a list of lab ids, e.g. labs: [apache-remote, nginx-remote], got ${shown(iss.input)}` },
      )
      .default([]),
    status: z
      .enum(CHAPTER_STATUSES, {
        error: (iss) => `must be one of ${CHAPTER_STATUSES.join(', ')}, got ${shown(iss.input)}`,
      })
      .default('published'),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown field${iss.keys.length > 1 ? 's' : ''} ${iss.keys.join(', ')} (known fields: title, chapter, summary, labs, status)`
        : 'the frontmatter must be a list of "field: value" lines between two --- lines',
  },
);

export type ChapterFrontmatter = z.output<typeof chapterSchema>;

/** Thrown when a chapter's frontmatter is wrong; its message names the file and every bad field. */
export class ChapterFrontmatterError extends Error {
  readonly file: string;
  readonly problems: readonly string[];
  constructor(file: string, problems: readonly string[]) {
    super(`The frontmatter of ${file} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ChapterFrontmatterError';
    this.file = file;
    this.problems = problems;
  }
}

/** Returns the checked frontmatter (with defaults) or throws a ChapterFrontmatterError. */
export function validateChapterFrontmatter(data: unknown, file: string): ChapterFrontmatter {
  const result = chapterSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    // labs.1 reads better as "labs, item 2" for someone who does not count from zero.
    const field = issue.path
      .map((k) => (typeof k === 'number' ? `, item ${k + 1}` : `${k === issue.path[0] ? '' : '.'}${String(k)}`))
      .join('');
    return field ? `${field}: ${issue.message}` : issue.message;
  });
  throw new ChapterFrontmatterError(file, problems);
}

/** A chapter as the site needs it: where it lives and its neighbours in the course. */
export interface ChapterLink {
  id: string;
  href: string;
  chapter: number;
  title: string;
  status: ChapterStatus;
}

export interface OrderedChapter<T> extends ChapterLink {
  entry: T;
  prev: ChapterLink | undefined;
  next: ChapterLink | undefined;
}

/**
 * Orders chapters by their number and links each one to its neighbours. Drafts are left out of the
 * site. Two chapters with the same number are an error, since the order would be a guess.
 */
export function orderChapters<T extends { id: string; data: ChapterFrontmatter }>(entries: readonly T[]): OrderedChapter<T>[] {
  const visible = entries.filter((e) => e.data.status !== 'draft').toSorted((a, b) => a.data.chapter - b.data.chapter);
  for (let i = 1; i < visible.length; i++) {
    const [a, b] = [visible[i - 1]!, visible[i]!];
    if (a.data.chapter === b.data.chapter) {
      throw new Error(`Chapters ${a.id} and ${b.id} both have chapter: ${a.data.chapter}; give each chapter its own number.`);
    }
  }
  const links: ChapterLink[] = visible.map((e) => ({
    id: e.id,
    href: `/${e.id}/`,
    chapter: e.data.chapter,
    title: e.data.title,
    status: e.data.status,
  }));
  return visible.map((entry, i) => ({ ...links[i]!, entry, prev: links[i - 1], next: links[i + 1] }));
}
