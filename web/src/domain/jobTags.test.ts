import { describe, expect, it } from 'vitest'

import {
  commonTags,
  mergeTags,
  tagChanges,
  tagChangesEach,
  tagsFromRows,
  type Tags,
} from './jobTags'

describe('job tag edits', () => {
  it('starts from the tags every job shares', () => {
    const tagSets: Tags[] = [{ exp: 'a', run: '1' }, { exp: 'a', run: '2' }, { exp: 'a' }]
    expect(commonTags(tagSets)).toEqual({
      exp: 'a',
    })
    expect(commonTags([])).toEqual({})
  })

  it('says what a replacement removes, changes and adds', () => {
    const current: Tags[] = [{ exp: 'a', run: '1' }, { exp: 'a', run: '2' }, { exp: 'b' }]
    expect(tagChanges(current, { exp: 'a', stage: 'x' })).toEqual([
      'Removes run=1 from 1 of 3 jobs.',
      'Removes run=2 from 1 of 3 jobs.',
      'Changes exp to a on 1 of 3 jobs.',
      'Adds stage=x to all 3 jobs.',
    ])
    expect(tagChanges([{ exp: 'a' }], { exp: 'a' })).toEqual([])
  })

  it('merges per job: adding one tag keeps every tag the jobs do not share', () => {
    const current: Tags[] = [
      { exp: 'a', run: '1' },
      { exp: 'a', run: '2' },
    ]
    const start = commonTags(current) // { exp: 'a' }
    const next = { exp: 'a', stage: 'x' }
    expect(current.map((tags) => mergeTags(tags, start, next))).toEqual([
      { exp: 'a', run: '1', stage: 'x' },
      { exp: 'a', run: '2', stage: 'x' },
    ])
    expect(tagChangesEach(current, (tags) => mergeTags(tags, start, next))).toEqual([
      'Adds stage=x to all 2 jobs.',
    ])
    // Removing a shared tag from the list removes it from each job, and nothing else.
    expect(mergeTags({ exp: 'a', run: '1' }, start, {})).toEqual({ run: '1' })
  })

  it('refuses rows that cannot be tags', () => {
    expect(
      tagsFromRows([
        { key: ' exp ', value: 'a' },
        { key: '', value: '' },
      ]),
    ).toEqual({
      tags: { exp: 'a' },
    })
    expect(tagsFromRows([{ key: '', value: 'a' }])).toHaveProperty('error')
    expect(tagsFromRows([{ key: 'a:b', value: 'c' }])).toHaveProperty('error')
    expect(
      tagsFromRows([
        { key: 'x', value: '1' },
        { key: 'x', value: '2' },
      ]),
    ).toEqual({ error: 'Tag x is given twice' })
  })
})
