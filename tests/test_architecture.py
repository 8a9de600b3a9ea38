"""Import contract: no import cycles, no upward imports (issue 17, point 1).

Every module under ``bayesmixed/`` is parsed with :mod:`ast` (nothing is imported). An
import counts wherever it is written: at module level, inside a function (a lazy import)
or under ``if TYPE_CHECKING:``, and so do ``importlib.import_module("bayesmixed...")``
string literals and the ``(module, attribute)`` string pairs of a lazy table such as
``bayesmixed.__init__._LAZY``. Relative imports are resolved against the importing
module; ``from package import name`` counts as an import of ``package.name`` when that
is a module, else of ``package``.

Layers, lowest first (a module takes the rank of its longest matching prefix in
:data:`LAYERS`)::

    0  base        errors, families, names, _version, formula.priors (priors as plain data,
                   which the family table's default priors are made of)
    1  formula     formula / YAML text -> ModelSpec
    2  design      ModelSpec + data -> design matrices
    3  graph       design -> PyMC model
    4  sample      NUTS backends
    5  report      quantities from draws: functions of (idata, meta, design); never graph or
                   sample (K-fold is handed a refit callable), nor anything above
       fitfiles    the saved-fit format and writing it (Fit.save)
    6  pipeline    spec + data -> the sampled parts of a Fit (what api and K-fold refits run)
    7  result      the Fit facade
       retry       the retry policy the API fit loop calls
       datasets
    8  io          loading a saved fit or run folder
       runfolder   writing a run folder
    9  api         bm.fit, prepare, make_spec, prior_predictive (makes Fits, runs the retry loop)
    10 simulation, library, validate, many (fit_many), power_analysis (loops over fits;
       parallel, the executor they run on, is a base module: rank 0)
    11 cli, __main__, and the package root ``bayesmixed`` (its lazy table names everything)

The contract:

(a) the module import graph has no cycle (no strongly connected component of more than
    one module);
(b) a module imports only modules of its own rank or lower (``cli`` may import anything);
(c) the pairs in :data:`FORBIDDEN` do not import each other although the ranks would allow
    it: report never imports graph or sample; io (loading) and runfolder (writing) never
    import each other; retry never imports result.

A package ``__init__`` that only re-exports its own submodules is part of that package's
layer; importing a submodule does not count as importing its package ``__init__``
(Python runs it, but it is a parent, not a dependency of the design).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "bayesmixed"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

#: module prefix -> layer rank (the longest matching prefix wins)
LAYERS: dict[str, int] = {
    "bayesmixed.errors": 0,
    "bayesmixed.families": 0,
    "bayesmixed.names": 0,
    "bayesmixed._version": 0,
    "bayesmixed._blas": 0,  # pins OpenBLAS kernels before numpy loads; imports nothing of ours
    "bayesmixed.formula.priors": 0,  # priors as plain data: families carry default priors
    "bayesmixed.parallel": 0,  # the executor (in-process or Dask); imports errors only
    "bayesmixed.formula": 1,
    "bayesmixed.design": 2,
    "bayesmixed.graph": 3,
    "bayesmixed.sample": 4,
    "bayesmixed.report": 5,
    "bayesmixed.fitfiles": 5,
    "bayesmixed.pipeline": 6,
    "bayesmixed.result": 7,
    "bayesmixed.retry": 7,
    "bayesmixed.datasets": 7,
    "bayesmixed.io": 8,
    "bayesmixed.runfolder": 8,
    "bayesmixed.api": 9,
    "bayesmixed.simulation": 10,
    "bayesmixed.library": 10,
    "bayesmixed.validate": 10,
    "bayesmixed.many": 10,
    "bayesmixed.power_analysis": 10,
    "bayesmixed.cli": 11,
    "bayesmixed.__main__": 11,
    "bayesmixed._blas_env": 11,  # `env $(python -m bayesmixed._blas_env) pytest` (Makefile)
    "bayesmixed": 11,
}

#: modules of the same rank that must not import each other (importer prefix, target prefix)
FORBIDDEN: list[tuple[str, str]] = [
    ("bayesmixed.report", "bayesmixed.graph"),
    ("bayesmixed.report", "bayesmixed.sample"),
    ("bayesmixed.io", "bayesmixed.runfolder"),
    ("bayesmixed.runfolder", "bayesmixed.io"),
    ("bayesmixed.retry", "bayesmixed.result"),
]


def module_name(path: Path) -> str:
    """Dotted module name of a file under :data:`ROOT`."""
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(target: str, known: set[str]) -> str | None:
    """The longest known module that ``target`` names or lies in (``None``: not ours)."""
    while target:
        if target in known:
            return target
        if "." not in target:
            return None
        target = target.rsplit(".", 1)[0]
    return None


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    """Absolute name of ``from <level dots><name> import ...`` written in ``module``."""
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[int, str]]:
    """``(line, imported module)`` for every import of a package module in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []

    def add(line: int, target: str) -> None:
        resolved = _resolve(target, known)
        if resolved is not None and resolved != module:
            found.append((line, resolved))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, is_package, node.level, node.module)
            for alias in node.names:
                full = f"{source}.{alias.name}"
                add(node.lineno, full if full in known else source)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # importlib.import_module("bayesmixed.x") and lazy tables of module names
            text = node.value
            if text.startswith(PACKAGE + ".") and text.replace(".", "").replace("_", "").isalnum():
                add(node.lineno, text)
    return sorted(set(found))


