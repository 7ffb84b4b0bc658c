"""The arrows that must never exist (docs/architecture.md), checked on the import graph.

Every module under segcheck/ is parsed with `ast` (nothing is imported), relative imports are
resolved, and every import, at the top or inside a function, is an edge. A new forbidden edge
fails here with the module and the line; a known exception that has been mended fails too, so
that it is taken off the list.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Edge:
    """`importer` imports `target` (a segcheck module or a third-party top-level name)."""

    importer: str
    target: str
    line: int


def module_name(path: Path, root: Path) -> tuple[str, bool]:
    """Dotted module name of a file under `root`, and whether it is a package's __init__."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


Sources = Mapping[str, tuple[ast.Module, bool]]


def read_sources(root: Path, package: str = "segcheck") -> dict[str, tuple[ast.Module, bool]]:
    """Every module of `package` under `root`, parsed: name -> (syntax tree, is a package)."""
    sources = {}
    for path in sorted((root / package).rglob("*.py")):
        name, is_package = module_name(path, root)
        sources[name] = (ast.parse(path.read_bytes(), filename=str(path)), is_package)
    return sources


def import_edges(sources: Sources) -> list[Edge]:
    """Every import edge, relative imports resolved against the importing module's package.

    `from .x import y` is an edge to `pkg.x.y` when that is a module, else to `pkg.x`.
    """
    edges: list[Edge] = []
    for name, (tree, is_package) in sources.items():
        package = name.split(".") if is_package else name.split(".")[:-1]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                edges.extend(Edge(name, alias.name, node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in sources]
                edges.extend(Edge(name, t, node.lineno) for t in subs or [target])
    return edges


def library_calls(sources: Sources, names: set[str]) -> list[Edge]:
    """Calls of `print`, `exit`, `sys.exit` …: an Edge to the callee's dotted name."""
    found = []
    for name, (tree, _) in sources.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                callee = (
                    func.id
                    if isinstance(func, ast.Name)
                    else f"{func.value.id}.{func.attr}"
                    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    else ""
                )
                if callee in names:
                    found.append(Edge(name, callee, node.lineno))
    return found


def within(module: str, boxes: Iterable[str]) -> bool:
    """True when `module` is one of `boxes` or inside one of them (a package prefix)."""
    return any(module == box or module.startswith(box + ".") for box in boxes)


# --- the boxes (docs/architecture.md) ----------------------------------------------------------
FACE = ("segcheck.cli", "segcheck.__main__", "segcheck.capture.__main__")
MODEL = (
    "segcheck.model",
    "segcheck.findings",
    "segcheck.errors",
    "segcheck.flowtypes",
    "segcheck.messages",
    "segcheck.settings",
)
LOADERS = ("segcheck.loaders",)
POLICY = ("segcheck.rules", "segcheck.policy", "segcheck.flowjudge")
SHARED = (
    "segcheck.addressing",
    "segcheck.services",
    "segcheck.outputs",
    "segcheck.gcpause",
)  # any box may use these
ANALYSIS = ("segcheck.analysis",)
CAPTURE = ("segcheck.capture",)
REPORT = ("segcheck.report",)
ENGINE = ("segcheck.engine",)
DIFF = ("segcheck.diff",)  # compares two results: may run the engine and reuse formatters

# (importers, forbidden targets, why): no module in the first may import one in the second.
FORBIDDEN: list[tuple[tuple[str, ...], tuple[str, ...], str]] = [
    (
        MODEL,
        (*SHARED, *LOADERS, *POLICY, *ANALYSIS, *CAPTURE),
        "the model is the shared vocabulary; it depends on nothing else of segcheck",
    ),
    (MODEL, (*REPORT, *ENGINE, *FACE), "the model never reaches up"),
    (
        ("segcheck",),  # everything, Face included, is checked; the Face is exempted below
        FACE,
        "nothing imports the command line: the library is usable without it",
    ),
    (CAPTURE, (*REPORT, *ANALYSIS, *ENGINE, *POLICY, *LOADERS), "capture only makes flows"),
    (ANALYSIS, (*CAPTURE, *REPORT, *ENGINE, *LOADERS), "analysis only searches the plan"),
    (REPORT, (*ENGINE, *ANALYSIS, *CAPTURE), "formatters read a Report and nothing else"),
    (POLICY, (*ANALYSIS, *CAPTURE, *REPORT, *ENGINE, *LOADERS), "the judge judges one fact"),
    (LOADERS, (*POLICY, *ANALYSIS, *CAPTURE, *REPORT, *ENGINE), "loaders only build the model"),
    (("segcheck.findings",), ("segcheck.rules",), "the model does not import the catalogue"),
    (
        (*MODEL, *LOADERS, *POLICY, *ANALYSIS, *CAPTURE, *REPORT, *ENGINE),
        DIFF,
        "diff sits on top of the engine and the formatters, never under them",
    ),
]

# Third-party libraries, each imported only where named (heavy ones: one module each).
LIBRARIES: dict[str, tuple[str, ...]] = {
    "click": ("segcheck.cli",),
    "networkx": ("segcheck.analysis.graph",),
    "numpy": CAPTURE,
    "jinja2": ("segcheck.report.html",),
    "markupsafe": ("segcheck.report.html",),
    "netaddr": ("segcheck.addressing",),
    "yaml": ("segcheck.loaders.yamldoc",),
    "openpyxl": ("segcheck.loaders.configs.table",),
    "isal": ("segcheck.capture.source",),
    "distributed": ("segcheck.cluster",),  # the segcheck[dask] extra, only for --cluster
    "scapy": (),  # tests, examples and benchmarks only: not a runtime dependency
}

# Known exceptions, each with the reason and the change that removes it. The test fails when
# one no longer exists, so that the list only shrinks.
KNOWN: dict[tuple[str, str], str] = {
    ("segcheck.flowjudge", "numpy"): (
        "iso_times, lazily, only when flows are judged; goes when the engine hands the judge "
        "a bulk time formatter from capture/ (the judge itself stays out of capture/, arrow 3)"
    ),
    ("segcheck.analysis.network", "netaddr"): (
        "the special-purpose address registry, which addressing.py does not expose yet"
    ),
}


def violations(sources: Sources) -> list[tuple[Edge, str]]:
    """Every forbidden edge and library import, and every print or exit in the library.

    A library import is reported by its top-level name (`numpy`, not `numpy.typing`).
    """
    found: list[tuple[Edge, str]] = []
    for edge in import_edges(sources):
        if within(edge.target, ("segcheck",)):
            for importers, targets, why in FORBIDDEN:
                if (
                    within(edge.importer, importers)
                    and not within(edge.importer, FACE)
                    and within(edge.target, targets)
                    and not within(edge.importer, targets)  # inside its own box
                ):
                    found.append((edge, why))
        else:
            top = edge.target.split(".")[0]
            allowed = LIBRARIES.get(top)
            if allowed is not None and not within(edge.importer, allowed):
                where = ", ".join(allowed) or "tests"
                found.append((Edge(edge.importer, top, edge.line), f"{top} only in {where}"))
    for call in library_calls(sources, {"print", "exit", "quit", "sys.exit", "os._exit"}):
        if not within(call.importer, FACE):
            found.append((call, "the library never prints or exits; the CLI does"))
    return found


@pytest.fixture(scope="module")
def sources() -> dict[str, tuple[ast.Module, bool]]:
    return read_sources(ROOT)


@pytest.fixture(scope="module")
def found(sources: Sources) -> list[tuple[Edge, str]]:
    return violations(sources)


def test_every_module_is_seen(sources: Sources) -> None:
    assert {"segcheck.cli", "segcheck.findings", "segcheck.rules.ids", "segcheck.report"} <= set(
        sources
    )
    assert len(sources) == len(list((ROOT / "segcheck").rglob("*.py")))


def test_no_forbidden_arrow(found: list[tuple[Edge, str]]) -> None:
    new = [
        f"{e.importer}:{e.line} imports {e.target}: {why}"
        for e, why in found
        if (e.importer, e.target) not in KNOWN
    ]
    assert not new, "\n".join(new)


def test_known_exceptions_still_exist(found: list[tuple[Edge, str]]) -> None:
    present = {(e.importer, e.target) for e, _ in found}
    mended = [
        f"{importer} -> {target}" for importer, target in KNOWN if (importer, target) not in present
    ]
    assert not mended, f"mended, take off KNOWN: {mended}"


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, tuple[ast.Module, bool]]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return read_sources(tmp_path)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a relative import two levels up, inside a function: capture -> report
        (
            {"segcheck/capture/api.py": "def f():\n    from ..report import text\n"},
            ("segcheck.capture.api", "segcheck.report"),
        ),
        # `from . import x` resolves to the sibling module: findings -> rules
        (
            {"segcheck/findings.py": "from .rules import ids\n", "segcheck/rules/ids.py": ""},
            ("segcheck.findings", "segcheck.rules.ids"),
        ),
        # a package's __init__ resolves `.` to itself: report -> engine
        (
            {"segcheck/report/__init__.py": "from .. import engine\n", "segcheck/engine.py": ""},
            ("segcheck.report", "segcheck.engine"),
        ),
        ({"segcheck/model.py": "import networkx as nx\n"}, ("segcheck.model", "networkx")),
        ({"segcheck/policy.py": "import click\n"}, ("segcheck.policy", "click")),
        ({"segcheck/engine.py": "print('done')\n"}, ("segcheck.engine", "print")),
        (
            {"segcheck/loaders/topology.py": "import sys\nsys.exit(2)\n"},
            ("segcheck.loaders.topology", "sys.exit"),
        ),
        ({"segcheck/engine.py": "from .cli import main\n"}, ("segcheck.engine", "segcheck.cli")),
    ],
)
def test_a_new_forbidden_arrow_is_caught(
    tmp_path: Path, files: dict[str, str], expected: tuple[str, str]
) -> None:
    found = {(e.importer, e.target) for e, _ in violations(_tree(tmp_path, files))}
    assert expected in found


def test_allowed_arrows_pass(tmp_path: Path) -> None:
    files = {
        "segcheck/cli.py": "import click\nprint('x')\nfrom .report import render\n",
        "segcheck/report/html.py": "import jinja2\nfrom ..findings import Report\n",
        "segcheck/capture/api.py": "import numpy\nfrom ..errors import CaptureError\n",
        "segcheck/analysis/graph.py": "import networkx\nfrom .network import Network\n",
        "segcheck/analysis/network.py": "",
        "segcheck/engine.py": "from .analysis.paths import analyse_paths\n",
    }
    assert violations(_tree(tmp_path, files)) == []
