// `GET /api/v1/jobs/export`: the filtered Jobs view as a CSV or JSON file, streamed by the
// server page by page. The browser reads it with the bearer token (a plain link could not
// send one, and the token never goes into a URL). Where the browser can write a file the
// user picks (the File System Access API, Chromium), the response streams into it and is
// never held whole in memory; elsewhere it is read into a Blob and handed to the downloads.
import { api } from './client'
import type { JobQuery } from './types'

export type ExportFormat = 'csv' | 'json'

const MEDIA: Record<ExportFormat, { description: string; accept: Record<string, string[]> }> = {
  csv: { description: 'CSV file', accept: { 'text/csv': ['.csv'] } },
  json: { description: 'JSON file', accept: { 'application/json': ['.json'] } },
}

/** The name an export is offered under: `balsam-jobs-<UTC time>.<format>`. */
export function exportName(format: ExportFormat, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[:T]/g, '-')
  return `balsam-jobs-${stamp}.${format}`
}

function exportQuery(filters: JobQuery, format: ExportFormat) {
  const query = { ...filters }
  delete query.limit
  delete query.offset
  delete query.ordering
  return { ...query, format }
}

function failure(response: Response, error: unknown): Error {
  const detail =
    typeof error === 'object' && error !== null && 'detail' in error
      ? JSON.stringify(error.detail)
      : response.statusText
  return new Error(`Export failed (${response.status}): ${detail}`)
}

/** The jobs the filters match, as a file: its contents and a name to save it under. */
export async function exportJobs(
  filters: JobQuery,
  format: ExportFormat,
): Promise<{ blob: Blob; name: string }> {
  const { data, error, response } = await api.GET('/jobs/export', {
    params: { query: exportQuery(filters, format) },
    parseAs: 'blob',
  })
  if (data === undefined) throw failure(response, error)
  return { blob: data, name: exportName(format) }
}

interface SaveFilePicker {
  showSaveFilePicker(options: {
    suggestedName: string
    types: { description: string; accept: Record<string, string[]> }[]
  }): Promise<FileSystemFileHandle>
}

/** Whether this browser can stream an export straight into a file the user picks. */
export function canStreamToFile(): boolean {
  return typeof (window as Partial<SaveFilePicker>).showSaveFilePicker === 'function'
}

/**
 * Asks where to save (call it from the click: the picker needs the user's gesture), then
 * streams the export into that file. Answers the file's name, or `null` if the user
 * cancelled the picker.
 */
export async function exportJobsToFile(
  filters: JobQuery,
  format: ExportFormat,
): Promise<string | null> {
  let handle: FileSystemFileHandle
  try {
    handle = await (window as unknown as SaveFilePicker).showSaveFilePicker({
      suggestedName: exportName(format),
      types: [MEDIA[format]],
    })
  } catch (cancel) {
    if (cancel instanceof DOMException && cancel.name === 'AbortError') return null
    throw cancel
  }
  const { data, error, response } = await api.GET('/jobs/export', {
    params: { query: exportQuery(filters, format) },
    parseAs: 'stream',
  })
  if (!response.ok || data === undefined || data === null) throw failure(response, error)
  const file = await handle.createWritable()
  // pipeTo closes the file when the body ends and aborts it (nothing half-written is kept)
  // if the body fails.
  await data.pipeTo(file)
  return handle.name
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
