"""A real Slurm: shards as a job array plus a dependent merge job, merged
byte-identical to a single-machine run (issue: beyond one machine).

Starts a single-node Slurm on this machine with scripts/slurm-local.sh
(Debian's slurm-wlm and munge; needs root or sudo) and stops it afterwards.
When Slurm cannot start, the test fails with Slurm's own messages.
"""
import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "experiments" / "examples" / "areas-and-coverage.yaml"
TABLES = ["bands.csv", "replications.csv", "aggregate.csv", "comparison.csv", "summary.csv", "summary.json"]


def girfec_binary():
    subprocess.run(["swift", "build", "--product", "girfec"], cwd=ROOT, check=True, capture_output=True)
    bin_dir = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    return str(Path(bin_dir) / "girfec")


@pytest.fixture(scope="module")
def slurm():
    start = subprocess.run(["bash", str(ROOT / "scripts" / "slurm-local.sh"), "start"],
                           capture_output=True, text=True, timeout=300)
    if start.returncode != 0:
        pytest.fail("Slurm did not start:\n" + start.stdout + start.stderr)
    yield
    subprocess.run(["bash", str(ROOT / "scripts" / "slurm-local.sh"), "stop"], capture_output=True, text=True, timeout=60)


def test_array_and_merge_job_match_a_single_machine_run(slurm, tmp_path):
    girfec = girfec_binary()
    single = tmp_path / "single"
    subprocess.run([girfec, "run", str(SCENARIO), "--replications", "8", "--seed", "3", "--out", str(single),
                    "--threads", "2", "--quiet"], check=True)
    cluster = tmp_path / "cluster"
    submitted = subprocess.run([girfec, "slurm", str(SCENARIO), "--replications", "8", "--shards", "4", "--seed", "3",
                                "--out", str(cluster), "--time", "00:10:00", "--mem", "500M", "--submit"],
                               capture_output=True, text=True)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    assert "shards: job" in submitted.stdout and "merge: job" in submitted.stdout, submitted.stdout
    merged = cluster / "merged"
    deadline = time.time() + 300
    while time.time() < deadline:
        queue = subprocess.run(["squeue", "-h", "-o", "%i %T %r"], capture_output=True, text=True).stdout.strip()
        if (merged / "manifest.json").exists() and not queue:
            break
        time.sleep(1)
    else:
        logs = "\n".join(f"--- {p.name}\n{p.read_text()}" for p in sorted((cluster / "slurm" / "logs").glob("*.out")))
        pytest.fail(f"the Slurm jobs did not finish within 300 s; squeue: {queue!r}\n{logs}")
    for k in range(1, 5):
        assert (cluster / "shards" / f"shard-{k}" / "state.bin").exists(), f"shard {k} wrote no state.bin"
    for table in TABLES:
        assert (merged / table).read_bytes() == (single / table).read_bytes(), f"{table} differs from the single-machine run"


def test_a_failed_shard_reruns_alone(slurm, tmp_path):
    """Re-running shard 2 alone rewrites only its own folder."""
    girfec = girfec_binary()
    cluster = tmp_path / "cluster"
    out = subprocess.run([girfec, "slurm", str(SCENARIO), "--replications", "4", "--shards", "2", "--seed", "5",
                          "--out", str(cluster), "--mem", "500M"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    job = subprocess.run(["sbatch", "--parsable", "--array=2", str(cluster / "slurm" / "array.sbatch")],
                         capture_output=True, text=True, check=True).stdout.strip()
    deadline = time.time() + 200
    while time.time() < deadline and subprocess.run(["squeue", "-h", "-j", job.split(";")[0]],
                                                    capture_output=True, text=True).stdout.strip():
        time.sleep(1)
    assert (cluster / "shards" / "shard-2" / "bands.csv").exists()
    assert not (cluster / "shards" / "shard-1").exists()
