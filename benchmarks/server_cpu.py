"""CPU time of one warm ``jaxlint server`` analysis per edit, in-process, against a bare parse.

Wall-clock latency on a shared machine mostly measures the other jobs; the process's CPU time
(``time.process_time``) moves much less with load, so it compares two versions of the server
better. The project and the edits are ``server_latency.py``'s; ``JaxlintServer.lint`` is called
directly (no LSP), with the server's garbage-collection policy where the version has one
(``collect_garbage`` after each edit, outside the timing, as the server does after publishing).
The baseline is ``libcst.parse_module`` of the target, in the same process, before each edit.

    PYTHONPATH=. python benchmarks/server_cpu.py [--edit code|comment] [--jit-every N] [--warm 6]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import libcst
from server_latency import edited, generate

from jaxlint.server import JaxlintServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edit", choices=("comment", "code"), default="code")
    parser.add_argument("--jit-every", type=int, default=1, metavar="N")
    parser.add_argument("--warm", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        target = generate(Path(tmp), 10, args.jit_every)
        os.chdir(tmp)
        server = JaxlintServer()
        server.cwd = Path.cwd()
        managed = hasattr(server, "collect_garbage")
        if managed:
            server.manage_gc = True
            gc.disable()
        text = target.read_text()
        server.lint([target], {target: text})
        if managed:
            server.collect_garbage()
        cpu: list[float] = []
        wall: list[float] = []
        parse: list[float] = []
        for version in range(2, args.warm + 2):
            enabled = gc.isenabled()
            gc.disable()  # the same bare parse for every version (no collections inside)
            start = time.process_time()
            libcst.parse_module(text)
            parse.append(time.process_time() - start)
            if enabled:
                gc.enable()
            text = edited(text, version, args.edit)
            start, start_wall = time.process_time(), time.perf_counter()
            found = server.lint([target], {target: text})
            cpu.append(time.process_time() - start)
            wall.append(time.perf_counter() - start_wall)
            assert len(found[target]) == 1, found[target]
            if managed:
                server.collect_garbage()
    med = statistics.median
    where = os.environ.get("PYTHONPATH", ".")
    print(
        f"{where}: --edit {args.edit} --jit-every {args.jit_every}: "
        f"lint CPU {med(cpu) * 1e3:.0f} ms (min {min(cpu) * 1e3:.0f}), "
        f"wall {med(wall) * 1e3:.0f} ms; parse CPU {med(parse) * 1e3:.0f} ms; "
        f"load {os.getloadavg()[0]:.1f}",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
