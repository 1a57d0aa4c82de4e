// Routes and the login guard. Views not built yet say so instead of pretending.
import type { Pinia } from 'pinia'
import {
  createRouter,
  createWebHistory,
  type RouteRecordRaw,
  type Router,
  type RouterHistory,
} from 'vue-router'

import { useAuthStore } from '@/stores/auth'
import LoginView from '@/views/LoginView.vue'
import NotBuiltView from '@/views/NotBuiltView.vue'

declare module 'vue-router' {
  interface RouteMeta {
    title?: string
    /** Reachable without logging in. */
    public?: boolean
    /** Rendered without the app shell (login page). */
    bare?: boolean
  }
}

function notBuilt(path: string, name: string, title: string, plan: string): RouteRecordRaw {
  return { path, name, component: NotBuiltView, props: { title, plan }, meta: { title } }
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: LoginView,
    meta: { title: 'Log in', public: true, bare: true },
  },
  {
    path: '/',
    name: 'dashboard',
    component: () => import('@/views/DashboardView.vue'),
    meta: { title: 'Dashboard' },
  },
  {
    path: '/jobs',
    name: 'jobs',
    component: () => import('@/views/JobsView.vue'),
    meta: { title: 'Jobs' },
  },
  {
    path: '/jobs/:id(\\d+)',
    name: 'job',
    component: () => import('@/views/JobDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { title: 'Job' },
  },
  notBuilt(
    '/batch-jobs',
    'batch-jobs',
    'BatchJobs',
    'Queued and running BatchJobs per Site, with their Jobs.',
  ),
  notBuilt('/transfers', 'transfers', 'Transfers', 'Stage-in and stage-out TransferItems.'),
  {
    path: '/apps',
    name: 'apps',
    component: () => import('@/views/AppsView.vue'),
    meta: { title: 'Apps' },
  },
  notBuilt('/sessions', 'sessions', 'Sessions', 'Launcher Sessions and their heartbeats.'),
  {
    path: '/sites',
    name: 'sites',
    component: () => import('@/views/SitesView.vue'),
    meta: { title: 'Sites' },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/NotFoundView.vue'),
    meta: { title: 'Not found' },
  },
]

/** A `?redirect=` target that stays inside the app; anything else becomes `null`. */
export function safeRedirect(value: unknown): string | null {
  if (typeof value !== 'string') return null
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null
  if (value === '/login' || value.startsWith('/login?')) return null
  return value
}

export function buildRouter(pinia: Pinia, history: RouterHistory = createWebHistory()): Router {
  const router = createRouter({ history, routes })

  router.beforeEach((to) => {
    const auth = useAuthStore(pinia)
    auth.checkExpiry()
    if (!to.meta.public && !auth.isAuthenticated) {
      return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
    }
    if (to.name === 'login' && auth.isAuthenticated) {
      return safeRedirect(to.query.redirect) ?? { name: 'dashboard' }
    }
    return true
  })

  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · Balsam` : 'Balsam'
  })

  return router
}
