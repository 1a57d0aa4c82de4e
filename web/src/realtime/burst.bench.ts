// `npm run bench`: the cost of a 5 000-job bulk update (5 events of 1 000 jobs), from socket
// frames to the Jobs view's page, as the event stream applies it (one batch per frame).
import { createPinia, setActivePinia } from 'pinia'
import { bench, describe } from 'vitest'
import { computed } from 'vue'

import { parseServerFrame, type ResourceChange } from '@/realtime/change'
import { livePage } from '@/domain/jobQuery'
import { useJobsStore } from '@/stores/jobs'
import { jobBurst, RUNNING_JOBS_PAGE } from '@/test-support/jobFactory'

const JOBS = 5_000
const filters = RUNNING_JOBS_PAGE

setActivePinia(createPinia())
const jobs = useJobsStore()
for (const event of jobBurst(JOBS, 1, 'READY', 'bulk-create')) jobs.apply(event)
const page = computed(() =>
  livePage({ ids: [], count: 0, at: 0 }, jobs.byId, jobs.all, filters, () => 1),
)
let seq = 10
const states = ['RUNNING', 'RUN_DONE'] as const

function frames(): string[] {
  const state = states[seq % 2] ?? 'RUNNING'
  const events = jobBurst(JOBS, seq, state)
  seq += events.length
  return events.map((event) => JSON.stringify(event))
}

describe(`${JOBS} jobs updated in 5 events`, () => {
  let text = frames()
  bench(
    'parse + apply as one batch + recompute the Jobs page',
    () => {
      const batch: ResourceChange[] = []
      for (const frame of text) {
        const parsed = parseServerFrame(frame)
        if (parsed?.op === 'event') batch.push(parsed.change)
      }
      for (const change of batch) jobs.apply(change)
      void page.value.rows.length
    },
    { setup: () => void (text = frames()), iterations: 30, warmupIterations: 3 },
  )
})
