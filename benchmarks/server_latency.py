"""Time from an edit to its diagnostics in ``jaxlint server``, against a bare LibCST parse.

A generated project of ``--modules`` modules of about 2,000 lines each (default 10: about 20k
lines) is linted through the real server over stdio, driven by pygls' ``LanguageClient``:

- cold: a fresh server; ``didOpen`` of the 2k-line target module until its diagnostics arrive
  (every module of the project is read and parsed);
- warm: ``didChange`` of the target until the diagnostics of that version arrive. ``--edit
  comment`` (the default) appends a comment line each time: the server sees that the program is
  the one it analysed last (``TreeCache.same_program``) and re-selects its findings. ``--edit
  code`` changes a constant in the traced helper that has the finding instead (a program edit,
  line count unchanged): the server re-parses that function alone (``analysis.reparse``) and
  re-runs the whole-project analysis.

The baseline is ``libcst.parse_module`` of the target's text in this process, interleaved with
the warm edits (medians; the machine is shared). Target (issue 11): warm under 300 ms.

    python benchmarks/server_latency.py [--modules 10] [--cold 3] [--warm 10] [--jit-every N]
        [--edit comment|code]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import libcst
from lsprotocol import types
from machine import cpu_model
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

REPO = Path(__file__).resolve().parents[1]
BLOCKS = 118  # function blocks per module: about 2,000 lines


def block(m: int, i: int, modules: int, jit_every: int = 1) -> str:
    """A helper, and a step calling it and a helper of another module (about 17 lines); every
    ``jit_every``-th step is jitted (the others are plain functions, nothing traces them)."""
    other = (m + 1) % modules
    decorator = "@jax.jit\n" if i % jit_every == 0 else ""
    hazard = "    if z.sum() > 0:\n        z = -z\n" if (m, i) == (0, 0) else ""
    return f'''

def helper_{m}_{i}(x, y):
    """Scale and mix (generated)."""
    z = x * {i + 1} + y
{hazard}    w = jnp.sin(z) + jnp.cos(y)
    v = jnp.where(w > 0, w, 0.0)
    return v * 0.5 + z


{decorator}def step_{m}_{i}(x, y):
    a = helper_{m}_{i}(x, y)
    b = mod{other}.helper_{other}_{i}(a, y)
    c = jnp.tanh(a - b)
    d = jnp.mean(c, axis=0)
    return a + b + c, d
'''


def generate(root: Path, modules: int, jit_every: int = 1) -> Path:
    """The project; returns the target module (``gen/mod0.py``, which has one finding)."""
    (root / "pyproject.toml").write_text("[project]\nname = 'gen'\n")
    pkg = root / "gen"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for m in range(modules):
        other = (m + 1) % modules
        head = f"import jax\nimport jax.numpy as jnp\n\nfrom gen import mod{other}\n"
        body = "".join(block(m, i, modules, jit_every) for i in range(BLOCKS))
        (pkg / f"mod{m}.py").write_text(head + body)
    return pkg / "mod0.py"


class Client:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.client = LanguageClient("bench", "1")
        self.versions: dict[int, float] = {}
        self.arrived = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.versions[params.version or 0] = time.perf_counter()
            self.found = len(params.diagnostics)
            self.arrived.set()

    async def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        await self.client.start_io(
            sys.executable, "-m", "jaxlint", "server", cwd=str(self.cwd), env=env
        )
        await self.client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities())
        )
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    async def wait(self, version: int) -> float:
        while version not in self.versions:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 600)
        return self.versions[version]


def parse_seconds(text: str) -> float:
    start = time.perf_counter()
    libcst.parse_module(text)
    return time.perf_counter() - start


def edited(text: str, version: int, kind: str) -> str:
    """The target after edit ``version``: a comment line appended, or (``code``) the constant of
    the first helper (``helper_0_0``, the traced one with the finding) set to ``version``."""
    if kind == "comment":
        return text + f"# edit {version}\n"
    return re.sub(r"z = x \* \d+ \+ y", f"z = x * {version} + y", text, count=1)


async def measure(
    root: Path, target: Path, cold: int, warm: int, kind: str = "comment"
) -> dict[str, list[float]]:
    text = target.read_text()
    uri = from_fs_path(str(target)) or ""
    out: dict[str, list[float]] = {"cold": [], "warm": [], "parse": []}
    for _ in range(cold):
        client = Client(root)
        await client.start()
        start = time.perf_counter()
        item = types.TextDocumentItem(uri, "python", 1, text)
        client.client.text_document_did_open(types.DidOpenTextDocumentParams(item))
        out["cold"].append(await client.wait(1) - start)
        assert client.found == 1, f"expected the one generated finding, got {client.found}"
        if _ < cold - 1:
            await client.stop()
    for version in range(2, warm + 2):
        out["parse"].append(parse_seconds(text))
        text = edited(text, version, kind)
        start = time.perf_counter()
        client.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version, uri),
                [types.TextDocumentContentChangeWholeDocument(text)],
            )
        )
        out["warm"].append(await client.wait(version) - start)
        assert client.found == 1, f"expected the one finding after edit {version}: {client.found}"
    await client.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=10)
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument(
        "--jit-every",
        type=int,
        default=1,
        metavar="N",
        help="jit every N-th step function (default 1: all 1,180 of them, a dense worst case)",
    )
    parser.add_argument(
        "--edit",
        choices=("comment", "code"),
        default="comment",
        help="the warm edit: append a comment line (default) or change code in a traced helper",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        target = generate(root, args.modules, args.jit_every)
        lines = sum(len(p.read_text().splitlines()) for p in root.rglob("*.py"))
        target_lines = len(target.read_text().splitlines())
        print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
        sites = sum(p.read_text().count("@jax.jit") for p in root.rglob("*.py"))
        print(
            f"project: {args.modules} modules, {lines} lines, {sites} jitted functions; "
            f"target {target_lines} lines"
        )
        print(f"warm edit: {args.edit}")
        result = asyncio.run(measure(root, target, args.cold, args.warm, args.edit))
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
    parse = statistics.median(result["parse"])
    print("| variant | median ms | min ms | max ms | vs parse |")
    print("|---|---|---|---|---|")
    for name, label in (
        ("parse", "`libcst.parse_module` of the target (bare)"),
        ("cold", "server: didOpen to diagnostics, cold"),
        ("warm", "server: didChange to diagnostics, warm"),
    ):
        times = result[name]
        median = statistics.median(times)
        print(
            f"| {label} | {median * 1e3:.0f} | {min(times) * 1e3:.0f} | {max(times) * 1e3:.0f} "
            f"| {median / parse:.2f}x |"
        )


if __name__ == "__main__":
    main()
