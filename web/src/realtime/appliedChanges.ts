// Who wants to know after each batch of events is applied (say, to refresh numbers the events
// do not carry, like per-Site state counts). Separate from eventStream.ts so stores can
// listen without importing the module that imports them.
import type { ResourceChange } from './change'

type Listener = (changes: readonly ResourceChange[]) => void

const listeners = new Set<Listener>()

/** Calls `listener` after each applied batch; returns an unsubscribe. */
export function onAppliedChanges(listener: Listener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** Called by the event stream once a batch is in the stores. */
export function notifyApplied(changes: readonly ResourceChange[]): void {
  for (const listener of listeners) listener(changes)
}
