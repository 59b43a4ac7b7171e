"""Replay every input the fuzzers ever crashed girfec with (scripts/fuzz/regressions/).

Each case folder holds case.json (commands, class) and its input files. A
replay must end without a crash, a hang or a stray file, and a non-zero exit
must come with a message. Classes whose fix is not yet on this branch are
marked "open" in scripts/fuzz/regressions/index.json and replayed as
expected failures (non-strict); mark a class "fixed" once its fix is in.

The binary is $GIRFEC_BINARY if set (scripts/test.sh gives the release
build), else the debug build (scripts/tests/girfec_build.py).
"""
import json
import sys
from pathlib import Path

import pytest

from girfec_build import girfec_binary

ROOT = Path(__file__).resolve().parents[2]
FUZZ = ROOT / "scripts" / "fuzz"
REGRESSIONS = FUZZ / "regressions"
sys.path.insert(0, str(FUZZ))

from harness import load_case, run_case  # noqa: E402

INDEX = json.loads((REGRESSIONS / "index.json").read_text())
CASES = sorted(p.parent for p in REGRESSIONS.glob("*/*/case.json"))




@pytest.fixture(scope="module")
def girfec():
    return girfec_binary()


def class_of(folder: Path) -> str:
    return json.loads((folder / "case.json").read_text())["class"]


def params():
    out = []
    for folder in CASES:
        klass = class_of(folder)
        entry = INDEX["classes"].get(klass, {})
        marks = []
        if entry.get("status") != "fixed":
            marks.append(pytest.mark.xfail(strict=False, reason=f"{klass}: fix owned by {entry.get('owner', '?')}, "
                                                                    "not on this branch"))
        out.append(pytest.param(folder, id=f"{folder.parent.name}/{folder.name}", marks=marks))
    return out


def test_every_case_has_a_known_class():
    assert CASES, "no regression cases found"
    for folder in CASES:
        assert class_of(folder) in INDEX["classes"], f"{folder}: class {class_of(folder)!r} is not in index.json"
    used = {class_of(f) for f in CASES}
    assert set(INDEX["classes"]) <= used, f"classes without a case: {set(INDEX['classes']) - used}"


@pytest.mark.parametrize("folder", params())
def test_replay(girfec, folder):
    case = load_case(folder)
    result = run_case(girfec, case, timeout=15.0)
    assert not result.bad, f"{result.outcome}: {result.signature}\n{result.stderr[-2000:]}"
    if result.returncode not in (0, None):
        assert (result.stderr + result.stdout).strip(), "a non-zero exit without a message"
