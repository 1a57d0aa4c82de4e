// Node-weighted charts need each job's size: jobs the store does not hold yet are fetched by
// id (500 per GET), each id asked for at most once by this component.
import { watch } from 'vue'

import { IDS_PER_DELETE } from '@/api/jobs'
import { useJobsStore } from '@/stores/jobs'

/** How many unknown jobs one component fetches at most (the rest count as 1 node). */
export const MAX_WEIGHTS_FETCHED = 5_000

export function useJobWeights(jobIds: () => Iterable<number>): void {
  const jobs = useJobsStore()
  const asked = new Set<number>()
  watch(
    jobIds,
    (ids) => {
      const missing: number[] = []
      for (const id of ids) {
        if (asked.size >= MAX_WEIGHTS_FETCHED) break
        if (asked.has(id) || jobs.byId[id] !== undefined) continue
        asked.add(id)
        missing.push(id)
      }
      for (let i = 0; i < missing.length; i += IDS_PER_DELETE) {
        const part = missing.slice(i, i + IDS_PER_DELETE).sort((a, b) => a - b)
        void jobs.load({ id: part, limit: part.length })
      }
    },
    { immediate: true },
  )
}
