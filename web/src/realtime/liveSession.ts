// One login's live session: the event stream (started at once, so the views' first loads wait
// for its welcome instead of racing it), the browser's online/offline events, and the app's
// first-load fetches. The app shell starts it and stops it when the login ends.
import { loadFirstData } from '@/stores/firstLoad'

import { createAppEventStream } from './eventStream'
import { followLiveLoads } from './liveLoad'

export function startLiveSession(): () => void {
  const stream = createAppEventStream()
  stream.start()
  const onOnline = () => stream.setBrowserOnline(true)
  const onOffline = () => stream.setBrowserOnline(false)
  if (typeof navigator !== 'undefined' && navigator.onLine === false) onOffline()
  window.addEventListener('online', onOnline)
  window.addEventListener('offline', onOffline)
  const stopLoads = followLiveLoads(loadFirstData)

  return () => {
    stopLoads()
    window.removeEventListener('online', onOnline)
    window.removeEventListener('offline', onOffline)
    stream.stop()
  }
}
