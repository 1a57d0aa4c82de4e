// The columns a job table can show, in their order; `sortable` ones map to a server ordering.
export const JOB_COLUMNS = [
  { title: 'Id', key: 'id', sortable: true },
  { title: 'State', key: 'state', sortable: true },
  { title: 'App', key: 'app', sortable: false },
  { title: 'Site', key: 'site', sortable: false },
  { title: 'Workdir', key: 'workdir', sortable: true },
  { title: 'Tags', key: 'tags', sortable: false },
  { title: 'Last update', key: 'last_update', sortable: true },
] as const

export type JobColumnKey = (typeof JOB_COLUMNS)[number]['key']
