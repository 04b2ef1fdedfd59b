// The state badge of a lab panel, as pure functions: the words for a state, and once the lab's terminals
// are attached, the state they add up to (the worst of them).
import type { ConnectionState } from './connection.ts';
import { START_LABEL, STATE_LABEL, STATE_LABEL_ELSEWHERE, type PanelState, type StartStep } from './strings.ts';

export interface Badge {
  state: PanelState;
  /** the badge's words, e.g. « prêt », « déconnecté (reconnexion…) » */
  label: string;
}

/** A state with its usual words. */
export function stateBadge(state: PanelState): Badge {
  return { state, label: STATE_LABEL[state] };
}

/** 'starting' at a step of the start (« démarrage : réseau »), or without one known yet (« démarrage… »). */
export function startingBadge(step: StartStep | undefined): Badge {
  return step ? { state: 'starting', label: START_LABEL[step] } : stateBadge('starting');
}

/** One of the lab's terminals: its connection, and whether it has been open since the lab was attached. */
export interface TerminalState {
  state: ConnectionState | 'none';
  wasOpen: boolean;
}

/**
 * The badge of a lab whose terminals are attached: an error if one failed; « déconnecté » while one
 * waits to reconnect, or connects again after it had been open; « démarrage… » while terminals connect
 * for the first time; « déconnecté (ouvert ailleurs) » when another tab took them (no automatic
 * reconnection); else « prêt ». A terminal not connected yet ('none') counts for nothing.
 * (« démarrage… » here is the start's last step: the lifecycle words it « démarrage : terminal ».)
 */
export function terminalsBadge(terminals: readonly TerminalState[]): Badge {
  const has = (s: ConnectionState) => terminals.some((t) => t.state === s);
  if (has('failed')) return stateBadge('error');
  if (has('waiting') || terminals.some((t) => t.state === 'connecting' && t.wasOpen)) return stateBadge('disconnected');
  if (has('connecting')) return stateBadge('starting');
  if (has('replaced')) return { state: 'disconnected', label: STATE_LABEL_ELSEWHERE };
  return stateBadge('ready');
}
