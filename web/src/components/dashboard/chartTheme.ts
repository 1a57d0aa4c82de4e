// The colours the dashboard's charts share, light or dark, and their count axis.
export function chartTheme(dark: boolean) {
  const text = dark ? '#E0E0E0' : '#333333'
  const grid = dark ? 'rgba(255,255,255,0.12)' : 'rgba(0,0,0,0.12)'
  return {
    text,
    grid,
    /** A y axis of whole counts. */
    countAxis: {
      type: 'value',
      minInterval: 1,
      axisLabel: { color: text },
      splitLine: { lineStyle: { color: grid } },
    },
  }
}
