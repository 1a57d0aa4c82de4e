// The one HTTP client: openapi-fetch typed by the generated `schema.d.ts`.
// It adds the bearer token and reports a rejected token; it never logs requests or tokens.
import createClient, { type Middleware } from 'openapi-fetch'

import type { paths } from './schema'

/** How the client learns the current token and reports that the server rejected it. */
export interface AuthHooks {
  token(): string | null
  /** Called when a request that carried a token was answered 401. */
  onUnauthorized(): void
}

const noAuth: AuthHooks = { token: () => null, onUnauthorized: () => undefined }
let authHooks: AuthHooks = noAuth

/** Installed once by the auth store; tests install their own. */
export function setAuthHooks(hooks: AuthHooks | null): void {
  authHooks = hooks ?? noAuth
}

const authMiddleware: Middleware = {
  onRequest({ request }) {
    const token = authHooks.token()
    if (token !== null && !request.headers.has('Authorization')) {
      request.headers.set('Authorization', `Bearer ${token}`)
    }
    return request
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('Authorization')) {
      authHooks.onUnauthorized()
    }
    return response
  },
}

/** Where the API lives: the OpenAPI document's `servers[0].url`; its paths are relative to it. */
export const API_PREFIX = '/api/v1'

function defaultBaseUrl(): string {
  return (typeof location === 'undefined' ? '' : location.origin) + API_PREFIX
}

/** Builds a client; the app uses `api`, tests build one around a fake `fetch`. */
export function createApiClient(options: { baseUrl?: string; fetch?: typeof fetch } = {}) {
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? defaultBaseUrl(),
    // Resolved per call, so a `fetch` stubbed after start-up (tests) is used.
    fetch: options.fetch ?? ((request: Request) => globalThis.fetch(request)),
  })
  client.use(authMiddleware)
  return client
}

export type ApiClient = ReturnType<typeof createApiClient>

export const api: ApiClient = createApiClient()

/** A non-2xx answer, with the server's message in a human-readable form. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/**
 * Turns upstream's error bodies into one sentence:
 * `{"detail": "…"}`, FastAPI's 422 `{"detail": [{loc, msg}]}` and `{"error": "Not found"}`.
 */
export function errorMessage(status: number, body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const { detail, error } = body as { detail?: unknown; error?: unknown }
    if (typeof detail === 'string') return detail
    if (Array.isArray(detail)) {
      const parts = detail.flatMap((item: unknown) => {
        if (typeof item !== 'object' || item === null) return []
        const { loc, msg } = item as { loc?: unknown; msg?: unknown }
        if (typeof msg !== 'string') return []
        const where = Array.isArray(loc) ? loc.filter((p) => p !== 'body').join('.') : ''
        return [where ? `${where}: ${msg}` : msg]
      })
      if (parts.length > 0) return parts.join('; ')
    }
    if (typeof error === 'string') return error
  }
  if (typeof body === 'string' && body.trim() !== '') return body
  return `The server answered ${status}`
}

/** Unwraps an openapi-fetch result: the data, or an `ApiError`. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.data !== undefined) return result.data
  throw new ApiError(result.response.status, errorMessage(result.response.status, result.error))
}

/** Checks a call answered with no body we need (204, or a count); throws an `ApiError` if not. */
export function ensureOk(result: { error?: unknown; response: Response }): void {
  if (!result.response.ok) {
    throw new ApiError(result.response.status, errorMessage(result.response.status, result.error))
  }
}

/** The header carrying a list's snapshot: the user's event-log head when its rows were read. */
export const SEQ_HEADER = 'X-Balsam-Seq'

/** The `X-Balsam-Seq` of a response, when present and valid. */
export function responseSeq(response: Response): number | undefined {
  const raw = response.headers.get(SEQ_HEADER)
  if (raw === null || raw.trim() === '') return undefined
  const seq = Number(raw)
  return Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined
}

/**
 * Unwraps a list answer and adds its snapshot `seq` (DESIGN.md §3 point 4), so its rows go
 * through the reducer no newer than they are.
 */
export function unwrapList<T extends object>(result: {
  data?: T
  error?: unknown
  response: Response
}): T & { seq?: number } {
  const data = unwrap(result)
  const seq = responseSeq(result.response)
  return seq === undefined ? data : { ...data, seq }
}
