// The event stream's frames (docs/realtime.md): sequenced `{"seq","action","type","data"}`
// events and the `welcome` / `resync` / `heartbeat` control frames, parsed defensively; an
// event reduces to "upsert these rows" or "delete these ids", the form the stores' one reducer
// takes (REST results reach it directly as an upsert).

export const RESOURCE_TYPES = [
  'site',
  'app',
  'batch_job',
  'session',
  'job',
  'transfer_item',
  'log_event',
] as const
export type ResourceType = (typeof RESOURCE_TYPES)[number]

/**
 * Not a resource: the server's per-Site job counts after a commit that moved them
 * (`{"action":"update","type":"state_counts","data":[{site_id, counts}, …]}`, the last
 * change of that commit; docs/realtime.md). It replaces the counts store's content.
 */
export const STATE_COUNTS = 'state_counts'
export type ChangeType = ResourceType | typeof STATE_COUNTS

export const ACTIONS = [
  'create',
  'update',
  'delete',
  'bulk-create',
  'bulk-update',
  'bulk-delete',
] as const
export type Action = (typeof ACTIONS)[number]

export interface ResourceChange {
  action: Action
  type: ChangeType
  /** A full instance, a list of them, `{id}`, `{ids}` or a list of ids (deletes). */
  data: unknown
  /**
   * The per-user event sequence number the change reflects (DESIGN.md §3 point 4):
   * for an event, its own number; for a list response, the snapshot it was read in.
   */
  seq?: number
}

export interface IdentifiedRow {
  readonly id: number
  readonly [field: string]: unknown
}

export type NormalizedChange =
  | { op: 'upsert'; rows: readonly IdentifiedRow[]; seq?: number }
  | { op: 'delete'; ids: number[]; seq?: number }

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value)
}

function isRow(value: unknown): value is IdentifiedRow {
  return isObject(value) && isId(value.id)
}

/** Reads an already-parsed envelope; `null` for anything that is not a well-formed change. */
function changeFromObject(raw: unknown): ResourceChange | null {
  if (!isObject(raw)) return null
  const { action, type, data, seq } = raw
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) return null
  if (
    typeof type !== 'string' ||
    !(type === STATE_COUNTS || (RESOURCE_TYPES as readonly string[]).includes(type))
  ) {
    return null
  }
  const change: ResourceChange = { action: action as Action, type: type as ChangeType, data }
  if (isId(seq)) change.seq = seq
  return change
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Parses one envelope's JSON text; `null` for anything that is not a well-formed change. */
export function parseChange(text: string): ResourceChange | null {
  return changeFromObject(parseJson(text))
}

/** One server frame of our sequenced protocol. */
export type ServerFrame =
  | { op: 'event'; seq: number; change: ResourceChange & { seq: number } }
  | { op: 'welcome'; seq: number; resumed: boolean; heartbeatSecs?: number; epoch?: string }
  | { op: 'resync'; seq: number }
  | { op: 'heartbeat'; seq: number }

function isSeq(value: unknown): value is number {
  return isId(value) && value >= 0
}

/**
 * Parses one frame of the sequenced protocol; `null` for anything else (including an
 * event without a valid `seq`, which this protocol never sends).
 */
export function parseServerFrame(text: string): ServerFrame | null {
  const raw = parseJson(text)
  if (!isObject(raw) || !isSeq(raw.seq)) return null
  const { seq } = raw
  switch (raw.op) {
    case 'welcome': {
      if (typeof raw.resumed !== 'boolean') return null
      const { heartbeat_secs: every, epoch } = raw
      return {
        op: 'welcome',
        seq,
        resumed: raw.resumed,
        // Every welcome carries the server's heartbeat interval (`ws.ping_interval_secs`);
        // the silence timeout follows it. Optional here only to read older servers.
        ...(typeof every === 'number' && every > 0 ? { heartbeatSecs: every } : {}),
        // The database's identity: sent back in the next hello, so that a `last_seq` from
        // another database (a restored backup, another server) gets `resync`.
        ...(typeof epoch === 'string' && epoch !== '' ? { epoch } : {}),
      }
    }
    case 'resync':
      return { op: 'resync', seq }
    case 'heartbeat':
      return { op: 'heartbeat', seq }
    case undefined: {
      const change = changeFromObject(raw)
      return change === null ? null : { op: 'event', seq, change: { ...change, seq } }
    }
    default:
      return null
  }
}

function deletedIds(data: unknown): number[] {
  if (Array.isArray(data)) {
    return data.flatMap((item: unknown) => (isId(item) ? [item] : isRow(item) ? [item.id] : []))
  }
  if (isObject(data)) {
    if (Array.isArray(data.ids)) return data.ids.filter(isId)
    if (isId(data.id)) return [data.id]
  }
  return []
}

/** Reduces an envelope to rows to upsert or ids to delete; malformed entries are dropped. */
export function normalizeChange(change: ResourceChange): NormalizedChange {
  const seq = change.seq === undefined ? {} : { seq: change.seq }
  if (change.action === 'delete' || change.action === 'bulk-delete') {
    return { op: 'delete', ids: deletedIds(change.data), ...seq }
  }
  const items: unknown[] = Array.isArray(change.data) ? change.data : [change.data]
  return { op: 'upsert', rows: items.filter(isRow), ...seq }
}
