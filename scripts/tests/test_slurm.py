"""A real Slurm: shards as a job array plus a dependent merge job, merged
byte-identical to a single-machine run (issue: beyond one machine).

Starts a single-node Slurm on this machine with scripts/slurm-local.sh
(Debian's slurm-wlm and munge; needs root or sudo) and stops it afterwards.
When Slurm cannot start, the test fails with Slurm's own messages.
"""
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from girfec_build import girfec_binary

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "experiments" / "examples" / "areas-and-coverage.yaml"
TABLES = ["bands.csv", "replications.csv", "aggregate.csv", "comparison.csv", "summary.csv", "summary.json"]




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


# A folder name with everything a shell or sbatch could misread: spaces, both
# quotes, command substitution both ways, a command separator, a comment sign,
# filename-pattern percent signs and non-ASCII letters.
AWKWARD = "r x'q\"$(touch PWNED)`touch PWNED`;#%a%%j é子"


def wait_for_jobs(job_ids, seconds):
    """Poll squeue until none of job_ids is queued or running; return what squeue last said."""
    deadline = time.time() + seconds
    queue = ""
    while time.time() < deadline:
        queue = subprocess.run(["squeue", "-h", "-j", ",".join(job_ids), "-o", "%i %T %r"],
                               capture_output=True, text=True).stdout.strip()
        if not queue:
            return ""
        time.sleep(1)
    return queue


def test_awkward_paths_are_quoted_never_executed_and_logs_stay_inside(slurm, tmp_path):
    """--out, the scenario and the binary under a path with quotes, $(…), `…`, ;, #, %, spaces and é子.

    submit.sh submits both jobs, the shards and the merge run, the merged
    folder matches a single-machine run, no PWNED file appears anywhere, and
    every log is in DIR/slurm/logs.
    """
    girfec = girfec_binary()
    base = tmp_path / AWKWARD
    base.mkdir()
    scenario = base / "scénario #1 $(touch PWNED).yaml"
    shutil.copyfile(SCENARIO, scenario)
    bin_dir = base / "bin;`touch PWNED`"
    bin_dir.mkdir()
    (bin_dir / "girfec").symlink_to(girfec)
    out = base / AWKWARD
    work = tmp_path / "cwd"  # the submission folder, where a command run by mistake would leave PWNED
    work.mkdir()
    wrote = subprocess.run([girfec, "slurm", str(scenario), "--replications", "4", "--shards", "2", "--seed", "3",
                            "--out", str(out), "--girfec", str(bin_dir / "girfec"), "--partition", "local",
                            "--time", "0-00:10", "--mem", "500M"], cwd=work, capture_output=True, text=True)
    assert wrote.returncode == 0, wrote.stdout + wrote.stderr
    for script in ["array.sbatch", "merge.sbatch", "submit.sh"]:
        parsed = subprocess.run(["bash", "-n", str(out / "slurm" / script)], capture_output=True, text=True)
        assert parsed.returncode == 0, f"{script}: {parsed.stderr}"
    submitted = subprocess.run(["bash", str(out / "slurm" / "submit.sh")], cwd=work, capture_output=True, text=True,
                               timeout=60)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    jobs = re.findall(r"job (\d+)", submitted.stdout)
    assert len(jobs) == 2, submitted.stdout
    assert submitted.stdout.rstrip("\n").endswith(" -> " + str(out / "merged")), submitted.stdout
    queue = wait_for_jobs(jobs, 240)
    logs = out / "slurm" / "logs"
    log_text = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in sorted(logs.glob("*")))
    assert not queue, f"the Slurm jobs did not finish within 240 s; squeue: {queue!r}\n{log_text}"
    merged = out / "merged"
    assert (merged / "manifest.json").exists(), "the merge wrote nothing:\n" + log_text
    manifest = json.loads((merged / "manifest.json").read_text())
    assert manifest["replications"] == 4 and manifest.get("complete", True) is True, manifest

    single = tmp_path / "single"
    subprocess.run([girfec, "run", str(SCENARIO), "--replications", "4", "--seed", "3", "--out", str(single),
                    "--threads", "2", "--quiet"], check=True)
    for table in TABLES:
        assert (merged / table).read_bytes() == (single / table).read_bytes(), f"{table} differs from the single-machine run"

    assert sorted(p.name for p in logs.iterdir()) == ["merge.out", "shard-1.out", "shard-2.out"], log_text
    stray_logs = [p for p in tmp_path.rglob("*.out") if p.parent != logs]
    assert not stray_logs, f"logs outside {logs}: {stray_logs}"
    assert not list(Path.cwd().glob("slurm-*.out")), "a log went to the default slurm-%j.out"

    searched = [tmp_path, work, Path.cwd(), ROOT, Path.home(), Path("/tmp"), Path("/")]
    pwned = [p for d in searched for p in (d.rglob("PWNED") if d in (tmp_path, work) else d.glob("PWNED"))]
    spool = Path(os.environ.get("SLURM_LOCAL_DIR", "/tmp/girfec-slurm"))
    if spool.exists():
        pwned += list(spool.rglob("PWNED"))
    assert not pwned, f"a command inside a path was executed: {pwned}"


@pytest.mark.parametrize("option, value", [("--out", "cluster\n#SBATCH --wrap=id"), ("--mem", "1G\ntouch PWNED"),
                                           ("--partition", "local\ntouch PWNED")])
def test_a_newline_is_refused_before_anything_is_written(tmp_path, option, value):
    """No Slurm needed: a value with a newline never reaches a script."""
    girfec = girfec_binary()
    args = {"--out": str(tmp_path / "cluster"), "--mem": "500M", "--partition": "local"}
    args[option] = value if option != "--out" else str(tmp_path / value)
    flat = [x for pair in args.items() for x in pair]
    r = subprocess.run([girfec, "slurm", str(SCENARIO), "--replications", "4", "--shards", "2", *flat],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{option}: found a newline" in r.stderr and "Nothing was written." in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == [], "something was written"
