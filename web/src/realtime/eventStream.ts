// The only websocket: `/api/v1/subscribe-user`, upstream protocol (first text frame = raw
// token; frames of `{"action","type","data"}`). Routes each change to the store owning its
// type, reconnects with jittered back-off, and treats close 1008 as "log in again".
import { API_PREFIX } from '@/api/client'
import { getMemo } from '@/api/getMemo'
import { REJECTED_MESSAGE, useAuthStore } from '@/stores/auth'
import { useAppsStore } from '@/stores/apps'
import { useBatchJobsStore } from '@/stores/batchJobs'
import { useConnectionStore, type ConnectionStatus } from '@/stores/connection'
import { useJobsStore } from '@/stores/jobs'
import { useLogEventsStore } from '@/stores/logEvents'
import { useSessionsStore } from '@/stores/sessions'
import { useSitesStore } from '@/stores/sites'
import { useTransferItemsStore } from '@/stores/transferItems'

import { parseChange, type ResourceChange, type ResourceType } from './change'

/** Close code for a rejected token (upstream). Terminal: never retried. */
export const CLOSE_POLICY_VIOLATION = 1008
export const BACKOFF_MIN_MS = 1_000
export const BACKOFF_MAX_MS = 30_000
/** A connection that stayed open this long resets the back-off. */
export const STABLE_AFTER_MS = 10_000

/** Delay before retry number `attempt` (0-based): 1 s doubling to 30 s, each ±25 %. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempt))
  return Math.round(base * (1 + 0.25 * (2 * random() - 1)))
}

type SocketLike = Pick<WebSocket, 'send' | 'close' | 'binaryType'> & {
  onopen: ((event: Event) => void) | null
  onmessage: ((event: MessageEvent) => void) | null
  onclose: ((event: CloseEvent) => void) | null
  onerror: ((event: Event) => void) | null
}

export interface EventStreamOptions {
  url: string
  /** The raw token; `null` stops the stream (logged out). */
  token: () => string | null
  onChange: (change: ResourceChange) => void
  onStatus: (status: ConnectionStatus) => void
  /** The server refused the token (close 1008). */
  onRejected: () => void
  createSocket?: (url: string) => SocketLike
  random?: () => number
  now?: () => number
}

const decoder = new TextDecoder()

function frameText(data: unknown): string | null {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer) return decoder.decode(data)
  if (ArrayBuffer.isView(data)) return decoder.decode(data)
  return null
}

export class EventStream {
  private socket: SocketLike | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private running = false
  private attempt = 0
  private openedAt: number | null = null
  private status: ConnectionStatus
  private readonly now: () => number
  private readonly random: () => number
  private readonly createSocket: (url: string) => SocketLike
  /** Highest `seq` applied; the resume point once the server speaks the richer protocol. */
  lastSeq: number | null = null

  constructor(private readonly options: EventStreamOptions) {
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url))
    this.status = { phase: 'idle', since: this.now(), attempt: 0, retryAt: null }
  }

  get state(): ConnectionStatus {
    return this.status
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.attempt = 0
    this.setStatus({ phase: 'connecting', since: this.now(), attempt: 0, retryAt: null })
    this.connect()
  }

  stop(): void {
    this.running = false
    clearTimeout(this.timer)
    this.dropSocket()
    this.setStatus({ phase: 'idle', since: this.now(), attempt: 0, retryAt: null })
  }

  /** Skips the remaining back-off wait (a "retry now" button, the browser coming online). */
  retryNow(): void {
    if (!this.running || this.status.phase !== 'reconnecting') return
    clearTimeout(this.timer)
    this.connect()
  }

  private setStatus(status: ConnectionStatus) {
    this.status = status
    this.options.onStatus(status)
  }

  private dropSocket() {
    const socket = this.socket
    this.socket = null
    if (socket === null) return
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null
    try {
      socket.close(1000)
    } catch {
      // already closed
    }
  }

  private connect() {
    this.dropSocket()
    const token = this.options.token()
    if (token === null) {
      this.stop()
      return
    }
    let socket: SocketLike
    try {
      socket = this.createSocket(this.options.url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.socket = socket
    socket.binaryType = 'arraybuffer'
    socket.onopen = () => {
      socket.send(token)
      this.openedAt = this.now()
      this.setStatus({ phase: 'live', since: this.openedAt, attempt: this.attempt, retryAt: null })
    }
    socket.onmessage = (event) => this.receive(event.data)
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.socket = null
      if (event.code === CLOSE_POLICY_VIOLATION) {
        this.running = false
        this.setStatus({ phase: 'rejected', since: this.now(), attempt: 0, retryAt: null })
        this.options.onRejected()
        return
      }
      this.scheduleReconnect()
    }
    // An error is always followed by a close, which decides what happens next.
    socket.onerror = () => undefined
  }

  private receive(data: unknown) {
    const text = frameText(data)
    const change = text === null ? null : parseChange(text)
    if (change === null) {
      console.warn('event stream: ignored a frame that is not a resource change')
      return
    }
    if (change.seq !== undefined) this.lastSeq = Math.max(this.lastSeq ?? change.seq, change.seq)
    this.options.onChange(change)
  }

  private scheduleReconnect() {
    if (!this.running) return
    const now = this.now()
    if (this.openedAt !== null && now - this.openedAt >= STABLE_AFTER_MS) this.attempt = 0
    // "Reconnecting since" counts from when the stream stopped being live.
    const since = this.status.phase === 'live' ? now : this.status.since
    this.openedAt = null
    const delay = backoffDelay(this.attempt, this.random)
    this.attempt += 1
    this.setStatus({ phase: 'reconnecting', since, attempt: this.attempt, retryAt: now + delay })
    this.timer = setTimeout(() => this.connect(), delay)
  }
}

type Applier = { apply(change: ResourceChange): unknown }

/** Which store owns each resource type. */
export function storeRoutes(): Record<ResourceType, () => Applier> {
  return {
    site: useSitesStore,
    app: useAppsStore,
    batch_job: useBatchJobsStore,
    session: useSessionsStore,
    job: useJobsStore,
    transfer_item: useTransferItemsStore,
    log_event: useLogEventsStore,
  }
}

export function subscribeUrl(loc: Pick<Location, 'protocol' | 'host'> = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${API_PREFIX}/subscribe-user`
}

/**
 * Wires an EventStream to the app's stores: changes to their owners, status to the
 * connection store and the GET memo, a rejected token to the login page.
 */
export function createAppEventStream(
  overrides: Partial<Pick<EventStreamOptions, 'createSocket' | 'random' | 'now' | 'url'>> = {},
): EventStream {
  const auth = useAuthStore()
  const connection = useConnectionStore()
  const routes = storeRoutes()
  const stream = new EventStream({
    url: overrides.url ?? subscribeUrl(),
    token: () => auth.token,
    onChange: (change) => {
      // A frame racing a logout must not refill the stores the logout just cleared.
      if (auth.token !== null) routes[change.type]().apply(change)
    },
    onStatus: (status) => {
      getMemo.setLive(status.phase === 'live')
      connection.set(status)
    },
    onRejected: () => auth.endLogin(REJECTED_MESSAGE),
    ...overrides,
  })
  connection.onRetryRequest(() => stream.retryNow())
  return stream
}
