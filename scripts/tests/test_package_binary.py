"""scripts/package-binary.sh: a self-contained girfec that runs with nothing else installed.

Packs the archive, checks its contents and that the executable is static (no program
interpreter: no shared library is ever loaded), then runs it inside an empty root
(`chroot` in a private mount namespace with only /proc): neither Swift's runtime nor GSL
nor a C library is visible to it there. Its output there equals the same run outside.

The archive's binary is the static build scripts/test.sh makes (.build/static), given as
$GIRFEC_STATIC_BINARY; without it these tests are skipped (a static build takes minutes).
The chroot needs root: skipped otherwise, unless GIRFEC_REQUIRE_CHROOT=1 (CI), which fails; in a
container that forbids mount namespaces the run falls back to an empty environment, with a warning.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from girfec_build import ROOT

STATIC = os.environ.get("GIRFEC_STATIC_BINARY")
pytestmark = pytest.mark.skipif(not STATIC, reason="GIRFEC_STATIC_BINARY not set (scripts/test.sh sets it)")


def elf_interpreter(path: Path) -> bool:
    """Whether an ELF executable names a program interpreter (PT_INTERP): i.e. it is dynamically linked."""
    data = path.read_bytes()[:1 << 16]
    assert data[:4] == b"\x7fELF" and data[4] == 2, f"{path} is not a 64-bit ELF file"
    little = data[5] == 1
    order = "little" if little else "big"
    phoff = int.from_bytes(data[0x20:0x28], order)
    phentsize = int.from_bytes(data[0x36:0x38], order)
    phnum = int.from_bytes(data[0x38:0x3A], order)
    for k in range(phnum):
        entry = data[phoff + k * phentsize: phoff + (k + 1) * phentsize]
        if int.from_bytes(entry[0:4], order) == 3:  # PT_INTERP
            return True
    return False


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run(["bash", "scripts/package-binary.sh", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    archives = list(out.glob("girfec-*-linux-*.tar.gz"))
    assert len(archives) == 1, archives
    return archives[0]


def test_archive_holds_the_binary_docs_and_examples(package: Path, tmp_path: Path) -> None:
    with tarfile.open(package) as tar:
        names = set(tar.getnames())
        tar.extractall(tmp_path, filter="data")
    top = package.name.removesuffix(".tar.gz")
    for member in ["bin/girfec", "README.md", "INSTALL.txt", "docs/install.md", "docs/outputs.md",
                   "experiments/default/scenario.yaml", "scripts/figures.py", "scripts/girfec_py/runfolder.py"]:
        assert f"{top}/{member}" in names, f"{member} is not in {package.name}"
    binary = tmp_path / top / "bin" / "girfec"
    assert os.access(binary, os.X_OK)
    assert not elf_interpreter(binary), "bin/girfec is dynamically linked"
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert top.startswith(f"girfec-{version}-linux-")


def test_the_binary_runs_with_nothing_else_visible(package: Path, tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("chroot") is None:
        if os.environ.get("GIRFEC_REQUIRE_CHROOT") == "1":
            pytest.fail("GIRFEC_REQUIRE_CHROOT=1 but not root, or unshare/chroot missing")
        pytest.skip("needs root, unshare and chroot")
    with tarfile.open(package) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    top = package.name.removesuffix(".tar.gz")
    binary = tmp_path / "unpacked" / top / "bin" / "girfec"
    root = tmp_path / "root"
    for d in ["bin", "proc", "tmp", "work"]:
        (root / d).mkdir(parents=True)
    shutil.copy(binary, root / "bin" / "girfec")
    assert not elf_interpreter(root / "bin" / "girfec"), "bin/girfec is dynamically linked"
    shutil.copy(ROOT / "experiments" / "examples" / "areas-and-coverage.yaml", root / "work" / "scenario.yaml")
    options = ["--replications", "12", "--seed", "5", "--threads", "2"]
    # Inside: only /bin/girfec, the scenario and a private /proc; no shell, no libraries, no PATH.
    assert not (root / "bin" / "sh").exists() and not (root / "lib").exists() and not (root / "usr").exists()
    # Absolute paths: the child's PATH names nothing.
    run = subprocess.run([shutil.which("unshare"), "--mount", "--fork", f"--mount-proc={root / 'proc'}", shutil.which("chroot"), str(root),
                          "/bin/girfec", "run", "/work/scenario.yaml", *options, "--out", "/work/out"],
                         capture_output=True, text=True, env={"PATH": "/nonexistent"})
    if run.returncode != 0 and "unshare" in run.stderr and "not permitted" in run.stderr:
        # A container that forbids mount namespaces: run it with an empty environment instead
        # (no PATH, no LD_LIBRARY_PATH); the ELF check shows it can load no library.
        print(f"warning: {run.stderr.strip()}; running with an empty environment instead of an empty root")
        run = subprocess.run([str(root / "bin" / "girfec"), "run", str(root / "work" / "scenario.yaml"), *options,
                              "--out", str(root / "work" / "out")], capture_output=True, text=True, env={})
    assert run.returncode == 0, run.stderr
    assert "replications" in run.stdout
    # The same run outside the empty root: identical results.
    again = subprocess.run([str(binary), "run", str(root / "work" / "scenario.yaml"), *options, "--out", str(tmp_path / "outside")],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    for name in ["bands.csv", "replications.csv", "summary.csv"]:
        assert (root / "work" / "out" / name).read_bytes() == (tmp_path / "outside" / name).read_bytes(), name
