import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'

import { listSessions } from '@/api/sessions'
import { listSites } from '@/api/sites'
import type { Site } from '@/api/types'
import { freezeClockAt, mountView, storeLogin } from '@/test-support/mountView'

import SessionsView from './SessionsView.vue'

vi.mock('@/api/sessions')
vi.mock('@/api/sites')

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0)
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace('Z', '')

freezeClockAt(NOW)

describe('SessionsView', () => {
  it('flags a Session quiet for over 2 minutes, with when the server will expire it', async () => {
    vi.mocked(listSites).mockResolvedValue({
      count: 1,
      results: [{ id: 1, name: 'theta', path: '/p', last_refresh: ago(0) } as unknown as Site],
    })
    vi.mocked(listSessions).mockResolvedValue({
      count: 2,
      results: [
        { id: 1, site_id: 1, batch_job_id: 9, heartbeat: ago(30_000) },
        { id: 2, site_id: 1, batch_job_id: null, heartbeat: ago(3.5 * 60_000) },
      ],
    })
    storeLogin()
    const { wrapper } = await mountView(SessionsView, { at: '/sessions' })
    await flushPromises()
    const rows = wrapper.findAll('tbody tr')

    expect(rows[0]?.text()).toContain('Quiet · expires in 2 min')
    expect(rows[1]?.text()).toContain('Ticking')
    expect(rows[1]?.text()).toContain('theta')
    expect(rows[1]?.find('a').attributes('href')).toBe('/jobs?batch_job=9')
  })
})
