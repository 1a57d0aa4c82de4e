// The only websocket: `/api/v1/subscribe-user`, sequenced protocol (docs/realtime.md). Says
// hello with the last applied `seq`, applies events in order exactly once (in batches, one per
// animation frame), resumes after any drop, and reports what it cannot replay (`resync`) so
// views reload. `EventStream` never fetches and never touches a store: `createAppEventStream`
// wires it to them (through stores/registry.ts), and realtime/liveSession.ts runs it.
import { API_PREFIX } from '@/api/client'
import { getMemo } from '@/api/getMemo'
import { EXPIRED_MESSAGE, REJECTED_MESSAGE, useAuthStore } from '@/stores/auth'
import { useAppsStore } from '@/stores/apps'
import {
  initialStatus,
  useConnectionStore,
  type ConnectionStatus,
  type ReloadReason,
} from '@/stores/connection'
import { useJobsStore } from '@/stores/jobs'
import { RESOURCE_STORES } from '@/stores/registry'
import { useStateCountsStore, type CountLookups } from '@/stores/stateCounts'

import { notifyApplied, notifyArriving } from './appliedChanges'
import { parseServerFrame, STATE_COUNTS, type ResourceChange } from './change'

/** Close codes (docs/realtime.md, "Close codes"). */
export const CLOSE = {
  /** Server shutting down, or its channel layer or log unavailable: resume elsewhere. */
  GOING_AWAY: 1001,
  /** Upstream protocol's refused token. */
  POLICY_VIOLATION: 1008,
  INVALID_TOKEN: 4001,
  TOKEN_EXPIRED: 4002,
  /** No hello within the server's auth timeout. */
  AUTH_TIMEOUT: 4003,
  /** Our first frame was JSON but not a hello: a client bug. */
  BAD_HELLO: 4004,
  /** Slow consumer. */
  SLOW_CONSUMER: 4008,
  /** Sent by this client when it gives up on a socket that went silent or skipped a seq. */
  CLIENT_RESTART: 4000,
} as const

export const BACKOFF_MIN_MS = 1_000
/** The longest base wait: with +25 % jitter no retry waits more than 10 s. */
export const BACKOFF_MAX_MS = 8_000
/** A connection that stayed live this long resets the back-off. */
export const STABLE_AFTER_MS = 10_000
/** The server's default `ws.ping_interval_secs`, until a welcome's `heartbeat_secs` says. */
export const HEARTBEAT_INTERVAL_MS = 20_000
/** No frame at all for this long (2.5 heartbeats) means the socket is dead. */
export const SILENCE_TIMEOUT_MS = 2.5 * HEARTBEAT_INTERVAL_MS
/** Events held while paused beyond this many (of up to 1 000 rows each) resume the stream. */
export const MAX_PAUSED_EVENTS = 2_000
/** A heartbeat this late (1.25 intervals without any frame) is shown at once as a stall. */
export const STALL_FACTOR = 1.25 / 2.5

/** Delay before retry number `attempt` (0-based): 1 s doubling to 8 s, each ±25 % (≤ 10 s). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempt))
  return Math.round(base * (1 + 0.25 * (2 * random() - 1)))
}

export type SocketLike = Pick<WebSocket, 'send' | 'close' | 'binaryType'> & {
  onopen: ((event: Event) => void) | null
  onmessage: ((event: MessageEvent) => void) | null
  onclose: ((event: CloseEvent) => void) | null
  onerror: ((event: Event) => void) | null
}

/** Why the server refused the login: send the user back to log in, saying this. */
export type RejectReason = 'invalid' | 'expired'

/** Runs `flush` soon; returns a cancel function. */
export type FlushScheduler = (flush: () => void) => () => void

/**
 * Once per animation frame while the page is visible; browsers pause animation frames in
 * background tabs, so a timer (throttled there to about once a second) races it.
 */
export const frameScheduler: FlushScheduler = (flush) => {
  let done = false
  const run = () => {
    if (done) return
    done = true
    cancel()
    flush()
  }
  const timer = setTimeout(run, 100)
  const frame = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(run) : null
  function cancel() {
    clearTimeout(timer)
    if (frame !== null) cancelAnimationFrame(frame)
  }
  return () => {
    done = true
    cancel()
  }
}

