// A dialog opened by a button elsewhere (not Vuetify's activator slot) gives focus back to what
// had it when it closes, so a keyboard user continues where they were.
import { nextTick, watch } from 'vue'

export function useReturnFocus(open: () => boolean): void {
  let before: HTMLElement | null = null
  watch(open, (isOpen) => {
    if (isOpen) {
      before = document.activeElement instanceof HTMLElement ? document.activeElement : null
      return
    }
    const target = before
    before = null
    // After the overlay has let go of focus.
    void nextTick(() => {
      if (target?.isConnected) target.focus()
    })
  })
}
