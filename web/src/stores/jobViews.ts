// The Jobs view's personal settings, kept in this browser (localStorage): which optional
// columns are hidden, and saved views (a name for a set of filters and an ordering, i.e. a
// Jobs URL's query). Shared by tabs through the `storage` event.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref } from 'vue'
import type { LocationQuery } from 'vue-router'

export const COLUMNS_KEY = 'balsam.jobs.hiddenColumns'
export const VIEWS_KEY = 'balsam.jobs.savedViews'
/** Columns that cannot be hidden: a row must say which job it is and its state. */
export const FIXED_COLUMNS = new Set(['id', 'state'])

export interface SavedView {
  name: string
  query: Record<string, string | string[]>
}

function read<T>(key: string, valid: (value: unknown) => value is T, fallback: T): T {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(key) ?? 'null')
    return valid(value) ? value : fallback
  } catch {
    return fallback
  }
}

const isStringList = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string')
const isViewList = (v: unknown): v is SavedView[] =>
  Array.isArray(v) &&
  v.every(
    (x) =>
      typeof x === 'object' &&
      x !== null &&
      typeof (x as SavedView).name === 'string' &&
      typeof (x as SavedView).query === 'object',
  )

/** A Jobs URL's query without its page: what a saved view keeps. */
export function viewQuery(query: LocationQuery): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [key, value] of Object.entries(query)) {
    if (key === 'page' || value === null || value === undefined) continue
    out[key] = Array.isArray(value)
      ? value.filter((v): v is string => typeof v === 'string')
      : value
  }
  return out
}

export const useJobViewsStore = defineStore('jobViews', () => {
  const hidden = ref<string[]>(read(COLUMNS_KEY, isStringList, []))
  const views = ref<SavedView[]>(read(VIEWS_KEY, isViewList, []))

  function setHidden(key: string, hide: boolean) {
    if (FIXED_COLUMNS.has(key)) return
    const next = hidden.value.filter((k) => k !== key)
    if (hide) next.push(key)
    hidden.value = next
    localStorage.setItem(COLUMNS_KEY, JSON.stringify(next))
  }

  /** Saves (or replaces, by name) a view. */
  function save(name: string, query: LocationQuery) {
    const trimmed = name.trim()
    if (trimmed === '') return
    const next = views.value.filter((v) => v.name !== trimmed)
    next.push({ name: trimmed, query: viewQuery(query) })
    next.sort((a, b) => a.name.localeCompare(b.name))
    views.value = next
    localStorage.setItem(VIEWS_KEY, JSON.stringify(next))
  }

  function remove(name: string) {
    views.value = views.value.filter((v) => v.name !== name)
    localStorage.setItem(VIEWS_KEY, JSON.stringify(views.value))
  }

  // Another tab changed them.
  if (typeof window !== 'undefined') {
    window.addEventListener('storage', (event) => {
      if (event.key === COLUMNS_KEY) hidden.value = read(COLUMNS_KEY, isStringList, [])
      if (event.key === VIEWS_KEY) views.value = read(VIEWS_KEY, isViewList, [])
    })
  }

  return { hidden, views, setHidden, save, remove }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useJobViewsStore, import.meta.hot))
