// A full Site row, as the server sends it, for tests.
import type { Site } from '@/api/types'

export function makeSite(id: number, name: string, overrides: Partial<Site> = {}): Site {
  return {
    id,
    name,
    path: `/p/${name}`,
    globus_endpoint_id: null,
    backfill_windows: {},
    queued_jobs: {},
    optional_batch_job_params: {},
    allowed_projects: [],
    allowed_queues: {},
    transfer_locations: {},
    last_refresh: '2026-11-29T17:00:00',
    creation_date: '2026-11-29T17:00:00',
    ...overrides,
  }
}
