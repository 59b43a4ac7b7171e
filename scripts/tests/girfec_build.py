"""The girfec binary the script tests run: $GIRFEC_BINARY if set (scripts/test.sh
passes the release build), otherwise the debug build, built once per session."""
from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def girfec_binary() -> str:
    if os.environ.get("GIRFEC_BINARY"):
        return str(Path(os.environ["GIRFEC_BINARY"]).resolve())
    subprocess.run(["swift", "build", "--product", "girfec"], cwd=ROOT, check=True, capture_output=True)
    bin_dir = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    return str(Path(bin_dir) / "girfec")
