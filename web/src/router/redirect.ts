// The `?redirect=` check shared by the login guard and the login page, in its own module so
// the login page does not import the router that imports it.

/** A `?redirect=` target that stays inside the app; anything else becomes `null`. */
export function safeRedirect(value: unknown): string | null {
  if (typeof value !== 'string') return null
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null
  if (value === '/login' || value.startsWith('/login?')) return null
  return value
}
