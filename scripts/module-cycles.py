#!/usr/bin/env python3
"""Import cycles between the modules of one crate (Python 3, stdlib only).

For every crate under crates/ and bench/, each target root (src/lib.rs, src/main.rs,
src/bin/*.rs, tests/*.rs, tests/*/main.rs, benches/*.rs, examples/*.rs, build.rs) is
walked through its `mod x;` declarations, so each .rs file gets its module path. An
edge m -> n means the file of m names module n: `use crate::…`, `use super::…`,
`use self::…`, `use child::…`, or `crate::`/`super::`/`self::`/`child::` paths in code.
A name imported or re-exported by the module it is reached through is followed to
where it comes from (`crate::Config` re-exported from `config` is an edge to `config`).

Not edges: declaring `mod child;`, a file naming itself, its inline modules (`mod tests
{ use super::*; }`), external crates. A child's `use super::X` (X defined in the parent
file) is an edge child -> parent; a parent's `child::X` is an edge parent -> child.

Prints every strongly connected component of more than one module, with one line of
evidence for each edge inside it, and exits 1 if there is any.

Usage: scripts/module-cycles.py [REPO_ROOT]   (default: the parent of scripts/)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
EXTERN = "<extern>"  # first segment of an imported path outside the crate


def strip_comments_and_strings(text: str) -> str:
    """Blanks comments, string and char literals, keeping offsets and newlines."""
    out = []
    i, n = 0, len(text)

    def blank(s: str) -> str:
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif (m := re.compile(r'b?r(#*)"').match(text, i)) and (
            i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            end = '"' + m.group(1)
            j = text.find(end, m.end())
            j = n if j < 0 else j + len(end)
            out.append(blank(text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(blank(text[i : j + 1]))
            i = j + 1
        elif c == "'":
            m = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'\n])'").match(text, i)
            if m:
                out.append(blank(m.group(0)))
                i = m.end()
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand_use_tree(tree: str) -> list[tuple[list[str], str | None]]:
    """`a::{b, c::{self, D as E}}` -> [(path segments, alias or None), …]; `*` is a segment."""
    tree = re.sub(r"\s+", "", tree)

    def parse(s: str, prefix: list[str]) -> list[tuple[list[str], str | None]]:
        results = []
        for part in split_top(s):
            if not part:
                continue
            brace = part.find("{")
            if brace >= 0:
                head = [p for p in part[:brace].split("::") if p]
                results += parse(part[brace + 1 : part.rfind("}")], prefix + head)
            else:
                alias = None
                segs = [p for p in part.split("::") if p]
                results.append((prefix + segs, alias))
        return results

    def split_top(s: str) -> list[str]:
        parts, depth, cur = [], 0, []
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append("".join(cur))
                cur = []
            else:
                cur.append(ch)
        parts.append("".join(cur))
        return parts

    return parse(tree, [])


def use_tree_with_aliases(raw: str) -> list[tuple[list[str], str | None]]:
    """Like expand_use_tree, but keeps `x as y` apart before the spaces are dropped."""
    marked = re.sub(rf"\s+as\s+({IDENT})", "\0\\1", raw)
    results = []
    for segs, _ in expand_use_tree(marked):
        alias = None
        if segs and "\0" in segs[-1]:
            last, alias = segs[-1].split("\0", 1)
            segs = segs[:-1] + [last]
        results.append((segs, alias))
    return results


@dataclass
class Module:
    path: tuple[str, ...]  # relative to the target root; () is the root
    file: Path  # the file that holds it (an inline module shares its parent's file)
    inline: bool
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)
    imports: dict[str, tuple[list[str], int]] = field(default_factory=dict)  # name -> (abs path, line)
    globs: list[tuple[list[str], int]] = field(default_factory=list)
    refs: list[tuple[list[str], int]] = field(default_factory=list)  # absolute paths named


TOKEN = re.compile(
    rf"(?P<attrpath>#\[\s*path\s*=\s*\"(?P<pathval>[^\"]*)\"\s*\])"
    rf"|(?P<mod>\bmod\s+(?P<modname>{IDENT})\s*(?P<modend>[;{{]))"
    rf"|(?P<use>\buse\s+(?P<usetree>[^;]*);)"
    rf"|(?P<path>(?<![\w:$])(?P<head>{IDENT})\s*::\s*(?P<rest>(?:{IDENT}\s*::\s*)*{IDENT}))"
    rf"|(?P<open>\{{)|(?P<close>\}})"
)


class Target:
    def __init__(self, name: str, root: Path):
        self.name = name
        self.root = root
        self.modules: dict[tuple[str, ...], Module] = {}
        self.load(root, (), root.parent, is_mod_rs=True)

    def load(self, file: Path, path: tuple[str, ...], _dir: Path, is_mod_rs: bool) -> None:
        try:
            raw = file.read_text(encoding="utf-8")
        except OSError:
            return
        # Preserve `#[path = "…"]` values, which stripping would blank.
        path_attrs = {m.start(): m.group(1) for m in re.finditer(r'#\[\s*path\s*=\s*"([^"]*)"\s*\]', raw)}
        text = strip_comments_and_strings(raw)
        line_of = _line_index(text)
        # Where this file's child modules live on disk.
        child_dir = file.parent if is_mod_rs else file.parent / file.stem
        self.modules[path] = Module(path, file, inline=False)
        scope: list[tuple[tuple[str, ...], Path, int]] = [(path, child_dir, 0)]  # (module, dir, depth)
        depth = 0
        pending_path: str | None = None
        for m in TOKEN.finditer(text):
            cur, cur_dir, _ = scope[-1]
            if m.group("attrpath"):
                pending_path = path_attrs.get(m.start())
            elif m.group("mod"):
                name = m.group("modname")
                child = cur + (name,)
                self.modules[cur].children[name] = child
                if m.group("modend") == ";":
                    if pending_path is not None:
                        target = (file.parent / pending_path) if len(scope) == 1 else (cur_dir / pending_path)
                        self.load(target, child, target.parent, is_mod_rs=True)
                    else:
                        a, b = cur_dir / f"{name}.rs", cur_dir / name / "mod.rs"
                        if a.exists():
                            self.load(a, child, cur_dir, is_mod_rs=False)
                        elif b.exists():
                            self.load(b, child, cur_dir / name, is_mod_rs=True)
                    pending_path = None
                else:
                    self.modules[child] = Module(child, file, inline=True)
                    depth += 1
                    scope.append((child, cur_dir / name, depth))
                    pending_path = None
            elif m.group("open"):
                depth += 1
            elif m.group("close"):
                if len(scope) > 1 and scope[-1][2] == depth:
                    scope.pop()
                depth -= 1
            elif m.group("use"):
                line = line_of(m.start())
                for segs, alias in use_tree_with_aliases(m.group("usetree")):
                    segs = [s for s in segs if s]
                    if not segs:
                        continue
                    absolute = self.absolutise(segs, cur)
                    if absolute is None:
                        # Another crate (or std): remember the name so that a path through
                        # this module to it is not mistaken for a use of this module.
                        if segs[-1] not in ("*", "self") and (alias or segs[-1]) != "_":
                            self.modules[cur].imports[alias or segs[-1]] = ([EXTERN] + segs, line)
                        continue
                    if absolute and absolute[-1] == "*":
                        self.modules[cur].globs.append((absolute[:-1], line))
                        self.modules[cur].refs.append((absolute[:-1], line))
                        continue
                    if absolute and absolute[-1] == "self":
                        absolute = absolute[:-1]
                    name = alias or (absolute[-1] if absolute else None)
                    if name and name != "_":
                        self.modules[cur].imports[name] = (absolute, line)
                    self.modules[cur].refs.append((absolute, line))
            elif m.group("path"):
                segs = [m.group("head")] + [s.strip() for s in re.split(r"\s*::\s*", m.group("rest"))]
                absolute = self.absolutise(segs, cur, code=True)
                if absolute is not None:
                    self.modules[cur].refs.append((absolute, line_of(m.start())))

    def absolutise(self, segs: list[str], cur: tuple[str, ...], code: bool = False) -> list[str] | None:
        head = segs[0]
        if head == "crate":
            return segs[1:]
        if head in ("self", "super"):
            base = list(cur)
            rest = segs
            while rest and rest[0] in ("self", "super"):
                if rest[0] == "super":
                    if not base:
                        return None
                    base.pop()
                rest = rest[1:]
            return base + rest
        # A child module of the current scope (or, for code, a name the scope imports).
        mod = self.modules.get(cur)
        if mod is not None and head in mod.children:
            return list(cur) + segs
        if code and mod is not None and head in mod.imports:
            return None  # resolved through the import itself
        return None

    def resolve(self, absolute: list[str], seen: int = 0) -> tuple[str, ...] | None:
        """The file module a path lands in, following imports and re-exports."""
        best: tuple[str, ...] | None = None
        for k in range(len(absolute), -1, -1):
            if tuple(absolute[:k]) in self.modules:
                best = tuple(absolute[:k])
                rest = absolute[k:]
                break
        if best is None:
            return None
        mod = self.modules[best]
        if rest and seen < 8 and rest[0] in mod.imports:
            target = mod.imports[rest[0]][0] + rest[1:]
            if target[:1] == [EXTERN]:
                return None
            if target != absolute:
                followed = self.resolve(target, seen + 1)
                if followed is not None:
                    return followed
        return self.file_module(best)

    def file_module(self, path: tuple[str, ...]) -> tuple[str, ...]:
        while self.modules[path].inline:
            path = path[:-1]
        return path

    def edges(self) -> dict[tuple[str, ...], dict[tuple[str, ...], int]]:
        graph: dict[tuple[str, ...], dict[tuple[str, ...], int]] = {}
        for path, mod in self.modules.items():
            src = self.file_module(path)
            graph.setdefault(src, {})
            for absolute, line in mod.refs:
                dst = self.resolve(absolute)
                if dst is None or dst == src:
                    continue
                graph[src].setdefault(dst, line)
        return graph


def _line_index(text: str):
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    import bisect

    return lambda pos: bisect.bisect_right(starts, pos)


def strongly_connected(graph: dict) -> list[list]:
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        work = [(v, iter(graph.get(v, ())))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(graph.get(w, ()))))
                    advanced = True
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(comp)

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def targets_of(crate: Path) -> list[tuple[str, Path]]:
    roots = []
    for rel in ("src/lib.rs", "src/main.rs", "build.rs"):
        if (crate / rel).exists():
            roots.append((rel, crate / rel))
    for folder in ("src/bin", "tests", "benches", "examples"):
        d = crate / folder
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            if p.suffix == ".rs" and p.is_file():
                roots.append((str(p.relative_to(crate)), p))
            elif p.is_dir() and (p / "main.rs").exists():
                roots.append((str((p / "main.rs").relative_to(crate)), p / "main.rs"))
    return roots


def main() -> int:
    repo = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    crates = sorted(p for p in (repo / "crates").iterdir() if (p / "Cargo.toml").exists())
    if (repo / "bench" / "Cargo.toml").exists():
        crates.append(repo / "bench")
    found = 0
    checked = 0
    for crate in crates:
        for rel, root in targets_of(crate):
            target = Target(rel, root)
            graph = target.edges()
            checked += len(graph)
            for comp in strongly_connected(graph):
                if len(comp) < 2:
                    continue
                found += 1
                members = set(comp)
                names = sorted("::".join(("crate",) + m) for m in comp)
                print(f"{crate.relative_to(repo)} ({rel}): cycle of {len(comp)} modules: {', '.join(names)}")
                for src in sorted(comp):
                    for dst, line in sorted(graph[src].items()):
                        if dst in members:
                            f = target.modules[src].file.relative_to(repo)
                            print(f"    {'::'.join(('crate',) + src)} -> {'::'.join(('crate',) + dst)}  ({f}:{line})")
    if found:
        print(f"{found} import cycle(s) in {checked} modules")
        return 1
    print(f"no import cycles ({checked} modules in {len(crates)} crates)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