export interface EventStreamOptions {
  url: string
  /** The raw token; `null` stops the stream (logged out). */
  token: () => string | null
  /** A batch of events, in `seq` order, each new; called at most once per scheduled flush. */
  onChanges: (changes: ResourceChange[]) => void
  onStatus: (status: ConnectionStatus) => void
  /** What was fetched may have missed changes: clear the GET memo and reload what is shown. */
  onReload: (reason: ReloadReason) => void
  /** The server refused the token (close 4001, 4002 or upstream's 1008). */
  onRejected: (reason: RejectReason) => void
  createSocket?: (url: string) => SocketLike
  random?: () => number
  now?: () => number
  schedule?: FlushScheduler
  silenceTimeoutMs?: number
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
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private silenceTimer: ReturnType<typeof setTimeout> | undefined
  private stallTimer: ReturnType<typeof setTimeout> | undefined
  private lastFrameAt = 0
  private browserOffline = false
  private paused = false
  private running = false
  private attempt = 0
  private liveAt: number | null = null
  private welcomed = false
  private status: ConnectionStatus
  private queue: ResourceChange[] = []
  private cancelFlush: (() => void) | null = null
  /** Highest `seq` accepted on any socket (queued or applied). */
  private receivedSeq: number | null = null
  /** The head of a non-resumed welcome just received: a `resync` right after it adds nothing. */
  private freshWelcomeAt: number | null = null
  private readonly now: () => number
  private readonly random: () => number
  private readonly schedule: FlushScheduler
  private readonly createSocket: (url: string) => SocketLike
  private silenceTimeoutMs: number
  /** The last `seq` applied: the resume point sent in every hello (`null`: fresh start). */
  lastSeq: number | null = null
  /** The `epoch` of the welcome `lastSeq` was counted under (docs/realtime.md). */
  epoch: string | null = null

