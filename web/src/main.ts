import { createPinia } from 'pinia'
import { createApp } from 'vue'

import App from './App.vue'
import { buildVuetify } from './plugins/vuetify'
import { buildRouter } from './router'
import { useAuthStore } from './stores/auth'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
useAuthStore(pinia).restore()
app.use(buildRouter(pinia))
app.use(buildVuetify())
app.mount('#app')
