// Who wants to know after each batch of events is applied (say, to refresh numbers the events
// do not carry, like per-Site state counts). Separate from eventStream.ts so stores can
// listen without importing the module that imports them.
import type { ResourceChange } from './change'

type Listener = (changes: readonly ResourceChange[]) => void
type ArrivingListener = (change: ResourceChange) => void

const listeners = new Set<Listener>()
const arriving = new Set<ArrivingListener>()

/**
 * Calls `listener` with each change just before the stores apply it (what a delete removes
 * is only readable then); returns an unsubscribe.
 */
export function onChangeArriving(listener: ArrivingListener): () => void {
  arriving.add(listener)
  return () => arriving.delete(listener)
}

/** Called by the event stream before it applies `change`. */
export function notifyArriving(change: ResourceChange): void {
  for (const listener of arriving) listener(change)
}

/** Calls `listener` after each applied batch; returns an unsubscribe. */
export function onAppliedChanges(listener: Listener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** Called by the event stream once a batch is in the stores. */
export function notifyApplied(changes: readonly ResourceChange[]): void {
  for (const listener of listeners) listener(changes)
}
