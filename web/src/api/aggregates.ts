// Named calls on `/api/v1/aggregates/…`: the dashboard's charts, bucketed by the server.
import { api, unwrap } from './client'
import type { ResponseOf } from './types'

export type ThroughputAggregate = ResponseOf<'/aggregates/throughput', 'get'>
export type UtilizationAggregate = ResponseOf<'/aggregates/utilization', 'get'>
export type AggregateWindowName = 'hour' | 'day' | 'week'

export async function fetchThroughput(window: AggregateWindowName): Promise<ThroughputAggregate> {
  return unwrap(await api.GET('/aggregates/throughput', { params: { query: { window } } }))
}

export async function fetchUtilization(window: AggregateWindowName): Promise<UtilizationAggregate> {
  return unwrap(await api.GET('/aggregates/utilization', { params: { query: { window } } }))
}
