// Remembers the GETs whose results the event stream keeps current, so none repeats (seed
// "Client data flow"). Remembering needs a resume point: with one, a dropped socket resumes
// without loss, so nothing is forgotten; the stream clears the memo itself when changes may
// have been missed (a fresh start or a `resync`). Without one, GETs are not remembered.

export class GetMemo {
  private remembering = false
  private readonly entries = new Map<string, Promise<unknown>>()
  private startedSinceClear = 0

  /**
   * Whether GETs that succeed from now on are remembered: the event stream has a resume
   * point, so every later change reaches the stores. Turning it on or off forgets nothing.
   */
  setRemembering(on: boolean): void {
    this.remembering = on
  }

  get isRemembering(): boolean {
    return this.remembering
  }

  /**
   * Runs `fetch` unless the same `key` is in flight, or succeeded while remembering and has
   * not been cleared since; then it answers what that fetch answered. Failures are never
   * remembered, nor GETs that started while not remembering.
   */
  run<T>(key: string, fetch: () => Promise<T>): Promise<T> {
    const known = this.entries.get(key)
    if (known) return known as Promise<T>
    const keep = this.remembering
    this.startedSinceClear += 1
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

  /** Forgets one GET (a user asking to reload it). */
  forget(key: string): void {
    this.entries.delete(key)
  }

  /** Forgets every finished GET of `path` (any query): their rows may no longer be held. */
  forgetPath(path: string): void {
    for (const key of [...this.entries.keys()]) {
      if (key === path || key.startsWith(`${path}?`)) this.entries.delete(key)
    }
  }

  /** Forgets every GET, in flight or done: the next call of each fetches again. */
  clear(): void {
    this.entries.clear()
    this.startedSinceClear = 0
  }

  /**
   * Whether no GET went out since the memo was created or last cleared: then the first
   * welcome of a fresh stream has nothing to reload (every view is still waiting for it).
   */
  get untouched(): boolean {
    return this.startedSinceClear === 0
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
