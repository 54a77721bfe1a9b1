"""The package's architecture, checked: the import contract of pyproject.toml (each layer imports
only from the layers below it, imports inside functions included), no import cycle anywhere, no
module that shares its name with a public name, no import of the package root from inside it."""

import ast
import pathlib
import subprocess

import grimp

import lrdecay

SRC = pathlib.Path(lrdecay.__file__).parent


def test_the_import_contract_is_kept():
    done = subprocess.run(["lint-imports", "--no-cache"],
                          capture_output=True, text=True, timeout=300, cwd=SRC.parent.parent, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout, done.stdout[-2000:]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules():
    graph = grimp.build_graph("lrdecay", cache_dir=None)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert sum(map(len, edges.values())) > 100  # the graph was read
    assert _cycles(edges) == []


def test_no_module_shares_its_name_with_a_public_name():
    public = set(lrdecay.__all__)
    modules = {path.stem for path in SRC.rglob("*.py")} | {path.name for path in SRC.rglob("*") if path.is_dir()}
    wanted = {"ema", "finder"}  # lrdecay.ema and lrdecay.finder are the modules themselves
    assert modules & public == wanted


def test_nothing_inside_imports_the_package_root():
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import) and any(alias.name == "lrdecay" for alias in node.names):
                offenders.append(str(path))
            if isinstance(node, ast.ImportFrom) and node.module == "lrdecay" and path.name != "__init__.py":
                offenders.append(str(path))
    assert offenders == []
