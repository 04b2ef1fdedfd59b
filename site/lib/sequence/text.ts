// The diagram told in words, in French: the text alternative for screen readers and the
// "Version texte" under each figure.
import type { Diagram, Step } from './parse.ts';

const NNBSP = '\u202f'; // French puts a narrow no-break space before the colon

const joinLines = (lines: string[]): string => lines.join(', ');

export interface TextVersion {
  participants: string;
  steps: string[];
}

export function describeSequence(diagram: Diagram): TextVersion {
  const name = new Map(diagram.participants.map((p) => [p.id, p.label.join(' ')]));
  const who = (id: string): string => name.get(id) ?? id;
  const describe = (step: Step): string => {
    const text = joinLines(step.label);
    const said = text === '' ? '' : `${NNBSP}: ${text}`;
    if (step.kind === 'note') {
      const [a, b] = step.of as [string, string | undefined];
      const where =
        step.placement === 'left'
          ? `à gauche de ${who(a)}`
          : step.placement === 'right'
            ? `à droite de ${who(a)}`
            : b === undefined
              ? `sur ${who(a)}`
              : `sur ${who(a)} et ${who(b)}`;
      return `Note (${where})${said}`;
    }
    const kind = step.failed ? ' ✗ (échec)' : step.dashed ? ' (réponse)' : '';
    return `${who(step.from)} → ${who(step.to)}${kind}${said}`;
  };
  return {
    participants: `Participants${NNBSP}: ${diagram.participants.map((p) => who(p.id)).join(', ')}.`,
    steps: diagram.steps.map(describe),
  };
}

export function sequenceAsText(diagram: Diagram, title: string | undefined): string {
  const { participants, steps } = describeSequence(diagram);
  const heading = title === undefined ? [] : [`Diagramme de séquence${NNBSP}: ${title}`];
  return [...heading, participants, ...steps.map((step, i) => `${i + 1}. ${step}`)].join('\n');
}
