import { describe, expect, it } from 'vitest'
import { defineComponent, h, nextTick } from 'vue'

import { mountView, storeLogin } from '@/test-support/mountView'

import { useQueryParam } from './useQueryParam'
import { formatSort, parseSort, useSortParam } from './useSortParam'

describe('sort parameter', () => {
  it('reads and writes `key` / `-key`, refusing unknown keys', () => {
    expect(parseSort('-lastRefresh', ['name', 'lastRefresh'])).toEqual([
      { key: 'lastRefresh', order: 'desc' },
    ])
    expect(parseSort('name', ['name'])).toEqual([{ key: 'name', order: 'asc' }])
    expect(parseSort('secret', ['name'])).toEqual([])
    expect(formatSort([{ key: 'name', order: 'desc' }])).toBe('-name')
    expect(formatSort([{ key: 'name' }])).toBe('name')
    expect(formatSort([])).toBe('')
  })
})

describe('query parameters in the URL', () => {
  it('reflect the URL and write back to it, dropping defaults', async () => {
    storeLogin()
    let search!: ReturnType<typeof useQueryParam>
    let sort!: ReturnType<typeof useSortParam>
    const Probe = defineComponent({
      setup() {
        search = useQueryParam('q')
        sort = useSortParam('sort', ['name'])
        return () => h('div')
      },
    })
    const { router } = await mountView(Probe, { at: '/sites?q=theta&sort=-name' })
    expect(search.value).toBe('theta')
    expect(sort.value).toEqual([{ key: 'name', order: 'desc' }])

    search.value = 'aurora'
    sort.value = [{ key: 'name', order: 'asc' }]
    await nextTick()
    await router.isReady()
    await new Promise((resolve) => setTimeout(resolve))
    expect(router.currentRoute.value.query).toEqual({ q: 'aurora', sort: 'name' })

    search.value = ''
    await new Promise((resolve) => setTimeout(resolve))
    expect(router.currentRoute.value.query).toEqual({ sort: 'name' })
  })
})
