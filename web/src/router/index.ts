// Repetition note: route records share one shape on purpose (path, name, lazy view, meta).
// Routes and the login guard.
import type { Pinia } from 'pinia'
import {
  createRouter,
  createWebHistory,
  type RouteLocationNormalizedLoaded,
  type RouteRecordRaw,
  type Router,
  type RouterHistory,
} from 'vue-router'

import { jobFiltersOf } from '@/composables/useJobFilters'
import { jobPageQuery } from '@/domain/jobQuery'
import { useAuthStore } from '@/stores/auth'
import { useJobsStore } from '@/stores/jobs'
import LoginView from '@/views/LoginView.vue'

import { safeRedirect } from './redirect'

declare module 'vue-router' {
  interface RouteMeta {
    title?: string
    /** Reachable without logging in. */
    public?: boolean
    /** Rendered without the app shell (login page). */
    bare?: boolean
    /**
     * Sends the GET the view sends first (through the GET memo, which shares it with the
     * view's own load): App.vue calls it before the first render, so on a page load the GET
     * travels while the view mounts.
     */
    preload?: (route: RouteLocationNormalizedLoaded) => void
  }
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
    meta: {
      title: 'Jobs',
      preload: (to) => void useJobsStore().loadPage(jobPageQuery(jobFiltersOf(to.query))),
    },
  },
  {
    path: '/jobs/:id(\\d+)',
    name: 'job',
    component: () => import('@/views/JobDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { title: 'Job' },
  },
  {
    path: '/batch-jobs',
    name: 'batch-jobs',
    component: () => import('@/views/BatchJobsView.vue'),
    meta: { title: 'BatchJobs' },
  },
  {
    path: '/batch-jobs/:id(\\d+)',
    name: 'batch-job',
    component: () => import('@/views/BatchJobDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { title: 'BatchJob' },
  },
  {
    path: '/transfers',
    name: 'transfers',
    component: () => import('@/views/TransfersView.vue'),
    meta: { title: 'Transfers' },
  },
  {
    path: '/apps',
    name: 'apps',
    component: () => import('@/views/AppsView.vue'),
    meta: { title: 'Apps' },
  },
  {
    path: '/sessions',
    name: 'sessions',
    component: () => import('@/views/SessionsView.vue'),
    meta: { title: 'Sessions' },
  },
  {
    path: '/sites',
    name: 'sites',
    component: () => import('@/views/SitesView.vue'),
    meta: { title: 'Sites' },
  },
  {
    path: '/sites/:id(\\d+)',
    name: 'site',
    component: () => import('@/views/SiteDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { title: 'Site' },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/views/NotFoundView.vue'),
    meta: { title: 'Not found' },
  },
]

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
