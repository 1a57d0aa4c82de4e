// Mounting less for a view's first frame (the Jobs page at a million jobs waits for its mount,
// bench/web/README.md): parts that are not needed to see the data (filter fields, a footer
// below the fold) mount once the frame showing the data was painted, and closed dialogs mount
// on their first opening. Both stay mounted afterwards.
import { getCurrentScope, onScopeDispose, readonly, ref, watch, type Ref } from 'vue'

/** How long `useAfterFirstPaint` waits at most, whatever `shown` says (a hidden tab paints nothing). */
export const FIRST_PAINT_WAIT_MS = 1_000

/**
 * `false` until the frame after `shown()` first turned true has been painted (the task after
 * that frame's animation callbacks), or `maxWaitMs` after the call, whichever comes first.
 */
export function useAfterFirstPaint(
  shown: () => boolean,
  maxWaitMs = FIRST_PAINT_WAIT_MS,
): Readonly<Ref<boolean>> {
  const done = ref(false)
  let frame: number | undefined
  const finish = () => {
    done.value = true
    stop()
    if (frame !== undefined) cancelAnimationFrame(frame)
    clearTimeout(timer)
  }
  const stop = watch(
    shown,
    (isShown) => {
      if (!isShown || frame !== undefined) return
      // The frame is painted after its animation callbacks: the next task runs after it.
      frame = requestAnimationFrame(() => void setTimeout(finish))
    },
    { immediate: true, flush: 'post' },
  )
  const timer = setTimeout(finish, maxWaitMs)
  if (getCurrentScope()) onScopeDispose(finish)
  return readonly(done)
}

/** `true` from the first time `open()` is true: a dialog mounted on its first opening. */
export function useOpenedOnce(open: () => boolean): Readonly<Ref<boolean>> {
  const opened = ref(open())
  if (!opened.value) {
    const stop = watch(open, (isOpen) => {
      if (!isOpen) return
      opened.value = true
      stop()
    })
  }
  return readonly(opened)
}
