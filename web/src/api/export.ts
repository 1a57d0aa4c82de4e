// `GET /api/v1/jobs/export`: the filtered Jobs view as a CSV or JSON file, streamed by the
// server page by page. The browser reads it with the bearer token (a plain link could not
// send one, and the token never goes into a URL), then hands it to the user as a download.
import { api } from './client'
import type { JobQuery } from './types'

export type ExportFormat = 'csv' | 'json'

/** The jobs the filters match, as a file: its contents and a name to save it under. */
export async function exportJobs(
  filters: JobQuery,
  format: ExportFormat,
): Promise<{ blob: Blob; name: string }> {
  const query = { ...filters }
  delete query.limit
  delete query.offset
  delete query.ordering
  const { data, error, response } = await api.GET('/jobs/export', {
    params: { query: { ...query, format } },
    parseAs: 'blob',
  })
  if (data === undefined) {
    const detail =
      typeof error === 'object' && error !== null && 'detail' in error
        ? JSON.stringify((error as { detail: unknown }).detail)
        : response.statusText
    throw new Error(`Export failed (${response.status}): ${detail}`)
  }
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')
  return { blob: data, name: `balsam-jobs-${stamp}.${format}` }
}

/** Hands a file to the browser's downloads. */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = name
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