  constructor(private readonly options: EventStreamOptions) {
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.schedule = options.schedule ?? frameScheduler
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url))
    this.silenceTimeoutMs = options.silenceTimeoutMs ?? SILENCE_TIMEOUT_MS
    this.status = initialStatus(this.now())
  }

  get state(): ConnectionStatus {
    return this.status
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.attempt = 0
    this.setStatus({ ...this.status, phase: 'connecting', since: this.now(), retryAt: null })
    this.connect()
  }

  /** Closes the socket and forgets the resume point: what the stores hold is not its concern. */
  stop(): void {
    this.running = false
    clearTimeout(this.retryTimer)
    this.dropSocket()
    this.cancelFlush?.()
    this.cancelFlush = null
    this.queue = []
    this.paused = false
    this.lastSeq = this.receivedSeq = this.freshWelcomeAt = null
    this.epoch = null
    this.setStatus(initialStatus(this.now()))
  }

  /**
   * The browser's `offline` / `online` events. Offline: the socket cannot be trusted, so it
   * is dropped and the state says so at once (instead of "Live" until the silence timeout);
   * online: reconnect now.
   */
  setBrowserOnline(online: boolean): void {
    this.browserOffline = !online
    if (!this.running) return
    if (online) {
      this.patchStatus({ browserOffline: false })
      this.retryNow()
      return
    }
    if (this.socket !== null) this.restart('the browser went offline')
    else this.patchStatus({ browserOffline: true })
  }

  /**
   * Pauses applying events (the stream stays connected and keeps them, in order) or resumes,
   * applying everything held at once. Held past `MAX_PAUSED_EVENTS`, it resumes by itself.
   */
  setPaused(on: boolean): void {
    this.paused = on
    if (on) this.patchStatus({ paused: true, queued: this.queue.length })
    else {
      this.patchStatus({ paused: false, queued: 0 })
      this.flush()
    }
  }

  private patchQueued() {
    if (this.queue.length > MAX_PAUSED_EVENTS) {
      console.warn('event stream: too many events held while paused; resuming')
      this.setPaused(false)
      return
    }
    if (this.status.queued !== this.queue.length) this.patchStatus({ queued: this.queue.length })
  }

  /** Skips the remaining back-off wait (a "retry now" button, the browser coming online). */
  retryNow(): void {
    if (!this.running || this.status.phase !== 'reconnecting') return
    clearTimeout(this.retryTimer)
    this.connect()
  }

  /** Applies every queued event now (also done before any control frame and on close). */
  flush(force = false): void {
    this.cancelFlush?.()
    this.cancelFlush = null
    if (this.paused && !force) {
      this.patchQueued()
      return
    }
    if (this.queue.length === 0) return
    const batch = this.queue
    this.queue = []
    this.options.onChanges(batch)
    const last = batch.at(-1)?.seq
    if (last !== undefined) this.lastSeq = last
  }

  private setStatus(status: ConnectionStatus) {
    this.status = status
    this.options.onStatus(status)
  }

  private patchStatus(patch: Partial<ConnectionStatus>) {
    this.setStatus({
      ...this.status,
      lastSeq: this.lastSeq,
      browserOffline: this.browserOffline,
      paused: this.paused,
      ...patch,
    })
  }

  private dropSocket(code: number = 1000) {
    clearTimeout(this.silenceTimer)
    clearTimeout(this.stallTimer)
    const socket = this.socket
    this.socket = null
    this.welcomed = false
    if (socket === null) return
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null
    try {
      socket.close(code)
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
      this.flush()
      const epoch = this.lastSeq !== null && this.epoch !== null ? { epoch: this.epoch } : {}
      socket.send(JSON.stringify({ op: 'hello', token, last_seq: this.lastSeq, ...epoch }))
      this.armSilenceTimer()
    }
    socket.onmessage = (event) => {
      this.armSilenceTimer()
      this.receive(event.data)
    }
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.socket = null
      this.welcomed = false
      clearTimeout(this.silenceTimer)
      clearTimeout(this.stallTimer)
      this.flush()
      this.closed(event.code)
    }
    // An error is always followed by a close, which decides what happens next.
    socket.onerror = () => undefined
  }

  private closed(code: number) {
    switch (code) {
      case CLOSE.POLICY_VIOLATION:
      case CLOSE.INVALID_TOKEN:
        return this.reject('invalid')
      case CLOSE.TOKEN_EXPIRED:
        return this.reject('expired')
      case CLOSE.BAD_HELLO:
        console.error('event stream: the server refused our hello (close 4004), a client bug')
        return this.scheduleReconnect()
      default:
        return this.scheduleReconnect()
    }
  }

  private reject(reason: RejectReason) {
    this.running = false
    this.patchStatus({ phase: 'rejected', since: this.now(), attempt: 0, retryAt: null })
    this.options.onRejected(reason)
  }

  /** Gives up on the current socket (silent, or a seq went missing) and resumes on a new one. */
  private restart(why: string) {
    console.warn(`event stream: ${why}; reconnecting to resume from seq ${this.lastSeq ?? '-'}`)
    this.flush()
    this.dropSocket(CLOSE.CLIENT_RESTART)
    this.scheduleReconnect()
  }

  private armSilenceTimer() {
    this.lastFrameAt = this.now()
    if (this.status.stalledSince !== null) this.patchStatus({ stalledSince: null })
    clearTimeout(this.stallTimer)
    this.stallTimer = setTimeout(() => {
      if (this.welcomed) this.patchStatus({ stalledSince: this.lastFrameAt })
    }, this.silenceTimeoutMs * STALL_FACTOR)
    clearTimeout(this.silenceTimer)
    this.silenceTimer = setTimeout(
      () => this.restart(`no frame for ${Math.round(this.silenceTimeoutMs / 1000)} s`),
      this.silenceTimeoutMs,
    )
  }

  private receive(data: unknown) {
    const text = frameText(data)
    const frame = text === null ? null : parseServerFrame(text)
    if (frame === null) {
      console.warn('event stream: ignored a frame that is not part of the protocol')
      return
    }
    const freshWelcomeAt = this.freshWelcomeAt
    this.freshWelcomeAt = null
    if (frame.op === 'event') {
      if (!this.welcomed) {
        console.warn('event stream: ignored an event that came before the welcome')
        return
      }
      const last = this.receivedSeq
      if (last !== null && frame.seq <= last) return // already applied or queued
      if (last !== null && frame.seq > last + 1) {
        this.restart(`events ${last + 1}…${frame.seq - 1} never arrived`)
        return
      }
      this.receivedSeq = frame.seq
      this.queue.push(frame.change)
      this.cancelFlush ??= this.schedule(() => {
        this.cancelFlush = null
        this.flush()
      })
      return
    }
    // Control frames take effect in order: everything before them is applied first (a
    // heartbeat changes nothing, so paused events stay held across it).
    if (frame.op !== 'heartbeat') this.flush(true)
    switch (frame.op) {
      case 'welcome':
        if (frame.heartbeatSecs !== undefined) {
          this.silenceTimeoutMs = 2.5 * frame.heartbeatSecs * 1000
          this.armSilenceTimer()
        }
        this.epoch = frame.epoch ?? null
        return this.welcome(frame.seq, frame.resumed)
      case 'resync':
        // A refused resume is a fresh welcome followed by a resync: one reload covers both.
        if (freshWelcomeAt === frame.seq) return
        return this.resync(frame.seq)
      case 'heartbeat':
        if (this.receivedSeq !== null && frame.seq > this.receivedSeq) {
          this.restart(`the server sent up to ${frame.seq}, we have ${this.receivedSeq}`)
        }
        return
    }
  }

  private welcome(head: number, resumed: boolean) {
    this.welcomed = true
    this.liveAt = this.now()
    if (resumed && this.lastSeq !== null) {
      // The missed events follow at once; nothing was lost, so nothing is reloaded.
      this.patchStatus({ phase: 'live', since: this.liveAt, retryAt: null })
      return
    }
    // Nothing is replayed: changes before `head` reach us only through REST.
    const hadResumePoint = this.lastSeq !== null
    this.lastSeq = this.receivedSeq = head
    this.patchStatus({
      phase: 'live',
      since: this.liveAt,
      retryAt: null,
      ...(hadResumePoint ? { resyncedAt: this.liveAt } : {}),
    })
    this.freshWelcomeAt = head
    this.options.onReload(hadResumePoint ? 'resync' : 'fresh')
  }

  private resync(seq: number) {
    this.lastSeq = this.receivedSeq = seq
    this.patchStatus({ resyncedAt: this.now() })
    this.options.onReload('resync')
  }

  private scheduleReconnect() {
    if (!this.running) return
    const now = this.now()
    if (this.liveAt !== null && now - this.liveAt >= STABLE_AFTER_MS) this.attempt = 0
    // "Reconnecting since" counts from when the stream stopped being live.
    const since = this.status.phase === 'live' ? now : this.status.since
    this.liveAt = null
    const delay = backoffDelay(this.attempt, this.random)
    this.attempt += 1
    this.patchStatus({
      phase: 'reconnecting',
      since,
      attempt: this.attempt,
      retryAt: now + delay,
      stalledSince: null,
    })
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => this.connect(), delay)
  }
}

