// Draws a laid-out diagram as SVG. Colours come from the page (currentColor) or from --seq-*
// custom properties, so one drawing reads in light and dark themes; text uses the system
// monospace font the layout measured for, and nothing is fetched.
import type { Layout, TextBlock } from './layout.ts';
import { FONT_SIZE, LINE_HEIGHT } from './layout.ts';
import { el, round, type El } from './markup.ts';

// Written without quotes, < or & so it survives every pipeline unescaped. The rules are global
// once inlined in a page, hence the .seq prefix; they are the same for every diagram.
const STYLE = [
  '.seq{max-width:100%;height:auto}',
  `.seq text{font:${FONT_SIZE}px ui-monospace,SFMono-Regular,Menlo,Consolas,Liberation Mono,monospace;fill:currentColor;text-anchor:middle}`,
  '.seq .s{text-anchor:start}',
  '.seq .b{fill:var(--seq-actor-bg,rgba(127,127,127,.1));stroke:var(--seq-actor-border,currentColor);stroke-width:1.2}',
  '.seq .l{fill:none;stroke:var(--seq-lifeline,currentColor);stroke-opacity:.45;stroke-dasharray:3 4}',
  '.seq .m{fill:none;stroke:var(--seq-line,currentColor);stroke-width:1.5}',
  '.seq .r{stroke-dasharray:6 4}',
  '.seq .h{fill:var(--seq-line,currentColor)}',
  '.seq .x{fill:none;stroke:var(--seq-error,#e5484d);stroke-width:2.2}',
  '.seq .n{fill:var(--seq-note-bg,rgba(234,179,8,.14));stroke:var(--seq-note-border,rgba(202,138,4,.75))}',
].join('');

const ARROW_LENGTH = 9; // the marker's tip is this far beyond the end of its line
const CROSS_BEFORE = 12; // a failed message stops short of its target, with a cross

// Baseline of line k of a block: centred in its LINE_HEIGHT band.
const BASELINE = LINE_HEIGHT / 2 + FONT_SIZE * 0.35;

function text(block: TextBlock): El[] {
  return block.lines.map((line, k) =>
    el('text', { class: block.anchor === 'start' ? 's' : undefined, x: block.x, y: block.y + k * LINE_HEIGHT + BASELINE }, [line]),
  );
}

const rect = (cls: string, box: { x: number; y: number; w: number; h: number }, rx: number): El =>
  el('rect', { class: cls, x: box.x, y: box.y, width: box.w, height: box.h, rx });

export interface DrawOptions {
  id: string;
  /** When set, the SVG is an accessible image named by <title> and described by <desc>;
   *  otherwise it is hidden from assistive technology (the figure around it tells the same). */
  label?: { title: string; description: string } | undefined;
}

export function drawSequence(layout: Layout, options: DrawOptions): El {
  const { id } = options;
  const arrow = `url(#${id}-a)`;
  const cross = `url(#${id}-x)`;
  const body: El[] = [];

  const lifelines = layout.lifelines.flatMap((l) => l.segments.map(([a, b]) => `M${round(l.x)} ${round(a)}V${round(b)}`)).join('');
  if (lifelines !== '') body.push(el('path', { class: 'l', d: lifelines }));
  for (const actor of layout.actors) {
    body.push(rect('b', actor.top, 4), ...text(actor.topLabel), rect('b', actor.bottom, 4), ...text(actor.bottomLabel));
  }
  for (const item of layout.items) {
    if (item.kind === 'note') {
      body.push(rect('n', item.box, 3), ...text(item.label));
      continue;
    }
    const cls = item.dashed ? 'm r' : 'm';
    const marker = item.failed ? cross : arrow;
    const back = item.failed ? CROSS_BEFORE : ARROW_LENGTH; // how far the line stops before its target
    let d: string;
    if (item.kind === 'self') {
      d = `M${round(item.x)} ${round(item.y)}h${item.w}v${item.h}H${round(item.x + back)}`;
    } else {
      const dir = Math.sign(item.x2 - item.x1);
      d = `M${round(item.x1)} ${round(item.y)}H${round(item.x2 - dir * back)}`;
    }
    body.push(el('path', { class: cls, d, 'marker-end': marker }));
    if (item.label) body.push(...text(item.label));
  }

  const defs = el('defs', {}, [
    el(
      'marker',
      {
        id: `${id}-a`,
        viewBox: '0 0 10 10',
        refX: 1,
        refY: 5,
        markerWidth: 10,
        markerHeight: 10,
        markerUnits: 'userSpaceOnUse',
        orient: 'auto',
      },
      [el('path', { class: 'h', d: 'M0 1.5L10 5L0 8.5z' })],
    ),
    el(
      'marker',
      { id: `${id}-x`, viewBox: '0 0 10 10', refX: 5, refY: 5, markerWidth: 10, markerHeight: 10, markerUnits: 'userSpaceOnUse' },
      [el('path', { class: 'x', d: 'M1 1L9 9M9 1L1 9' })],
    ),
  ]);

  const width = Math.ceil(layout.width);
  const height = Math.ceil(layout.height);
  const label = options.label;
  const accessible = label ? { role: 'img', 'aria-labelledby': `${id}-t ${id}-d` } : { 'aria-hidden': 'true' };
  const described = label ? [el('title', { id: `${id}-t` }, [label.title]), el('desc', { id: `${id}-d` }, [label.description])] : [];
  return el('svg', { xmlns: 'http://www.w3.org/2000/svg', class: 'seq', viewBox: `0 0 ${width} ${height}`, width, height, ...accessible }, [
    ...described,
    el('style', {}, [STYLE]),
    defs,
    ...body,
  ]);
}
