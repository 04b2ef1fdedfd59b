// Parser for the sequence-diagram subset of Mermaid that the course uses (see docs/authoring.md).
// It only reads the source into a model; layout and drawing live in other modules.

export interface Participant {
  id: string;
  /** Label lines (`<br>` splits a label). */
  label: string[];
}

export interface Message {
  kind: 'message';
  from: string;
  to: string;
  label: string[];
  /** `-->>` and `--x`: a reply. */
  dashed: boolean;
  /** `-x` and `--x`: the message does not arrive. */
  failed: boolean;
}

export interface Note {
  kind: 'note';
  placement: 'over' | 'left' | 'right';
  /** One participant, or two (in diagram order) for `Note over A,B`. */
  of: string[];
  label: string[];
}

export type Step = Message | Note;

export interface Diagram {
  title: string | undefined;
  participants: Participant[];
  steps: Step[];
}

export class SequenceSyntaxError extends Error {
  /** 1-based line in the diagram source. */
  line: number;
  constructor(line: number, problem: string) {
    super(`sequence diagram line ${line}: ${problem}`);
    this.name = 'SequenceSyntaxError';
    this.line = line;
  }
}

// Identifiers: letters, digits, `_` and `.`, with single inner hyphens (php-fpm), so that `--` and `->`
// always start an arrow. Backtracking splits `A-xB` into A, -x, B.
const ID = String.raw`[\p{L}\p{N}_.]+(?:-[\p{L}\p{N}_.]+)*`;
const MESSAGE = new RegExp(String.raw`^(${ID})\s*(-->>|->>|--x|-x)\s*(${ID})\s*(?::(.*))?$`, 'u');
const PARTICIPANT = new RegExp(String.raw`^(?:participant|actor)\s+(${ID})(?:\s+as\s+(.+))?$`, 'u');
const NOTE = new RegExp(String.raw`^note\s+(over|left\s+of|right\s+of)\s+(${ID})(?:\s*,\s*(${ID}))?\s*:(.*)$`, 'iu');
const TITLE = /^title(?:\s*:\s*|\s+)(.+)$/;
const UNSUPPORTED = /^(loop|alt|else|opt|par|and|critical|break|rect|end|activate|deactivate|autonumber|box|create|destroy|link|links)\b/;

export function splitLabel(text: string): string[] {
  const lines = text.split(/<br\s*\/?>/i).map((line) => line.trim());
  return lines.every((line) => line === '') ? [] : lines;
}

function hintFor(line: string): string {
  if (/^note\b/i.test(line)) return 'expected a note like Note over A: text, Note over A,B: text, Note left of A: text';
  if (/^(participant|actor)\b/.test(line)) return 'expected participant ID or participant ID as Label';
  return 'expected a message like A->>B: text';
}

export function parseSequence(source: string): Diagram {
  let title: string | undefined;
  const participants = new Map<string, Participant>();
  const declaredOn = new Map<string, number>();
  const firstUse = new Map<string, number>();
  const steps: Step[] = [];

  const use = (id: string, lineNo: number): string => {
    if (!participants.has(id)) participants.set(id, { id, label: [id] });
    if (!firstUse.has(id)) firstUse.set(id, lineNo);
    return id;
  };

  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('%%')) return;
    // Allow pasting a Mermaid block as is.
    if (line === 'sequenceDiagram' && participants.size === 0 && steps.length === 0) return;

    let m: RegExpExecArray | null;
    if ((m = TITLE.exec(line))) {
      if (title !== undefined) throw new SequenceSyntaxError(lineNo, 'the title is given twice');
      title = m[1]!.trim();
    } else if ((m = PARTICIPANT.exec(line))) {
      const id = m[1]!;
      const earlier = declaredOn.get(id) ?? firstUse.get(id);
      if (earlier !== undefined) {
        throw new SequenceSyntaxError(
          lineNo,
          `participant ${id} is already known from line ${earlier} (declare participants once, before using them)`,
        );
      }
      const label = splitLabel(m[2] ?? id);
      participants.set(id, { id, label: label.length > 0 ? label : [id] });
      declaredOn.set(id, lineNo);
    } else if ((m = MESSAGE.exec(line))) {
      const arrow = m[2]!;
      steps.push({
        kind: 'message',
        from: use(m[1]!, lineNo),
        to: use(m[3]!, lineNo),
        label: splitLabel(m[4] ?? ''),
        dashed: arrow.startsWith('--'),
        failed: arrow.endsWith('x'),
      });
    } else if ((m = NOTE.exec(line))) {
      const placement = m[1]!.toLowerCase().startsWith('over') ? 'over' : m[1]!.toLowerCase().startsWith('left') ? 'left' : 'right';
      if (m[3] !== undefined && placement !== 'over') {
        throw new SequenceSyntaxError(lineNo, `a note ${m[1]} takes one participant, not two: "${line}"`);
      }
      const of = [use(m[2]!, lineNo)];
      if (m[3] !== undefined && m[3] !== m[2]) of.push(use(m[3], lineNo));
      steps.push({ kind: 'note', placement, of, label: splitLabel(m[4]!) });
    } else if ((m = UNSUPPORTED.exec(line))) {
      throw new SequenceSyntaxError(lineNo, `"${m[1]}" is not supported here (only participants, messages and notes): "${line}"`);
    } else {
      throw new SequenceSyntaxError(lineNo, `cannot read "${line}" (${hintFor(line)})`);
    }
  });

  if (steps.length === 0) {
    throw new SequenceSyntaxError(1, 'nothing to draw (write at least one message like A->>B: text)');
  }
  const order = [...participants.keys()];
  // Two-participant notes are stored left to right so layout can rely on it.
  for (const step of steps) {
    if (step.kind === 'note' && step.of.length === 2) step.of.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  }
  return { title, participants: [...participants.values()], steps };
}
