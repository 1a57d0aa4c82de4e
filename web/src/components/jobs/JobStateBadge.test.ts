import { afterEach, describe, expect, it } from 'vitest'

import { JOB_STATE_GROUPS } from '@/domain/jobStates'
import { mountView } from '@/test-support/mountView'

import JobStateBadge from './JobStateBadge.vue'

afterEach(() => {
  document.body.innerHTML = ''
})

describe('JobStateBadge', () => {
  it.each([
    ['RUNNING', 'running'],
    ['RUN_TIMEOUT', 'trouble'],
    ['FAILED', 'failed'],
    ['JOB_FINISHED', 'done'],
  ] as const)('shows %s as text, coloured as the %s group', async (state, group) => {
    const { wrapper } = await mountView(JobStateBadge, { at: '/login', props: { state } })

    const badge = wrapper.find('.job-state')
    expect(badge.text()).toBe(state)
    expect(badge.classes()).toContain(`job-state--${group}`)
    expect(badge.classes()).toContain(`bg-state-${group}`)
  })

  it('puts every state in one of the seven UX.md groups', () => {
    expect(new Set(Object.values(JOB_STATE_GROUPS))).toEqual(
      new Set(['waiting', 'runnable', 'running', 'finishing', 'done', 'trouble', 'failed']),
    )
    expect(Object.keys(JOB_STATE_GROUPS)).toHaveLength(14)
  })
})
