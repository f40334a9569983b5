"""How a printed hint names the programs of the environment mcp-host runs in.

A hint says ``.venv/bin/pip install ...``, not ``pip install ...``: a bare ``pip`` or
``mcp-host`` works only in an activated virtualenv, and a bare ``pip`` may install into
another Python altogether. The same convention runs through the README and CONTRIBUTING.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path


def own_program(name: str) -> str:
    """How to run ``name`` (``pip``, ``mcp-host``, ``python``) of the environment mcp-host runs
    in, as a command to print: ``.venv/bin/pip`` from the folder holding ``.venv``, the full
    path from anywhere else, ``python -m pip`` when the environment has no such script."""
    interpreter = Path(sys.executable)
    program = interpreter.parent / name
    if not program.exists():
        program, module = interpreter, {"pip": " -m pip", "mcp-host": " -m mcp_host"}.get(name, "")
    else:
        module = ""
    shown = os.path.relpath(program) if program.is_relative_to(Path.cwd()) else str(program)
    return shlex.quote(shown) + module
