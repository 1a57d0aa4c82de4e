// The event stream's state, for the connection indicator (honest about when it is not live)
// and for the views, which reload what they show when `reloads` grows.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref } from 'vue'

export type ConnectionPhase = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'rejected'

export interface ConnectionStatus {
  phase: ConnectionPhase
  /** Epoch ms when this phase began; for `reconnecting`, when the connection was lost. */
  since: number
  /** Failed attempts since the last stable connection. */
  attempt: number
  /** Epoch ms of the next attempt while `reconnecting`. */
  retryAt: number | null
  /** The last event sequence number applied: where a reconnect resumes (`null`: nowhere). */
  lastSeq: number | null
  /** Epoch ms of the last `resync` (the server could not replay what was missed). */
  resyncedAt: number | null
  /**
   * While `live`: epoch ms of the last frame, once a heartbeat is overdue (the socket may be
   * dead; it is replaced when the silence lasts 2.5 heartbeats). `null`: frames are on time.
   */
  stalledSince: number | null
  /** The browser says it has no network (`offline` event): reconnecting cannot succeed yet. */
  browserOffline: boolean
  /** The user paused live updates: events are held, not applied. */
  paused: boolean
  /** Events held while paused. */
  queued: number
}

export function initialStatus(now = Date.now()): ConnectionStatus {
  return {
    phase: 'idle',
    since: now,
    attempt: 0,
    retryAt: null,
    lastSeq: null,
    resyncedAt: null,
    stalledSince: null,
    browserOffline: false,
    paused: false,
    queued: 0,
  }
}

/** Why the views must reload what they show: a fresh start, or a resync after a gap. */
export type ReloadReason = 'fresh' | 'resync'

export const useConnectionStore = defineStore('connection', () => {
  const status = ref<ConnectionStatus>(initialStatus())
  /** Grows each time what was fetched may have missed changes; views reload on growth. */
  const reloads = ref(0)
  const lastReloadReason = ref<ReloadReason | null>(null)
  let retryNow: () => void = () => undefined
  let pause: (on: boolean) => void = () => undefined

  function set(next: ConnectionStatus) {
    status.value = next
  }

  function noteReload(reason: ReloadReason) {
    lastReloadReason.value = reason
    reloads.value += 1
  }

  /** The event stream registers how to skip the back-off wait. */
  function onRetryRequest(handler: () => void) {
    retryNow = handler
  }

  function requestRetry() {
    retryNow()
  }

  /** The event stream registers how to pause and resume applying events. */
  function onPauseRequest(handler: (on: boolean) => void) {
    pause = handler
  }

  function setPaused(on: boolean) {
    pause(on)
  }

  return {
    status,
    reloads,
    lastReloadReason,
    set,
    noteReload,
    onRetryRequest,
    requestRetry,
    onPauseRequest,
    setPaused,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useConnectionStore, import.meta.hot))
