// The event stream's state, for the connection indicator: honest about when it is not live.
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
}

export const useConnectionStore = defineStore('connection', () => {
  const status = ref<ConnectionStatus>({
    phase: 'idle',
    since: Date.now(),
    attempt: 0,
    retryAt: null,
  })
  let retryNow: () => void = () => undefined

  function set(next: ConnectionStatus) {
    status.value = next
  }

  /** The event stream registers how to skip the back-off wait. */
  function onRetryRequest(handler: () => void) {
    retryNow = handler
  }

  function requestRetry() {
    retryNow()
  }

  return { status, set, onRetryRequest, requestRetry }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useConnectionStore, import.meta.hot))
