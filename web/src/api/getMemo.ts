// Remembers the GETs made while the event stream is live, so none repeats (seed "Client data
// flow"). Forgotten whenever the stream stops being live: what was fetched before may be stale.

export class GetMemo {
  private live = false
  private readonly entries = new Map<string, Promise<void>>()

  /** Called on every connection-state change; any change of liveness forgets everything. */
  setLive(live: boolean): void {
    if (live !== this.live) this.entries.clear()
    this.live = live
  }

  get isLive(): boolean {
    return this.live
  }

  /**
   * Runs `fetch` unless the same `key` is in flight, or succeeded while the stream has been
   * live throughout. Failures are never remembered.
   */
  run(key: string, fetch: () => Promise<void>): Promise<void> {
    const known = this.entries.get(key)
    if (known) return known
    const keep = this.live
    const pending = fetch()
    this.entries.set(key, pending)
    const forget = () => {
      if (this.entries.get(key) === pending) this.entries.delete(key)
    }
    pending.then(() => (keep ? undefined : forget()), forget)
    return pending
  }

  has(key: string): boolean {
    return this.entries.has(key)
  }

  clear(): void {
    this.entries.clear()
  }
}

/** A stable key for a GET: the path and its query with keys sorted and arrays kept in order. */
export function memoKey(path: string, query: object = {}): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === undefined || value === null) continue
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      params.append(name, String(item))
    }
  }
  const text = params.toString()
  return text ? `${path}?${text}` : path
}

export const getMemo = new GetMemo()
