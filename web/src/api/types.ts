// Wire types, read off the generated `paths` by route rather than by schema name, so they
// survive a rename of the server's schema components. Resources whose routes the server's
// OpenAPI document lacks so far fall back to `provisional.ts` and switch over by themselves
// once `npm run gen:api` brings their route in.
import type {
  ProvisionalBatchJob,
  ProvisionalJob,
  ProvisionalLogEvent,
  ProvisionalSession,
  ProvisionalTransferItem,
} from './provisional'
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

/** The row type of a list route, or `Fallback` while the document lacks that route. */
type ListItem<P extends string, Fallback = never> = P extends keyof paths
  ? ResponseOf<P, 'get' & keyof paths[P]> extends { results: (infer T)[] }
    ? T
    : Fallback
  : Fallback

export type Site = ListItem<'/sites/'>
export type App = ListItem<'/apps/'>
export type BatchJob = ListItem<'/batch-jobs/', ProvisionalBatchJob>
export type BalsamSession = ListItem<'/sessions/', ProvisionalSession>
export type Job = ListItem<'/jobs/', ProvisionalJob>
export type TransferItem = ListItem<'/transfers/', ProvisionalTransferItem>
export type LogEvent = ListItem<'/events/', ProvisionalLogEvent>

export type SiteQuery = QueryOf<'/sites/', 'get'>
export type AppQuery = QueryOf<'/apps/', 'get'>

export type JobState = Job['state']
export type AppParameter = App['parameters'][string]
export type TransferSlot = App['transfers'][string]
export type User = ResponseOf<'/auth/password/me', 'get'>
export type LoginResponse = ResponseOf<'/auth/password/login', 'post'>