export function subscribeUrl(loc: Pick<Location, 'protocol' | 'host'> = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${API_PREFIX}/subscribe-user`
}

/**
 * Wires an EventStream to the app: events to the stores owning them, status to the
 * connection store and the GET memo, reloads to the memo and the views, a refused login
 * to the login page.
 */
export function createAppEventStream(
  overrides: Partial<
    Pick<EventStreamOptions, 'createSocket' | 'random' | 'now' | 'url' | 'schedule'>
  > = {},
): EventStream {
  const auth = useAuthStore()
  const connection = useConnectionStore()
  const counts = useStateCountsStore()
  const jobs = useJobsStore()
  const apps = useAppsStore()
  const siteOfApp = (appId: unknown) =>
    typeof appId === 'number' ? apps.peekById()[appId]?.site_id : undefined
  const countLookups: CountLookups = {
    job(id) {
      const job = jobs.peekById()[id]
      const siteId = siteOfApp(job?.app_id)
      return job === undefined || siteId === undefined ? undefined : { siteId, state: job.state }
    },
    siteOfJob: (id) => siteOfApp(jobs.peekById()[id]?.app_id),
  }
  const stream = new EventStream({
    url: overrides.url ?? subscribeUrl(),
    token: () => auth.token,
    onChanges: (changes) => {
      // Frames racing a logout must not refill the stores the logout just cleared.
      if (auth.token === null) return
      for (const change of changes) {
        // Before applying: a deleted job's state is only known while the store holds it.
        counts.track(change, countLookups)
        notifyArriving(change)
        if (change.type === STATE_COUNTS) counts.replace(change)
        else RESOURCE_STORES[change.type]().apply(change)
      }
      counts.publish()
      notifyApplied(changes)
    },
    onStatus: (status) => {
      getMemo.setRemembering(status.lastSeq !== null)
      connection.set(status)
    },
    onReload: (reason) => {
      // A fresh start before any GET went out: the views' first loads are still to come.
      if (reason === 'fresh' && getMemo.untouched) return
      getMemo.clear()
      connection.noteReload(reason)
    },
    onRejected: (reason) =>
      auth.endLogin(reason === 'expired' ? EXPIRED_MESSAGE : REJECTED_MESSAGE),
    ...overrides,
  })
  connection.onRetryRequest(() => stream.retryNow())
  connection.onPauseRequest((on) => stream.setPaused(on))
  return stream
}
