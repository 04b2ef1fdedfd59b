// Places participants, messages and notes. Each step gets its own horizontal band, so only the column
// spacing needs solving: every label adds a "these two lifelines are at least d apart" constraint and
// the columns are placed left to right at the smallest distance that satisfies all of them.
import type { Diagram } from './parse.ts';
import { textColumns } from './measure.ts';

export const FONT_SIZE = 14;
const CHAR_WIDTH = FONT_SIZE * 0.6;
export const LINE_HEIGHT = 18;
const MARGIN = 8; // around the drawing, so strokes are not clipped
const ACTOR_PAD_X = 14;
const ACTOR_PAD_Y = 8;
const ACTOR_MIN_WIDTH = 84;
const ACTOR_GAP = 28; // between neighbouring participant boxes
const LABEL_MARGIN = 14; // between a message label and the lifelines at its ends
const LABEL_GAP = 5; // between a label and its arrow
const ROW_GAP = 16; // between two steps
const SELF_WIDTH = 30; // width of the loop of a message to oneself
const SELF_HEIGHT = 22;
const NOTE_PAD_X = 10;
const NOTE_PAD_Y = 6;
const NOTE_OVERHANG = 16; // how far a note over A,B reaches past the lifelines
const NOTE_OFFSET = 8; // between a lifeline and a note left/right of it

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
/** Lines of text; x is the anchor (centre, or left edge when anchor is 'start'), box bounds all lines. */
export interface TextBlock {
  lines: string[];
  x: number;
  y: number;
  anchor: 'middle' | 'start';
  box: Box;
}

export interface ActorGeometry {
  id: string;
  x: number;
  top: Box;
  bottom: Box;
  topLabel: TextBlock;
  bottomLabel: TextBlock;
}
export type ItemGeometry =
  | { kind: 'message'; x1: number; x2: number; y: number; dashed: boolean; failed: boolean; label: TextBlock | undefined }
  | { kind: 'self'; x: number; y: number; w: number; h: number; dashed: boolean; failed: boolean; label: TextBlock | undefined }
  | { kind: 'note'; box: Box; label: TextBlock };

export interface Layout {
  width: number;
  height: number;
  actors: ActorGeometry[];
  /** Lifelines run between the boxes, broken where a note or label crosses them. */
  lifelines: Array<{ x: number; segments: Array<[number, number]> }>;
  items: ItemGeometry[];
}

const textWidth = (lines: string[]): number => Math.max(0, ...lines.map(textColumns)) * CHAR_WIDTH;

function textBlock(lines: string[], x: number, y: number, anchor: TextBlock['anchor']): TextBlock {
  const w = textWidth(lines);
  return { lines, x, y, anchor, box: { x: anchor === 'middle' ? x - w / 2 : x, y, w, h: lines.length * LINE_HEIGHT } };
}

