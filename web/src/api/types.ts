// Wire types, read off the generated `paths` by route rather than by schema name, so they
// survive a rename of the server's schema components.
import type { paths } from './schema'

type JsonBody<R> = R extends { content: { 'application/json': infer T } } ? T : never
type Success<O> = O extends { responses: infer R }
  ? R extends { 200: infer X }
    ? JsonBody<X>
    : R extends { 201: infer X }
      ? JsonBody<X>
      : never
  : never

/** The JSON a successful call of `method` on `path` returns. */
export type ResponseOf<P extends keyof paths, M extends keyof paths[P]> = Success<paths[P][M]>

/** The query parameters `method` on `path` takes. */
export type QueryOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  parameters: { query?: infer Q }
}
  ? NonNullable<Q>
  : never

/** The row type of a paginated list route. */
type ListItem<P extends keyof paths> =
  ResponseOf<P, 'get' & keyof paths[P]> extends { results: (infer T)[] } ? T : never

export type Site = ListItem<'/sites/'>
export type App = ListItem<'/apps/'>
export type BatchJob = ListItem<'/batch-jobs/'>
export type BalsamSession = ListItem<'/sessions/'>
export type Job = ListItem<'/jobs/'>
export type TransferItem = ListItem<'/transfers/'>
export type LogEvent = ListItem<'/events/'>

export type SiteQuery = QueryOf<'/sites/', 'get'>
export type AppQuery = QueryOf<'/apps/', 'get'>
export type BatchJobQuery = QueryOf<'/batch-jobs/', 'get'>
export type SessionQuery = QueryOf<'/sessions/', 'get'>
export type JobQuery = QueryOf<'/jobs/', 'get'>
export type TransferItemQuery = QueryOf<'/transfers/', 'get'>
export type LogEventQuery = QueryOf<'/events/', 'get'>

export type JobState = Job['state']
export type AppParameter = App['parameters'][string]
export type TransferSlot = App['transfers'][string]
/** Per-Site job counts by state (`GET /jobs/state-counts`). */
export type SiteStateCounts = ResponseOf<'/jobs/state-counts', 'get'>[number]
export type User = ResponseOf<'/auth/password/me', 'get'>
export type LoginResponse = ResponseOf<'/auth/password/login', 'post'>
