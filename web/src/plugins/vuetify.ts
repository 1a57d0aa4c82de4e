// Vuetify with SVG icons (no icon font to fetch) and light/dark themes. The job-state
// colours follow the Okabe–Ito palette, which stays distinguishable with colour-blindness.
import 'vuetify/styles'

import { createVuetify, type ThemeDefinition } from 'vuetify'
import { aliases, mdi } from 'vuetify/iconsets/mdi-svg'

const stateColors = {
  'state-waiting': '#7B8794',
  'state-runnable': '#56B4E9',
  'state-running': '#0072B2',
  'state-finishing': '#CC79A7',
  'state-done': '#009E73',
  'state-trouble': '#E69F00',
  'state-failed': '#D55E00',
}

// Text on a filled state colour: black wherever it contrasts better than white (WCAG AA at
// chip size), which Vuetify's own pick does not always do (white on #D55E00 is 3.9:1).
const onStateColors = {
  'on-state-waiting': '#000000',
  'on-state-runnable': '#000000',
  'on-state-running': '#FFFFFF',
  'on-state-finishing': '#000000',
  'on-state-done': '#000000',
  'on-state-trouble': '#000000',
  'on-state-failed': '#000000',
}

// Vuetify's default secondary-text opacity (0.6) falls just short of WCAG AA contrast on
// labels and subtitles; 0.7 passes in both themes (checked by e2e/accessibility.spec.ts).
const variables = { 'medium-emphasis-opacity': 0.7 }

// Vuetify's warning orange (#FB8C00) with white text is 2.3:1: the "Stale" chip and other
// filled warnings failed WCAG AA. A darker amber passes with white text (5.0:1), and as text
// on white; in the dark theme a light amber carries black text.
const light: ThemeDefinition = {
  dark: false,
  colors: {
    primary: '#0B5394',
    warning: '#B45309',
    'on-warning': '#FFFFFF',
    ...stateColors,
    ...onStateColors,
  },
  variables,
}

const dark: ThemeDefinition = {
  dark: true,
  colors: {
    primary: '#6FA8DC',
    warning: '#FFB74D',
    'on-warning': '#000000',
    ...stateColors,
    ...onStateColors,
    'state-running': '#3A9AD9',
    'on-state-running': '#000000',
  },
  variables,
}

export function buildVuetify() {
  return createVuetify({
    icons: { defaultSet: 'mdi', aliases, sets: { mdi } },
    // 'system' follows the system's light/dark setting, also when it changes while open.
    theme: { defaultTheme: 'system', themes: { light, dark } },
    defaults: {
      // Below the `sm` breakpoint (phones), tables stack each row as label/value pairs
      // instead of scrolling sideways.
      VDataTable: { density: 'comfortable', hover: true, mobileBreakpoint: 'sm' },
      VDataTableServer: { density: 'comfortable', hover: true, mobileBreakpoint: 'sm' },
      VTextField: { variant: 'outlined', density: 'comfortable' },
      VSelect: { variant: 'outlined', density: 'comfortable' },
    },
  })
}
