// Full Job rows and job events, as the server sends them, for tests and benchmarks.
import type { Job, JobState } from '@/api/types'
import { parseJobFilters } from '@/domain/jobQuery'
import type { ResourceChange } from '@/realtime/change'

export function makeJob(id: number, state: JobState = 'READY', overrides: Partial<Job> = {}): Job {
  return {
    id,
    app_id: 1,
    workdir: `w/${id}`,
    tags: {},
    serialized_parameters: '',
    serialized_return_value: '',
    serialized_exception: '',
    state,
    last_update: '2026-11-29T17:02:03.408584+00:00',
    data: {},
    pending_file_cleanup: true,
    parent_ids: [],
    num_nodes: 1,
    ranks_per_node: 1,
    threads_per_rank: 1,
    threads_per_core: 1,
    gpus_per_rank: 0,
    node_packing_count: 1,
    wall_time_min: 0,
    launch_params: {},
    ...overrides,
  }
}

/**
 * `total` jobs (ids 1…total) moved to `state`, as the server emits a bulk change: one
 * `bulk-update` event per 1 000 jobs, numbered from `firstSeq`.
 */
export function jobBurst(
  total: number,
  firstSeq: number,
  state: JobState,
  action: ResourceChange['action'] = 'bulk-update',
): (ResourceChange & { seq: number })[] {
  const events: (ResourceChange & { seq: number })[] = []
  for (let start = 1; start <= total; start += 1_000) {
    const data: Job[] = []
    for (let id = start; id < Math.min(start + 1_000, total + 1); id += 1) {
      data.push(makeJob(id, state, { tags: { batch: String(id % 7) } }))
    }
    events.push({ seq: firstSeq + events.length, action, type: 'job', data })
  }
  return events
}

/** The Jobs view's default page (50 newest first) filtered to RUNNING jobs. */
export const RUNNING_JOBS_PAGE = parseJobFilters({
  site: [],
  app: '',
  batch_job: '',
  state: ['RUNNING'],
  tag: [],
  sort: '',
  page: '',
  per: '',
})