export function layoutSequence(diagram: Diagram): Layout {
  const ids = diagram.participants.map((p) => p.id);
  const col = (id: string): number => ids.indexOf(id);
  const n = ids.length;
  const actorWidth = diagram.participants.map((p) => Math.max(ACTOR_MIN_WIDTH, textWidth(p.label) + 2 * ACTOR_PAD_X));
  const actorHeight = Math.max(...diagram.participants.map((p) => p.label.length)) * LINE_HEIGHT + 2 * ACTOR_PAD_Y;

  // Columns -1 and n stand for the left and right edges of the drawing, so content beyond the first
  // or last lifeline widens the margins through the same constraints. minGap "i,j": smallest
  // distance between column i and column j > i.
  const minGap = new Map<string, number>();
  const need = (i: number, j: number, d: number): void => {
    const key = `${Math.max(i, -1)},${Math.min(j, n)}`;
    minGap.set(key, Math.max(minGap.get(key) ?? 0, d));
  };
  need(-1, 0, actorWidth[0]! / 2 + MARGIN);
  need(n - 1, n, actorWidth[n - 1]! / 2 + MARGIN);
  for (let i = 0; i + 1 < n; i++) need(i, i + 1, (actorWidth[i]! + actorWidth[i + 1]!) / 2 + ACTOR_GAP);
  for (const step of diagram.steps) {
    const w = textWidth(step.label);
    if (step.kind === 'message') {
      const [a, b] = [col(step.from), col(step.to)].sort((p, q) => p - q) as [number, number];
      if (a === b) need(a, a + 1, Math.max(SELF_WIDTH, w + 6) + LABEL_MARGIN);
      else need(a, b, w + 2 * LABEL_MARGIN);
    } else {
      const noteWidth = w + 2 * NOTE_PAD_X;
      const a = col(step.of[0]!);
      const b = col(step.of[1] ?? step.of[0]!);
      if (step.placement === 'left') need(a - 1, a, noteWidth + NOTE_OFFSET + LABEL_MARGIN);
      else if (step.placement === 'right') need(a, a + 1, noteWidth + NOTE_OFFSET + LABEL_MARGIN);
      else if (a === b) {
        need(a - 1, a, noteWidth / 2 + LABEL_MARGIN);
        need(a, a + 1, noteWidth / 2 + LABEL_MARGIN);
      } else need(a, b, noteWidth - 2 * NOTE_OVERHANG);
    }
  }
  // Longest path from the left edge: each column as far left as its constraints allow.
  const position = new Map<number, number>([[-1, 0]]);
  for (let j = 0; j <= n; j++) {
    let x = 0;
    for (let i = -1; i < j; i++) x = Math.max(x, position.get(i)! + (minGap.get(`${i},${j}`) ?? 0));
    position.set(j, x);
  }
  const xs = ids.map((_, i) => position.get(i)!);
  const width = position.get(n)!;

  // Vertical pass: one band per step.
  const items: ItemGeometry[] = [];
  let y = MARGIN + actorHeight + ROW_GAP;
  for (const step of diagram.steps) {
    const labelHeight = step.label.length * LINE_HEIGHT;
    if (step.kind === 'message') {
      const x1 = xs[col(step.from)]!;
      const x2 = xs[col(step.to)]!;
      const arrowY = y + labelHeight + LABEL_GAP;
      const { dashed, failed } = step;
      if (x1 === x2) {
        const label = step.label.length > 0 ? textBlock(step.label, x1 + 6, y, 'start') : undefined;
        items.push({ kind: 'self', x: x1, y: arrowY, w: SELF_WIDTH, h: SELF_HEIGHT, dashed, failed, label });
        y = arrowY + SELF_HEIGHT + ROW_GAP;
      } else {
        const label = step.label.length > 0 ? textBlock(step.label, (x1 + x2) / 2, y, 'middle') : undefined;
        items.push({ kind: 'message', x1, x2, y: arrowY, dashed, failed, label });
        y = arrowY + ROW_GAP;
      }
    } else {
      const a = xs[col(step.of[0]!)]!;
      const b = xs[col(step.of[1] ?? step.of[0]!)]!;
      const textW = textWidth(step.label);
      let w = textW + 2 * NOTE_PAD_X;
      let left: number;
      if (step.placement === 'left') left = a - NOTE_OFFSET - w;
      else if (step.placement === 'right') left = a + NOTE_OFFSET;
      else {
        w = Math.max(w, b - a + 2 * NOTE_OVERHANG);
        left = (a + b) / 2 - w / 2;
      }
      const box = { x: left, y, w, h: labelHeight + 2 * NOTE_PAD_Y };
      items.push({ kind: 'note', box, label: textBlock(step.label, left + w / 2, y + NOTE_PAD_Y, 'middle') });
      y += box.h + ROW_GAP;
    }
  }
  const bottomY = y - 4;

  const actors: ActorGeometry[] = diagram.participants.map((p, i) => {
    const x = xs[i]!;
    const w = actorWidth[i]!;
    const top = { x: x - w / 2, y: MARGIN, w, h: actorHeight };
    const bottom = { ...top, y: bottomY };
    const labelTop = (actorHeight - p.label.length * LINE_HEIGHT) / 2;
    return {
      id: p.id,
      x,
      top,
      bottom,
      topLabel: textBlock(p.label, x, MARGIN + labelTop, 'middle'),
      bottomLabel: textBlock(p.label, x, bottomY + labelTop, 'middle'),
    };
  });

  // Break each lifeline where a note or a label lies across it, instead of painting a background
  // behind them (a background colour would not follow the page's theme).
  const obstacles: Box[] = items.flatMap((item) => (item.kind === 'note' ? [item.box] : item.label ? [item.label.box] : []));
  const lifelines = xs.map((x) => {
    const segments: Array<[number, number]> = [];
    let from = MARGIN + actorHeight;
    const crossing = obstacles.filter((o) => o.x - 2 < x && x < o.x + o.w + 2).sort((p, q) => p.y - q.y);
    for (const o of crossing) {
      if (o.y - 2 > from) segments.push([from, o.y - 2]);
      from = Math.max(from, o.y + o.h + 2);
    }
    if (bottomY > from) segments.push([from, bottomY]);
    return { x, segments };
  });

  return { width, height: bottomY + actorHeight + MARGIN, actors, lifelines, items };
}
