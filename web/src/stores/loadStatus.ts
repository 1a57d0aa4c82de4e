// Loading/error bookkeeping shared by the resource stores' `load` actions.
import { computed, ref } from 'vue'

import { getMemo, memoKey } from '@/api/getMemo'

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message
  return 'Something went wrong'
}

/**
 * `fetchOnce(path, query, fetch)` runs a GET through the memo and records its outcome:
 * `error` holds the last failure's message until a load succeeds; `loaded` turns true
 * after the first success. Failures are recorded, not thrown: views show `error`.
 */
export function useLoadStatus() {
  const inFlight = ref(0)
  const error = ref<string | null>(null)
  const loaded = ref(false)
  const loading = computed(() => inFlight.value > 0)

  async function fetchOnce(path: string, query: object, fetch: () => Promise<void>) {
    inFlight.value += 1
    try {
      await getMemo.run(memoKey(path, query), fetch)
      error.value = null
      loaded.value = true
      return true
    } catch (failure) {
      error.value = describeError(failure)
      return false
    } finally {
      inFlight.value -= 1
    }
  }

  function resetStatus() {
    error.value = null
    loaded.value = false
  }

  return { loading, error, loaded, fetchOnce, resetStatus }
}
