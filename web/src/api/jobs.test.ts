import { describe, expect, it, vi } from 'vitest'

import { deleteJobs, IDS_PER_DELETE, listJobs, setJobStates } from './jobs'

function answer(status: number, body: string | null, headers: Record<string, string> = {}) {
  const seen: Request[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn((request: Request) => {
      seen.push(request)
      return Promise.resolve(new Response(body, { status, headers }))
    }),
  )
  return seen
}

describe('jobs API', () => {
  it('lists with repeated keys and reads the snapshot seq', async () => {
    const seen = answer(200, '{"count":0,"results":[]}', {
      'Content-Type': 'application/json',
      'X-Balsam-Seq': '12',
    })
    await expect(listJobs({ state: ['RUNNING', 'FAILED'], limit: 5 })).resolves.toEqual({
      count: 0,
      results: [],
      seq: 12,
    })
    expect(new URL(seen[0]?.url ?? '').search).toBe('?state=RUNNING&state=FAILED&limit=5')
  })

  it('sets states with one PATCH of {id, state} items', async () => {
    const seen = answer(200, '2')
    await setJobStates([4, 5], 'RESTART_READY')

    expect(seen[0]?.method).toBe('PATCH')
    expect(await seen[0]?.json()).toEqual([
      { id: 4, state: 'RESTART_READY' },
      { id: 5, state: 'RESTART_READY' },
    ])
  })

  it('deletes by id in URL-sized chunks', async () => {
    const seen = answer(204, null)
    const ids = Array.from({ length: IDS_PER_DELETE + 1 }, (_, i) => i + 1)
    await deleteJobs(ids)

    expect(seen).toHaveLength(2)
    expect(seen[0]?.method).toBe('DELETE')
    expect(new URL(seen[1]?.url ?? '').search).toBe(`?id=${IDS_PER_DELETE + 1}`)
    expect(new URL(seen[0]?.url ?? '').searchParams.getAll('id')).toHaveLength(IDS_PER_DELETE)
  })

  it('throws the server’s message when an action is refused', async () => {
    answer(400, '{"detail":"Could not find some Job IDs"}', { 'Content-Type': 'application/json' })
    await expect(setJobStates([9], 'FAILED')).rejects.toThrow()
  })
})