def import_graph() -> dict[str, list[tuple[int, str]]]:
    """The package's import graph: module -> [(line, imported module)]."""
    modules = all_modules()
    known = set(modules)
    return {m: imports_of(m, p, known) for m, p in modules.items()}


def cycles(graph: dict[str, list[tuple[int, str]]]) -> list[list[str]]:
    """Strongly connected components with a cycle (Tarjan's algorithm, iterative)."""
    succ = {m: sorted({t for _, t in edges}) for m, edges in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(succ):
        if start in index:
            continue
        work = [(start, iter(succ[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1 or node in succ.get(node, []):
                    found.append(sorted(component))
    return sorted(found)


def rank(module: str) -> int:
    """Layer rank of ``module`` (longest matching prefix of :data:`LAYERS`)."""
    best = None
    for prefix in LAYERS:
        below = module.startswith(prefix + ".") and prefix != PACKAGE  # the root: itself only
        if (module == prefix or below) and (
            best is None or len(prefix) > len(best)
        ):
            best = prefix
    if best is None:
        raise KeyError(f"{module} has no layer in LAYERS: add it")
    return LAYERS[best]


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(graph: dict[str, list[tuple[int, str]]]) -> list[str]:
    """Upward and forbidden imports, one readable line each."""
    out = []
    for module, edges in sorted(graph.items()):
        for line, target in edges:
            if rank(target) > rank(module):
                out.append(
                    f"{module}:{line} imports {target} (layer {rank(module)} -> {rank(target)})"
                )
            elif any(_under(module, a) and _under(target, b) for a, b in FORBIDDEN):
                out.append(f"{module}:{line} imports {target} (forbidden pair)")
    return out


#: the most lines a module of the package may have (issue 17, point 6)
MAX_LINES = 400


def test_no_module_over_the_line_limit():
    sizes = {m: len(p.read_text().splitlines()) for m, p in all_modules().items()}
    long = {m: n for m, n in sizes.items() if n > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by topic): {long}"


def test_report_functions_take_idata_meta_design():
    """No report module takes a whole fit: their first parameters are ``idata, meta[, design]``
    (or plain data), never a parameter named ``fit``. (``compare.loo.compare`` takes several
    models, ``fits``, and reads each through its ``idata``, ``meta`` and ``design``.)"""
    found = []
    for module, path in all_modules().items():
        if not _under(module, "bayesmixed.report"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.args.args:
                if node.args.args[0].arg in ("fit", "result", "model"):
                    found.append(f"{module}.{node.name}")
    assert not found, f"report functions taking a fit: {found}"


def test_every_module_has_a_layer():
    for module in all_modules():
        rank(module)


def test_the_parser_sees_lazy_and_relative_imports(tmp_path):
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("")
    path = pkg / "sub" / "a.py"
    path.write_text(
        "import importlib\n"
        "def f():\n"
        "    from . import b\n"
        "    from ..errors import X\n"
        "    return importlib.import_module('bayesmixed.api')\n"
    )
    known = {"bayesmixed", "bayesmixed.errors", "bayesmixed.api", "bayesmixed.sub",
             "bayesmixed.sub.a", "bayesmixed.sub.b"}
    got = imports_of("bayesmixed.sub.a", path, known)
    assert got == [(3, "bayesmixed.sub.b"), (4, "bayesmixed.errors"), (5, "bayesmixed.api")]
    assert cycles({"a": [(1, "b")], "b": [(1, "a")], "c": [(1, "a")]}) == [["a", "b"]]


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_upward_imports():
    found = violations(import_graph())
    assert not found, "imports against the layer order:\n" + "\n".join(found)


if __name__ == "__main__":  # a report of the graph: python tests/test_architecture.py
    g = import_graph()
    for c in cycles(g):
        print("cycle:", " ".join(c))
    print("\n".join(violations(g)))
