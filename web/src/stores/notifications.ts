// Browser notifications when jobs fail (opt-in, Notification API): for someone who keeps
// the dashboard in a background tab. Off until the user turns it on (which asks the browser's
// permission); the choice is kept in localStorage. A burst of failures makes one notification
// (at most one every 10 s, counting what it held back), never thousands.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref } from 'vue'

import { jobsCount } from '@/domain/jobActions'

export const NOTIFY_KEY = 'balsam.notifyFailures'
export const NOTIFY_EVERY_MS = 10_000

function supported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window
}

export const useNotificationsStore = defineStore('notifications', () => {
  const permission = ref<NotificationPermission>(supported() ? Notification.permission : 'denied')
  const enabled = ref(
    supported() &&
      Notification.permission === 'granted' &&
      localStorage.getItem(NOTIFY_KEY) === '1',
  )
  let lastShown = 0
  let held: number[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  let onOpen: () => void = () => undefined

  /** Asks the browser's permission (once) and turns notifications on if granted. */
  async function enable(): Promise<boolean> {
    if (!supported()) return false
    permission.value =
      Notification.permission === 'default'
        ? await Notification.requestPermission()
        : Notification.permission
    enabled.value = permission.value === 'granted'
    localStorage.setItem(NOTIFY_KEY, enabled.value ? '1' : '0')
    return enabled.value
  }

  function disable() {
    enabled.value = false
    localStorage.setItem(NOTIFY_KEY, '0')
    held = []
    clearTimeout(timer)
  }

  /** What a click on a notification does (the shell opens the failed jobs). */
  function onClick(open: () => void) {
    onOpen = open
  }

  function show() {
    timer = undefined
    if (!enabled.value || held.length === 0) return
    const ids = held
    held = []
    lastShown = Date.now()
    const title = ids.length === 1 ? `Job ${ids[0]} failed` : `${jobsCount(ids.length)} failed`
    const note = new Notification(title, {
      body: 'Balsam: click to see the failed jobs',
      tag: 'balsam-failures',
    })
    note.onclick = () => {
      window.focus()
      onOpen()
      note.close()
    }
  }

  /** Jobs that just failed: shown now, or with the next notification within 10 s. */
  function notify(jobIds: readonly number[]) {
    if (!enabled.value || jobIds.length === 0) return
    held.push(...jobIds)
    if (timer !== undefined) return
    const wait = Math.max(0, lastShown + NOTIFY_EVERY_MS - Date.now())
    if (wait === 0) show()
    else timer = setTimeout(show, wait)
  }

  return { permission, enabled, enable, disable, notify, onClick }
})

if (import.meta.hot) {
  import.meta.hot.accept(acceptHMRUpdate(useNotificationsStore, import.meta.hot))
}
