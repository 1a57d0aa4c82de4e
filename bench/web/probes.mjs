// What the web benchmarks measure inside the page: the init script that records socket
// frames, repaints and long tasks, and the probes that read it back (heap, store sizes,
// the first row, repaint watches). Shared by run.mjs; no server or login state here.

// Instruments the page without touching the app: arrival time and seq of every socket frame,
// and a requestAnimationFrame recorder.
export function instrument() {
  const bench = {
    sockets: [],
    maxSeq: 0,
    frames: 0,
    onFrame: null,
    deltas: null,
    longTasks: [],
  }
  window.__bench = bench
  const Native = window.WebSocket
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args)
      bench.sockets.push(this)
      this.addEventListener('message', (event) => {
        const t = performance.now()
        if (typeof event.data !== 'string') return
        const head = event.data.slice(0, 96)
        const match = /"seq":(\d+)/.exec(head)
        if (match && head.includes('"action"'))
          bench.maxSeq = Math.max(bench.maxSeq, Number(match[1]))
        bench.frames += 1
        bench.onFrame?.(t, head)
      })
    }
  }
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) bench.longTasks.push([entry.startTime, entry.duration])
  }).observe({ type: 'longtask', buffered: true })
  let last = null
  const tick = (t) => {
    if (bench.deltas !== null && last !== null) bench.deltas.push(t - last)
    last = t
    requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)
}

/** MB of JS heap the page uses after a full garbage collection (CDP). */
export async function heapMb(page) {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('HeapProfiler.collectGarbage')
  const { usedSize } = await cdp.send('Runtime.getHeapUsage')
  await cdp.detach()
  return (usedSize / 1e6).toFixed(0)
}

/** Top functions by self time in a CPU profile (CDP `Profiler`). */
export function topSelfTime(profile, n = 12) {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map()
  const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length)
  for (const id of profile.samples) {
    const frame = byNode.get(id).callFrame
    const file = frame.url.split('/').pop() || '(native)'
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + interval / 1000)
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n)
}

/**
 * Self time by event name on the renderer's main thread of a Chromium trace (complete events;
 * a nested event's time is taken out of its parent's), top `n`: separates script from style
 * recalculation, layout, paint and the rest of what a CPU profile calls `(program)`.
 */
export function mainThreadSelfTime(trace, n = 10) {
  const events = trace.traceEvents ?? trace
  const main = new Set(
    events
      .filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map((e) => `${e.pid}:${e.tid}`),
  )
  const byThread = new Map()
  for (const e of events) {
    if (e.ph !== 'X' || typeof e.dur !== 'number' || !main.has(`${e.pid}:${e.tid}`)) continue
    const key = `${e.pid}:${e.tid}`
    if (!byThread.has(key)) byThread.set(key, [])
    byThread.get(key).push(e)
  }
  const self = new Map()
  for (const list of byThread.values()) {
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur)
    const stack = []
    for (const e of list) {
      while (stack.length > 0 && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop()
      const parent = stack.at(-1)
      if (parent !== undefined) self.set(parent.name, (self.get(parent.name) ?? 0) - e.dur / 1000)
      self.set(e.name, (self.get(e.name) ?? 0) + e.dur / 1000)
      stack.push(e)
    }
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n)
}

/** The page's jobs store, read through the app instance Vue leaves on its mount point. */
export function storeSize(page, store) {
  return page.evaluate((name) => {
    const app = document.querySelector('#app').__vue_app__
    return app.config.globalProperties.$pinia._s.get(name)?.size ?? null
  }, store)
}

/** Waits until the page received every event up to the log's head and settled. */
export async function caughtUp(page) {
  const head = await logHead()
  await page.waitForFunction((h) => window.__bench.maxSeq >= h, head, { timeout: 600_000 })
  await page.evaluate(
    () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 300))),
  )
}

/** The id and state shown in the first row of the Jobs table. */
export function firstRow(page) {
  return page.evaluate(() => {
    const cells = document.querySelectorAll('[data-testid="jobs-table"] tbody tr:first-child td')
    return { id: Number(cells[1]?.textContent?.trim()), state: cells[2]?.textContent?.trim() }
  })
}

/**
 * Arms a watch in the page: resolves with the time of the first animation frame after the
 * first row's state cell reads `state`; `t0` is the first job-update frame's arrival
 * (or a time set later by the caller through `__bench.t0`).
 */
export function armRepaintWatch(page, state) {
  return page.evaluate(
    (target) =>
      new Promise((done) => {
        const bench = window.__bench
        bench.t0 = null
        bench.lastFrameAt = null
        bench.onFrame = (t, head) => {
          if (head.includes('"type":"job"')) {
            bench.t0 ??= t
            bench.lastFrameAt = t
          }
        }
        const table = document.querySelector('[data-testid="jobs-table"] tbody')
        const observer = new MutationObserver(() => {
          const cell = table.querySelector('tr:first-child td:nth-child(3)')
          if (cell?.textContent?.trim() !== target) return
          const changedAt = performance.now()
          observer.disconnect()
          requestAnimationFrame((painted) =>
            done({
              total: painted - bench.t0,
              toDom: changedAt - bench.t0,
              framesSpread: (bench.lastFrameAt ?? bench.t0) - bench.t0,
            }),
          )
        })
        observer.observe(table, { subtree: true, childList: true, characterData: true })
        bench.armed = true
      }),
    state,
  )
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}
