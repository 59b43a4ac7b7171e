"""Corrupted shard folders for `girfec merge`.

Three real shards of `experiments/examples/minimal.yaml` (6 replications,
`--shard K/3`) are made once per session with the binary under test; each
case copies them and damages one `state.bin` (bit flips, bytes set, 64-bit
words set to extreme values, truncation, extension, blocks swapped or
duplicated), or the set of shards (one given twice, one replaced by
another's state), then merges. In most cases the damaged file is then
re-signed (its length field and trailing SHA-256 recomputed, as
`docs/outputs.md` lays them out), so that the damage reaches the decoder's
bounds and consistency checks instead of stopping at the checksum.
"""
from __future__ import annotations

import hashlib
import random
import struct
import subprocess
import tempfile
from pathlib import Path

from harness import GIRFEC, Case

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "experiments" / "examples" / "minimal.yaml"
SHARDS = 3
WORDS = [0, 1, 2, 3, 0x7F, 0xFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF,
         0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF, 0x7FF8_0000_0000_0000, 0x7FF0_0000_0000_0000,
         0xFFF0_0000_0000_0000, 0x4376_0000_0000_0000]


def make_shards(binary: str, directory: Path, seed: int = 1) -> dict[str, bytes]:
    """Run the three shards; return their files as {shard-K/relative path: bytes}."""
    files: dict[str, bytes] = {}
    for k in range(1, SHARDS + 1):
        out = directory / f"shard-{k}"
        subprocess.run([binary, "run", str(SCENARIO), "--replications", "6", "--shard", f"{k}/{SHARDS}",
                        "--seed", str(seed), "--out", str(out), "--quiet", "--threads", "1"],
                       check=True, capture_output=True, timeout=120)
        for p in sorted(out.rglob("*")):
            if p.is_file():
                files[f"shard-{k}/{p.relative_to(out).as_posix()}"] = p.read_bytes()
    return files


class StateCorrupter:
    def __init__(self, binary: str):
        self.tmp = tempfile.TemporaryDirectory(prefix="girfec-fuzz-shards-")
        self.shards = make_shards(binary, Path(self.tmp.name))

    def case(self, rng: random.Random, index: int) -> Case:
        files: dict[str, bytes | None] = {k: v for k, v in self.shards.items()
                                          if k.endswith("state.bin") or k.endswith("manifest.json")}
        k = rng.randint(1, SHARDS)
        key = f"shard-{k}/state.bin"
        notes = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            data, note = corrupt(rng, files[key], [files[f"shard-{j}/state.bin"] for j in range(1, SHARDS + 1)])
            files[key] = data
            notes.append(f"shard-{k}: {note}")
        if rng.random() < 0.7 and len(files[key]) >= HEADER_MIN + DIGEST:
            files[key] = resign(files[key])
            notes.append(f"shard-{k}: re-signed")
        shards = [f"shard-{j}" for j in range(1, SHARDS + 1)]
        if rng.random() < 0.1:
            extra = rng.choice(["duplicate", "missing", "reorder"])
            if extra == "duplicate":
                shards.append(rng.choice(shards))
            elif extra == "missing":
                shards.remove(rng.choice(shards))
            else:
                rng.shuffle(shards)
            notes.append(f"shards {extra}: {' '.join(shards)}")
        command = [GIRFEC, "merge", *shards, "--out", "merged"]
        return Case("state", f"m{index:06d}", files, [command], ["merged"], True, "; ".join(notes))


HEADER_MIN = 20  # magic (8), format version (4), whole file length (8)
DIGEST = 32      # the trailing SHA-256 of every byte before it


def resign(data: bytes) -> bytes:
    """Recompute the length field (offset 12) and the trailing SHA-256 of a damaged state.bin."""
    body = bytearray(data[:-DIGEST])
    body[12:20] = struct.pack("<Q", len(data))
    return bytes(body) + hashlib.sha256(bytes(body)).digest()


def corrupt(rng: random.Random, data: bytes, others: list[bytes]) -> tuple[bytes, str]:
    b = bytearray(data)
    n = len(b)
    op = rng.randrange(10)
    if n == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))), "random bytes into an empty file"
    if op == 0:
        flips = rng.choice([1, 1, 2, 8])
        at = []
        for _ in range(flips):
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
            at.append(i)
        return bytes(b), f"bit flips at {at}"
    if op == 1:
        i = rng.randrange(n)
        v = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        b[i] = v
        return bytes(b), f"byte {i} = {v:#x}"
    if op in (2, 3):
        # a 64-bit word (aligned or not; counts and lengths are often 8 bytes) set to an extreme
        i = rng.randrange(max(1, n - 7)) if rng.random() < 0.3 else rng.randrange(max(1, n // 8)) * 8
        word = rng.choice(WORDS)
        chunk = struct.pack("<Q", word)[: n - i]
        b[i:i + len(chunk)] = chunk
        return bytes(b), f"word at {i} = {word:#x}"
    if op == 4:
        cut = rng.choice([0, 1, 7, 8, n // 2, n - 1, rng.randrange(n)])
        return bytes(b[:cut]), f"truncated to {cut}"
    if op == 5:
        tail = rng.choice([b"\x00" * rng.randint(1, 64), bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))),
                           bytes(b[: rng.randint(1, n)])])
        return bytes(b) + tail, f"extended by {len(tail)}"
    if op == 6:
        size = rng.choice([1, 4, 8, 16, 64])
        i, j = sorted(rng.randrange(max(1, n - size)) for _ in range(2))
        x, y = bytes(b[i:i + size]), bytes(b[j:j + size])
        b[i:i + size], b[j:j + size] = y, x
        return bytes(b), f"swapped {size} bytes at {i} and {j}"
    if op == 7:
        size = rng.choice([8, 16, 64, 256])
        i = rng.randrange(n)
        j = rng.randrange(n)
        return bytes(b[:j]) + bytes(b[i:i + size]) + bytes(b[j:]), f"{size} bytes from {i} inserted at {j}"
    if op == 8:
        i = rng.randrange(n)
        size = rng.choice([1, 8, 64])
        return bytes(b[:i]) + bytes(b[i + size:]), f"{size} bytes removed at {i}"
    other = rng.choice(others)
    cut = rng.randrange(min(n, len(other)) + 1)
    return bytes(b[:cut]) + other[cut:], f"spliced with another shard at {cut}"
