// Sequence diagrams rendered at build time: source text in, inline SVG + text version out.
import { parseSequence, type Diagram } from './parse.ts';
import { layoutSequence, type Layout } from './layout.ts';
import { drawSequence } from './svg.ts';
import { describeSequence, sequenceAsText } from './text.ts';
import { el, toHtml, type El } from './markup.ts';
import { frenchText } from '../french-typography.ts';

export { parseSequence, SequenceSyntaxError } from './parse.ts';
export type { Diagram } from './parse.ts';
export { layoutSequence } from './layout.ts';

export interface SequenceOptions {
  /** Shown as the figure caption; overrides a `title:` line of the source. */
  title?: string | undefined;
  /** Prefix of the ids inside the SVG; defaults to a hash of the source and title. Must be unique
   *  in the page. */
  id?: string | undefined;
}

export interface RenderedSequence {
  /** A standalone accessible SVG (role="img", <title> and <desc>). */
  svg: string;
  /** The diagram in words, in French. */
  text: string;
  /** <figure> with caption, the SVG and a collapsible text version. */
  html: string;
}

/** FNV-1a, enough to give each diagram of a page its own marker ids. */
export function sequenceId(source: string, title = ''): string {
  let hash = 0x811c9dc5;
  for (const char of `${title}\u0000${source}`) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `seq-${hash.toString(36)}`;
}

interface Prepared {
  diagram: Diagram;
  layout: Layout;
  title: string | undefined;
  id: string;
}

/** French typography on every text of the diagram (labels, notes, title), before layout measures them. */
function inFrench(diagram: Diagram): Diagram {
  const lines = (label: string[]) => label.map(frenchText);
  return {
    title: diagram.title === undefined ? undefined : frenchText(diagram.title),
    participants: diagram.participants.map((p) => ({ ...p, label: lines(p.label) })),
    steps: diagram.steps.map((s) => ({ ...s, label: lines(s.label) })),
  };
}

function prepare(source: string, options: SequenceOptions): Prepared {
  const diagram = inFrench(parseSequence(source));
  const given = options.title === undefined ? undefined : frenchText(options.title);
  const title = (given ?? diagram.title)?.trim() || undefined; // an empty title is no title
  return { diagram, layout: layoutSequence(diagram), title, id: options.id ?? sequenceId(source, title) };
}

function figure({ diagram, layout, title, id }: Prepared): El {
  const words = describeSequence(diagram);
  // With a caption, the SVG is hidden from screen readers: the caption names the figure and the
  // text version tells its content, so nothing is announced twice. Without one, the SVG itself is
  // the named image.
  const svg = drawSequence(layout, {
    id,
    label: title === undefined ? { title: 'Diagramme de séquence', description: sequenceAsText(diagram, undefined) } : undefined,
  });
  return el('figure', { class: 'sequence-diagram' }, [
    ...(title === undefined ? [] : [el('figcaption', {}, [title])]),
    svg,
    el('details', {}, [
      el('summary', {}, ['Version texte du diagramme']),
      el('p', {}, [words.participants]),
      el(
        'ol',
        {},
        words.steps.map((step) => el('li', {}, [step])),
      ),
    ]),
  ]);
}

/** The figure as an element tree, for the Markdown pipeline (see remark.ts). */
export function sequenceFigure(source: string, options: SequenceOptions = {}): El {
  return figure(prepare(source, options));
}

export function renderSequence(source: string, options: SequenceOptions = {}): RenderedSequence {
  const prepared = prepare(source, options);
  const { diagram, layout, title, id } = prepared;
  const text = sequenceAsText(diagram, title);
  const svg = drawSequence(layout, {
    id,
    label: { title: title ?? 'Diagramme de séquence', description: sequenceAsText(diagram, undefined) },
  });
  return { svg: toHtml(svg), text, html: toHtml(figure(prepared)) };
}
