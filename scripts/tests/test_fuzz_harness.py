"""The fuzz harness itself (scripts/fuzz/): the oracle, stray-file detection, saving and
loading cases, determinism of the generators, and the driver's summary and exit code.

Uses small stand-in executables (Python scripts) instead of girfec, so these
tests need no Swift build.
"""
import os
import random
import signal
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "fuzz"))

import fuzz  # noqa: E402
from csv_corrupter import CSVCorrupter  # noqa: E402
from harness import GIRFEC, Case, classify, load_case, run_case, save_case, signature  # noqa: E402
from minimise import ddmin  # noqa: E402
from scenario_mutator import ScenarioMutator  # noqa: E402


def fake(tmp_path: Path, body: str) -> str:
    """An executable Python script standing in for girfec."""
    path = tmp_path / "fake-girfec"
    path.write_text(f"#!{sys.executable}\nimport os, signal, sys, time\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def simple_case(commands=None, outs=("out",)) -> Case:
    return Case("scenario", "t1", {"scenario.yaml": b"name: x\n"},
                commands or [[GIRFEC, "validate", "scenario.yaml"]], list(outs))


@pytest.mark.parametrize("returncode, stderr, timed_out, expected", [
    (0, "", False, "accepted"),
    (2, "scenario.yaml:3: bad", False, "rejected"),
    (1, "", False, "silent"),
    (-signal.SIGSEGV, "", False, "crash"),
    (-signal.SIGILL, "", False, "crash"),
    (132, "", False, "crash"),
    (133, "", False, "crash"),
    (134, "", False, "crash"),
    (139, "", False, "crash"),
    (1, "Swift/Integers.swift:3048: Fatal error: Double value cannot be converted", False, "crash"),
    (None, "", True, "hang"),
    (7, "message", False, "odd-exit"),
])
def test_oracle(returncode, stderr, timed_out, expected):
    assert classify(returncode, "", stderr, timed_out) == expected


def test_signature_names_the_trap_and_the_first_frame_in_girfec():
    stderr = ("Swift/Integers.swift:3048: Fatal error: Double value 1e+300 cannot be converted\n"
              "  1   0x000055b3dc2008bb specialized static FlowEstimator.estimate(flows:stocks:) + 20651 in girfec at "
              "/w/Sources/Calibration/FlowEstimator.swift:227:39\n")
    s = signature(["g", "calibrate"], -4, stderr, "crash")
    assert s.startswith("calibrate: SIGILL")
    assert "Integers.swift: Double value Ne+N cannot be converted" in s
    assert s.endswith("FlowEstimator.estimate (Calibration/FlowEstimator.swift:227)")


def test_a_signal_is_a_crash_and_the_input_is_saved(tmp_path):
    binary = fake(tmp_path, "os.kill(os.getpid(), signal.SIGSEGV)")
    result = run_case(binary, simple_case(), timeout=10, keep=tmp_path / "saved")
    assert result.outcome == "crash" and result.returncode == -signal.SIGSEGV
    saved = load_case(tmp_path / "saved" / "scenario" / "t1")
    assert saved.files == {"scenario.yaml": b"name: x\n"}
    assert saved.commands == [[GIRFEC, "validate", "scenario.yaml"]]


def test_a_command_that_does_not_end_is_a_hang(tmp_path):
    binary = fake(tmp_path, "signal.pause()")
    assert run_case(binary, simple_case(), timeout=0.5).outcome == "hang"


def test_a_file_written_outside_the_output_folder_is_stray(tmp_path):
    binary = fake(tmp_path, "os.makedirs('out', exist_ok=True); open('out/a.csv', 'w').close(); open('elsewhere', 'w').close()")
    result = run_case(binary, simple_case(), timeout=10)
    assert result.outcome == "stray" and "elsewhere" in result.stderr and "out/a.csv" not in result.stderr


def test_writing_only_into_the_output_folder_is_fine(tmp_path):
    binary = fake(tmp_path, "os.makedirs('out/sub', exist_ok=True); open('out/sub/a.csv', 'w').close()")
    assert run_case(binary, simple_case(), timeout=10).outcome == "accepted"


def test_a_chain_stops_at_the_first_refusal(tmp_path):
    binary = fake(tmp_path, "print('refused', file=sys.stderr); sys.exit(2) if sys.argv[1] == 'validate' else "
                            "os.kill(os.getpid(), signal.SIGSEGV)")
    case = simple_case([[GIRFEC, "validate", "scenario.yaml"], [GIRFEC, "run", "scenario.yaml", "--out", "out"]])
    result = run_case(binary, case, timeout=10)
    assert result.outcome == "rejected" and result.ran == 1


def test_large_files_are_saved_once_compressed_and_load_back(tmp_path):
    big = bytes(range(256)) * 1000
    cases = [Case("state", f"m{i}", {"shard-1/state.bin": big, "shard-2/state.bin": big + bytes([i]), "empty": None},
                  [[GIRFEC, "merge", "shard-1", "shard-2", "--out", "merged"]], ["merged"]) for i in range(2)]
    for case in cases:
        save_case(case, tmp_path, klass="state/x")
    blobs = list((tmp_path / "state" / "blobs").iterdir())
    assert len(blobs) == 3  # the shared shard once, the two edited ones
    for case in cases:
        assert load_case(tmp_path / "state" / case.name).files == case.files


def test_generators_are_deterministic_given_the_seed():
    scenarios, csvs = ScenarioMutator(), CSVCorrupter()
    for i in range(30):
        a = scenarios.case(random.Random(f"5:scenario:{i}"), i)
        b = scenarios.case(random.Random(f"5:scenario:{i}"), i)
        assert a.files == b.files and a.commands == b.commands
        c = csvs.case(random.Random(f"5:calibration:{i}"), i)
        d = csvs.case(random.Random(f"5:calibration:{i}"), i)
        assert c.files == d.files and c.commands == d.commands
    different = {scenarios.case(random.Random(f"{s}:scenario:0"), 0).files["scenario.yaml"] for s in range(10)}
    assert len(different) > 5


def test_ddmin_finds_the_two_lines_that_matter():
    units = [f"line {i}" for i in range(40)]
    kept, _ = ddmin(units, lambda c: "line 7" in c and "line 31" in c, budget=500)
    assert kept == ["line 7", "line 31"]


def test_driver_reports_and_exits_non_zero_on_a_crash(tmp_path, capsys):
    binary = fake(tmp_path, "os.kill(os.getpid(), signal.SIGABRT) if sys.argv[1] == 'calibrate' else sys.exit(0)")
    code = fuzz.main(["--binary", binary, "--seed", "1", "--cases", "4", "--kind", "calibration",
                      "--save-crashes", str(tmp_path / "found"), "--no-backtrace"])
    out = capsys.readouterr().out
    assert code == 1
    assert "calibration" in out and "4 x calibrate: SIGABRT" in out
    assert len(list((tmp_path / "found" / "calibration").glob("c*/case.json"))) == 4


def test_driver_exits_zero_when_every_case_is_handled(tmp_path, capsys):
    binary = fake(tmp_path, "print('refused', file=sys.stderr); sys.exit(2)")
    assert fuzz.main(["--binary", binary, "--seed", "1", "--cases", "6", "--kind", "scenario"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("scenario "))
    assert row.split()[1:] == ["6", "0", "6", "0", "0", "0"]


@pytest.mark.parametrize("status, code", [("open", 0), ("fixed", 1)])
def test_findings_of_an_open_class_do_not_fail_the_run(tmp_path, capsys, status, code):
    import json
    binary = fake(tmp_path, "os.kill(os.getpid(), signal.SIGABRT) if sys.argv[1] == 'calibrate' else sys.exit(0)")
    index = tmp_path / "index.json"
    index.write_text(json.dumps({"classes": {"calibration/x": {"status": status,
                                                                "signatures": ["^calibration: calibrate: SIGABRT"]}}}))
    assert fuzz.main(["--binary", binary, "--seed", "1", "--cases", "2", "--kind", "calibration", "--no-backtrace",
                      "--known", str(index)]) == code
    out = capsys.readouterr().out
    assert ("known, open: calibration/x" in out) == (status == "open")


def test_resign_recomputes_the_length_field_and_the_trailing_digest():
    import hashlib
    import struct
    from state_corrupter import resign
    damaged = bytes(range(256)) * 2
    signed = resign(damaged)
    assert len(signed) == len(damaged)
    assert struct.unpack("<Q", signed[12:20])[0] == len(damaged)
    assert signed[-32:] == hashlib.sha256(signed[:-32]).digest()
    assert signed[:12] == damaged[:12] and signed[20:-32] == damaged[20:-32]


def test_calibrate_not_converged_is_a_documented_rejection():
    """Exit 3 is `girfec calibrate`'s "chains did not converge" (docs/calibration.md §5): with its message it
    is a rejection; from another command, or without the message, it is still odd or silent."""
    said = "girfec calibrate: the chains did NOT converge (out/convergence.csv); only the diagnostics were written."
    assert classify(3, "", said, False, ["girfec", "calibrate", "c.yaml"]) == "rejected"
    assert classify(3, "", "", False, ["girfec", "calibrate", "c.yaml"]) == "silent"
    assert classify(3, "", said, False, ["girfec", "run", "s.yaml"]) == "odd-exit"
    assert classify(3, "", said, False) == "odd-exit"
