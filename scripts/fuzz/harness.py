"""Running one fuzz case against girfec and judging the result (the oracle).

A case is a set of input files plus a list of commands (argv lists whose
first element is the placeholder GIRFEC). Each case runs in a fresh
temporary folder that is also the working directory, so any file that
appears in it besides the case's own inputs and the `--out` folders the
commands were given is a stray write.

Oracle, per command:

- crash: death by a signal (negative return code, or 128+N such as 132
  SIGILL, 133 SIGTRAP, 134 SIGABRT, 139 SIGSEGV), or "Fatal error" on stderr
  (a Swift trap);
- hang: the command did not end within the per-case timeout;
- silent: exit 1 or 2 with nothing on stdout or stderr;
- odd-exit: any other exit code (but exit 3 of `girfec calibrate` with a message is its documented
  "chains did not converge", counted as rejected);
- stray: a file appeared outside the requested output folders;
- accepted (exit 0) and rejected (exit 1 or 2 with a message) are fine.

Standard library only.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

GIRFEC = "GIRFEC"
BAD_OUTCOMES = ("crash", "hang", "silent", "odd-exit", "stray")
SIGNAL_EXITS = {132, 133, 134, 136, 137, 139}
MEMORY_LIMIT_MB = 2048
FILE_SIZE_LIMIT_MB = 256
BLOB_BYTES = 64 * 1024          # saved input files larger than this go to KIND/blobs/SHA256.gz, shared by cases


@dataclass
class Case:
    """Input files (relative path → bytes, or None for a folder) and the commands to run.

    `outs` are the output folders the commands were given (relative to the
    case folder); `chain` means each command runs only when the one before
    exited 0 (validate, then run)."""
    kind: str
    name: str
    files: dict[str, bytes | None]
    commands: list[list[str]]
    outs: list[str] = field(default_factory=list)
    chain: bool = True
    note: str = ""

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "commands": self.commands, "outs": self.outs,
                "chain": self.chain, "note": self.note}


@dataclass
class Result:
    outcome: str                 # accepted | rejected | crash | hang | silent | odd-exit | stray
    command: list[str]
    returncode: int | None
    stderr: str
    stdout: str
    signature: str = ""
    ran: int = 0                 # how many commands ran

    @property
    def bad(self) -> bool:
        return self.outcome in BAD_OUTCOMES


def write_files(root: Path, files: dict[str, bytes | None]) -> None:
    for rel, data in sorted(files.items(), key=lambda kv: kv[0]):
        path = root / rel
        if data is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def _limits(memory_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT_MB << 20, FILE_SIZE_LIMIT_MB << 20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def classify(returncode: int | None, stdout: str, stderr: str, timed_out: bool, command: list[str] | None = None) -> str:
    if timed_out:
        return "hang"
    if returncode is None:
        return "odd-exit"
    if returncode < 0 or returncode in SIGNAL_EXITS or returncode > 128 or "Fatal error" in stderr:
        return "crash"
    if returncode == 0:
        return "accepted"
    if returncode in (1, 2):
        return "rejected" if (stdout.strip() or stderr.strip()) else "silent"
    if returncode == 3 and command is not None and command[1:2] == ["calibrate"]:
        # docs/calibration.md §5: the stock-only chains did not converge; diagnostics written, said so.
        return "rejected" if "did NOT converge" in stderr else "silent"
    return "odd-exit"


def signature(command: list[str], returncode: int | None, stderr: str, outcome: str) -> str:
    """A short class for grouping findings: the command, the Swift trap message and the first frame in girfec's code."""
    verb = command[1] if len(command) > 1 else "?"
    if outcome != "crash":
        return f"{verb}: {outcome}"
    fatal = ""
    m = re.search(r"([\w/.+-]+\.swift:\d+: )?Fatal error: ?([^\n]*)", stderr)
    if m:
        where = (m.group(1) or "").strip().rstrip(":")
        where = re.sub(r":\d+$", "", where.split("/")[-1]) if where else ""
        fatal = (where + ": " if where else "") + re.sub(r"\d+", "N", m.group(2))[:100]
    frame = ""
    for line in stderr.splitlines():
        # Swift backtrace frame: "1   0x... static FlowEstimator.estimate(flows:...) + 20651 in girfec at /x/Sources/Calibration/FlowEstimator.swift:227:39"
        fm = re.search(r"0x[0-9a-f]+ (.*?)(?: \+ \d+)? in \S+ at \S*?/Sources/([^:\s]+):(\d+)", line)
        if fm:
            function = re.sub(r"^(specialized |static |closure #\d+ in )+", "", fm.group(1))
            function = re.sub(r"\(.*", "", function)
            frame = f"{function} ({fm.group(2)}:{fm.group(3)})"
            break
    if returncode is not None and returncode < 0:
        try:
            sig = signal.Signals(-returncode).name
        except ValueError:
            sig = f"signal {-returncode}"
    else:
        sig = f"exit {returncode}"
    parts = [f"{verb}: {sig}"]
    if fatal:
        parts.append(fatal)
    if frame:
        parts.append(frame)
    return " | ".join(parts)


