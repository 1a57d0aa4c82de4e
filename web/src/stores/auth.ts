// The browser's login: token, expiry and username, kept in localStorage (never in URLs or
// logs). Named `auth` so it is not confused with Balsam Sessions (`sessions.ts`).
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref } from 'vue'

import * as authApi from '@/api/auth'
import { setAuthHooks } from '@/api/client'
import { getMemo, memoKey } from '@/api/getMemo'
import type { User } from '@/api/types'
import { parseServerTime } from '@/format/time'

const STORAGE_KEY = 'balsam.auth'

interface StoredLogin {
  token: string
  /** Epoch milliseconds. */
  expiresAt: number
  username: string
}

function readStored(): StoredLogin | null {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null')
    if (typeof raw !== 'object' || raw === null) return null
    const { token, expiresAt, username } = raw as Record<string, unknown>
    if (typeof token !== 'string' || typeof expiresAt !== 'number') return null
    return { token, expiresAt, username: typeof username === 'string' ? username : '' }
  } catch {
    return null
  }
}

export const EXPIRED_MESSAGE = 'Your login has expired. Please log in again.'
export const REJECTED_MESSAGE = 'The server no longer accepts your login. Please log in again.'

export const useAuthStore = defineStore('auth', () => {
  const login = ref<StoredLogin | null>(null)
  /** Why the user was sent back to the login page, shown there once. */
  const notice = ref<string | null>(null)
  let expiryTimer: ReturnType<typeof setTimeout> | undefined
  let followingOtherTabs = false

  /** The server's answer to `GET /auth/password/me`, fetched once per stream life. */
  const user = ref<User | null>(null)
  const isAuthenticated = computed(() => login.value !== null)
  const username = computed(() => user.value?.username ?? login.value?.username ?? '')
  const token = computed(() => login.value?.token ?? null)

  function persist(value: StoredLogin | null) {
    if (value?.token !== login.value?.token) user.value = null
    login.value = value
    clearTimeout(expiryTimer)
    if (value === null) {
      localStorage.removeItem(STORAGE_KEY)
      return
    }
    localStorage.setItem(STORAGE_KEY, JSON.stringify(value))
    // setTimeout misfires past 2^31-1 ms; re-check at most daily.
    const wait = Math.min(value.expiresAt - Date.now(), 86_400_000)
    expiryTimer = setTimeout(checkExpiry, Math.max(wait, 0))
  }

  /** Drops the login if it has expired; true when it did. */
  function checkExpiry(): boolean {
    const current = login.value
    if (current === null) return false
    if (Date.now() < current.expiresAt) {
      persist(current) // re-arm the timer
      return false
    }
    endLogin(EXPIRED_MESSAGE)
    return true
  }

  /** Ends the login; `reason` is shown on the login page. */
  function endLogin(reason: string | null = null) {
    notice.value = reason
    persist(null)
  }

  async function logIn(name: string, password: string) {
    const answer = await authApi.login(name, password)
    const expiresAt = parseServerTime(answer.expiration)
    persist({
      token: answer.access_token,
      expiresAt: Number.isFinite(expiresAt) ? expiresAt : Date.now() + 3_600_000,
      username: name,
    })
    notice.value = null
  }

  /** The current user (seed: the first of the initial fetches); false when it failed. */
  async function loadUser(): Promise<boolean> {
    const token = login.value?.token
    try {
      const me = await getMemo.run(memoKey('/auth/password/me'), authApi.currentUser)
      if (login.value?.token === token) user.value = me
      return true
    } catch {
      return false // the account menu falls back to the name typed at login
    }
  }

  async function register(name: string, password: string) {
    await authApi.register(name, password)
    await logIn(name, password)
  }

  function logOut() {
    endLogin(null)
  }

  /** Restores a stored login at start-up and follows logins/logouts in other tabs. */
  function restore() {
    const stored = readStored()
    if (stored !== null) {
      login.value = stored
      checkExpiry()
    }
    if (followingOtherTabs) return
    followingOtherTabs = true
    window.addEventListener('storage', (event) => {
      if (event.key !== STORAGE_KEY) return
      const next = readStored()
      if (next === null) endLogin(null)
      else persist(next)
    })
  }

  setAuthHooks({
    token: () => (checkExpiry() ? null : token.value),
    onUnauthorized: () => {
      if (login.value !== null) endLogin(REJECTED_MESSAGE)
    },
  })

  return {
    login,
    user,
    notice,
    isAuthenticated,
    username,
    token,
    logIn,
    loadUser,
    register,
    logOut,
    endLogin,
    checkExpiry,
    restore,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useAuthStore, import.meta.hot))
