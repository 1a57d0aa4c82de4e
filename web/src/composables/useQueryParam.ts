// A view's filter that lives in the URL query string (UX.md: every view is a URL).
import { computed, type WritableComputedRef } from 'vue'
import { useRoute, useRouter, type LocationQuery, type Router } from 'vue-router'

function firstValue(query: LocationQuery, name: string): string | null {
  const value = query[name]
  return (Array.isArray(value) ? value[0] : value) ?? null
}

/** `?name=` of a route's query, as `useQueryParam` reads it. */
export function queryValue(query: LocationQuery, name: string, fallback = ''): string {
  return firstValue(query, name) ?? fallback
}

/** Every value of `?name=a&name=b` in a route's query, as `useQueryList` reads them. */
export function queryList(query: LocationQuery, name: string): string[] {
  const value = query[name]
  const values = Array.isArray(value) ? value : value == null ? [] : [value]
  return values.filter((item): item is string => typeof item === 'string' && item !== '')
}

/** Writes made in the same tick (e.g. "clear filters") are merged into one navigation. */
const pendingQueries = new WeakMap<Router, LocationQuery>()

function patchQuery(
  router: Router,
  current: LocationQuery,
  name: string,
  value: string | string[] | null,
) {
  let query = pendingQueries.get(router)
  if (query === undefined) {
    const next: LocationQuery = { ...current }
    query = next
    pendingQueries.set(router, next)
    queueMicrotask(() => {
      pendingQueries.delete(router)
      void router.replace({ query: next })
    })
  }
  if (value === null) delete query[name]
  else query[name] = value
}

/**
 * `?name=` as a string ref. Writing the default (or '') removes the parameter; writes
 * replace the history entry so typing in a filter does not flood the back button.
 */
export function useQueryParam(name: string, fallback = ''): WritableComputedRef<string> {
  const route = useRoute()
  const router = useRouter()
  return computed({
    get: () => queryValue(route.query, name, fallback),
    set: (value) => {
      patchQuery(router, route.query, name, value === fallback || value === '' ? null : value)
    },
  })
}

/** Every value of a repeated `?name=a&name=b` parameter; writing `[]` removes it. */
export function useQueryList(name: string): WritableComputedRef<string[]> {
  const route = useRoute()
  const router = useRouter()
  return computed({
    get: () => queryList(route.query, name),
    set: (values) => {
      const kept = values.filter((item) => item !== '')
      patchQuery(router, route.query, name, kept.length === 0 ? null : kept)
    },
  })
}