def run_case(binary: str, case: Case, timeout: float = 10.0, keep: Path | None = None,
             memory_mb: int = MEMORY_LIMIT_MB, backtrace: bool = False) -> Result:
    """Run a case in a fresh temporary folder; return the first bad result, else the last one."""
    env = dict(os.environ)
    env["SWIFT_BACKTRACE"] = "enable=yes,interactive=no,color=no,sanitize=yes" if backtrace else "enable=no"
    env.pop("OUTDIR", None)
    with tempfile.TemporaryDirectory(prefix="girfec-fuzz-") as tmp:
        root = Path(tmp)
        write_files(root, case.files)
        before = {p.relative_to(root).as_posix() for p in root.rglob("*")}
        result = Result("accepted", [], 0, "", "")
        for i, command in enumerate(case.commands):
            argv = [binary if a == GIRFEC else a for a in command]
            try:
                proc = subprocess.Popen(argv, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, start_new_session=True,
                                        preexec_fn=lambda: _limits(memory_mb))
            except OSError as error:
                return Result("odd-exit", command, None, str(error), "", f"{command[1]}: cannot start", i)
            timed_out = False
            try:
                out, err = proc.communicate(timeout=timeout * (2 if i > 0 else 1))
            except subprocess.TimeoutExpired:
                timed_out = True
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                out, err = proc.communicate()
            stdout = out.decode("utf-8", "replace")[:20000]
            stderr = err.decode("utf-8", "replace")[-20000:]
            outcome = classify(proc.returncode, stdout, stderr, timed_out, command)
            result = Result(outcome, command, None if timed_out else proc.returncode, stderr, stdout,
                            signature(command, proc.returncode, stderr, outcome), i + 1)
            if result.bad or (case.chain and proc.returncode != 0):
                break
        if not result.bad:
            stray = _stray_files(root, before, case.outs)
            if stray:
                result = Result("stray", result.command, result.returncode, "stray files: " + ", ".join(stray[:10]),
                                result.stdout, f"{result.command[1] if result.command else '?'}: stray write", result.ran)
        if keep is not None and result.bad:
            save_case(case, keep, result)
        return result


def _stray_files(root: Path, before: set[str], outs: list[str]) -> list[str]:
    allowed = [o.rstrip("/") for o in outs]
    stray = []
    for p in root.rglob("*"):
        rel = p.relative_to(root).as_posix()
        if rel in before:
            continue
        if any(rel == o or rel.startswith(o + "/") for o in allowed):
            continue
        # a finished or failed run may leave nothing else; partial folders are named .NAME.partial-PID
        stray.append(rel)
    return sorted(stray)


def save_case(case: Case, directory: Path, result: Result | None = None, klass: str = "") -> Path:
    """Write a case as a regression folder: case.json plus its input files.

    Files larger than BLOB_BYTES are stored gzip-compressed once, by content, in
    DIRECTORY/KIND/blobs/ (the unchanged shards of state cases are shared)."""
    target = directory / case.kind / case.name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    small, blobs = {}, {}
    for rel, data in case.files.items():
        if data is None:
            continue
        if len(data) > BLOB_BYTES:
            digest = hashlib.sha256(data).hexdigest()
            blob = directory / case.kind / "blobs" / f"{digest}.gz"
            if not blob.exists():
                blob.parent.mkdir(parents=True, exist_ok=True)
                blob.write_bytes(gzip.compress(data, 9, mtime=0))
            blobs[rel] = digest
        else:
            small[rel] = data
    write_files(target / "files", small)
    meta = case.to_json()
    meta["dirs"] = sorted(k for k, v in case.files.items() if v is None)
    meta["blobs"] = dict(sorted(blobs.items()))
    if result is not None:
        meta["found"] = {"outcome": result.outcome, "signature": result.signature, "returncode": result.returncode,
                         "stderr_head": result.stderr[:1500]}
    if klass:
        meta["class"] = klass
    (target / "case.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return target


def load_case(folder: Path) -> Case:
    meta = json.loads((folder / "case.json").read_text())
    files: dict[str, bytes | None] = {}
    base = folder / "files"
    if base.exists():
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(base).as_posix()
            if p.is_file():
                files[rel] = p.read_bytes()
    for rel in meta.get("dirs", []):
        files[rel] = None
    for rel, digest in meta.get("blobs", {}).items():
        files[rel] = gzip.decompress((folder.parent / "blobs" / f"{digest}.gz").read_bytes())
    return Case(meta["kind"], meta["name"], files, meta["commands"], meta.get("outs", []), meta.get("chain", True),
                meta.get("note", ""))
