// Loads what a component shows in step with the event stream (`followLiveLoads`): first when
// the component is mounted and the stream settled, then on every reload, until it unmounts.
import { onBeforeUnmount, onMounted } from 'vue'

import { followLiveLoads } from '@/realtime/liveLoad'

export { CONNECT_GRACE_MS } from '@/realtime/liveLoad'

export function useLiveLoad(load: () => unknown): void {
  let stop: (() => void) | null = null
  onMounted(() => {
    stop = followLiveLoads(load)
  })
  onBeforeUnmount(() => stop?.())
}
