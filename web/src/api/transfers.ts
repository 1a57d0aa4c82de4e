// Named calls on `/api/v1/transfers/`.
import { api, unwrap } from './client'
import type { TransferItemQuery } from './types'

/** One page of `GET /api/v1/transfers/`: `{count, results}`. */
export async function listTransferItems(query: TransferItemQuery = {}) {
  return unwrap(await api.GET('/transfers/', { params: { query } }))
}
