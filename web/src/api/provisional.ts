// Row types of resources the server's OpenAPI document does not describe yet, written from
// spec/balsam-api.md §3. `types.ts` uses the generated type instead as soon as
// `npm run gen:api` brings the resource's list route in; then delete its entry here.

export type ProvisionalJobState =
  | 'CREATED'
  | 'AWAITING_PARENTS'
  | 'READY'
  | 'STAGED_IN'
  | 'PREPROCESSED'
  | 'RUNNING'
  | 'RUN_DONE'
  | 'RUN_ERROR'
  | 'RUN_TIMEOUT'
  | 'RESTART_READY'
  | 'POSTPROCESSED'
  | 'STAGED_OUT'
  | 'JOB_FINISHED'
  | 'FAILED'

export interface ProvisionalBatchJob {
  id: number
  site_id: number
  scheduler_id: number | null
  project: string
  queue: string
  num_nodes: number
  wall_time_min: number
  job_mode: 'serial' | 'mpi'
  optional_params: Record<string, string>
  filter_tags: Record<string, string>
  partitions:
    { job_mode: 'serial' | 'mpi'; num_nodes: number; filter_tags: Record<string, string> }[] | null
  state:
    'pending_submission' | 'queued' | 'running' | 'finished' | 'submit_failed' | 'pending_deletion'
  status_info: Record<string, string>
  start_time: string | null
  end_time: string | null
}

export interface ProvisionalSession {
  id: number
  site_id: number
  batch_job_id: number | null
  heartbeat: string
}

export interface ProvisionalJob {
  id: number
  app_id: number
  workdir: string
  tags: Record<string, string>
  session_id?: number | null
  serialized_parameters: string
  serialized_return_value: string
  serialized_exception: string
  batch_job_id: number | null
  state: ProvisionalJobState
  last_update: string
  data: Record<string, unknown>
  return_code: number | null
  pending_file_cleanup: boolean
  parent_ids: number[]
  num_nodes: number
  ranks_per_node: number
  threads_per_rank: number
  threads_per_core: number
  gpus_per_rank: number
  node_packing_count: number
  wall_time_min: number
  launch_params: Record<string, string>
}

export interface ProvisionalTransferItem {
  id: number
  job_id: number
  direction: 'in' | 'out'
  local_path: string
  remote_path: string
  location_alias: string
  recursive: boolean
  state: 'awaiting_job' | 'pending' | 'active' | 'inactive' | 'done' | 'error'
  task_id: string
  transfer_info: Record<string, unknown>
}

export interface ProvisionalLogEvent {
  id: number
  job_id: number
  timestamp: string
  from_state: string
  to_state: string
  data: Record<string, unknown>
}
