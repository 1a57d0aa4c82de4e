// Fails when modules of src/ import each other in a cycle (static, dynamic and type-only
// imports all count): the layers (api → domain → stores → realtime → composables →
// components → views) must stay a one-way street. Run by `npm run lint`.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src')
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.(ts|vue)$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}

function resolveImport(from, specifier) {
  let base
  if (specifier.startsWith('@/')) base = join(src, specifier.slice(2))
  else if (specifier.startsWith('.')) base = resolve(dirname(from), specifier)
  else return null
  for (const candidate of [base, `${base}.ts`, `${base}.vue`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return null
}

const graph = new Map()
for (const file of sourceFiles(src)) {
  const targets = new Set()
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const target = resolveImport(file, specifier)
    if (target !== null && target !== file) targets.add(target)
  }
  graph.set(file, targets)
}

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let next = 0
const index = new Map()
const low = new Map()
const stack = []
const onStack = new Set()
const cycles = []
function visit(file) {
  index.set(file, next)
  low.set(file, next)
  next += 1
  stack.push(file)
  onStack.add(file)
  for (const target of graph.get(file) ?? []) {
    if (!index.has(target)) {
      visit(target)
      low.set(file, Math.min(low.get(file), low.get(target)))
    } else if (onStack.has(target)) {
      low.set(file, Math.min(low.get(file), index.get(target)))
    }
  }
  if (low.get(file) !== index.get(file)) return
  const component = []
  let member
  do {
    member = stack.pop()
    onStack.delete(member)
    component.push(member)
  } while (member !== file)
  if (component.length > 1) cycles.push(component)
}
for (const file of graph.keys()) if (!index.has(file)) visit(file)

if (cycles.length === 0) {
  process.stdout.write(`check-cycles: no import cycle among ${graph.size} modules of src/\n`)
} else {
  for (const cycle of cycles) {
    console.error(`import cycle: ${cycle.map((file) => relative(src, file)).join(' ↔ ')}`)
  }
  process.exitCode = 1
}
