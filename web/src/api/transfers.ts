// Named calls on `/api/v1/transfers/`.
import { api, unwrapList } from './client'
import type { TransferItemQuery } from './types'

/** One page of `GET /api/v1/transfers/`: `{count, results}` and its snapshot `seq`. */
export async function listTransferItems(query: TransferItemQuery = {}) {
  return unwrapList(await api.GET('/transfers/', { params: { query } }))
}
