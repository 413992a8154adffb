#!/usr/bin/env python3
"""Cost of making an intake log segment, and of the group commits into it.

    python3 bench/intake/segment.py [FOLDER]      (default /tmp; ROUNDS=20, GROUP=65536)

Alternates, ROUNDS times each, the two ways of making an 8 MiB segment that umsgate has used:
  fallocate  posix_fallocate(8 MiB) + fsync + folder fsync   (unwritten extents)
  zeros      8 x 1 MiB pwrite of zeros + fsync + folder fsync (written blocks; the current way)
and into each segment writes 32 groups of GROUP bytes, each pwrite + fdatasync (a group commit).
Prints p50 / p90 / max in milliseconds of the making and of the commits.

Then the acknowledgement path as the committer sees it: STREAM_MB (64) MiB written in groups of
GROUP bytes (pwrite + fdatasync each), a new segment every 8 MiB, made
  fallocate-inline  by the committer with fallocate (before)
  zeros-inline      by the committer with zeros
  zeros-ahead       with zeros by a second thread while the previous one is filled (the current
                    way; the committer waits only if the spare is not ready yet)
and prints the rate in MiB/s and the p99 / max latency of a commit, the segment switch included.
No root needed.
"""
import os
import statistics
import sys
import tempfile
import threading
import time

SEG = 8 << 20
ROUNDS = int(os.environ.get("ROUNDS", "20"))
GROUP = int(os.environ.get("GROUP", "65536"))
COMMITS = 32


def dirsync(d):
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make(folder, name, zero):
    path = os.path.join(folder, name)
    t = time.perf_counter()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    if zero:
        z = bytes(1 << 20)
        for i in range(SEG >> 20):
            os.pwrite(fd, z, i << 20)
    else:
        os.posix_fallocate(fd, 0, SEG)
    os.fsync(fd)
    dirsync(folder)
    return path, fd, (time.perf_counter() - t) * 1000


def commits(fd):
    buf = os.urandom(GROUP)
    out = []
    for i in range(COMMITS):
        t = time.perf_counter()
        os.pwrite(fd, buf, i * GROUP)
        os.fdatasync(fd)
        out.append((time.perf_counter() - t) * 1000)
    return out


def stream(folder, mode):
    total = int(os.environ.get("STREAM_MB", "64")) << 20
    buf = os.urandom(GROUP)
    per_seg = SEG // GROUP
    lat = []
    seq = 0
    paths = []

    def start(n):
        box = {}

        def run():
            box["made"] = make(folder, f"s{n}.seg", True)

        t = threading.Thread(target=run)
        t.start()
        return t, box

    spare = start(seq) if mode == "zeros-ahead" else None
    fd = None
    t0 = time.perf_counter()
    for i in range(total // GROUP):
        t = time.perf_counter()
        if i % per_seg == 0:
            if fd is not None:
                os.close(fd)
            if mode == "zeros-ahead":
                spare[0].join()
                path, fd, _ = spare[1]["made"]
                seq += 1
                spare = start(seq)
            else:
                path, fd, _ = make(folder, f"s{seq}.seg", mode == "zeros-inline")
                seq += 1
            paths.append(path)
        os.pwrite(fd, buf, (i % per_seg) * GROUP)
        os.fdatasync(fd)
        lat.append((time.perf_counter() - t) * 1000)
    elapsed = time.perf_counter() - t0
    os.close(fd)
    if spare is not None:
        spare[0].join()
        path, sfd, _ = spare[1]["made"]
        os.close(sfd)
        paths.append(path)
    for p in paths:
        os.unlink(p)
    lat.sort()
    return total / elapsed / (1 << 20), lat[int(0.99 * len(lat))], lat[-1]


def stats(xs):
    xs = sorted(xs)
    p = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))]
    return f"p50 {statistics.median(xs):7.2f}  p90 {p(0.9):7.2f}  max {xs[-1]:7.2f}"


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
    folder = tempfile.mkdtemp(prefix="umsgate-segment-", dir=base)
    made = {"fallocate": [], "zeros": []}
    committed = {"fallocate": [], "zeros": []}
    try:
        for r in range(ROUNDS):
            for kind in ("fallocate", "zeros"):
                path, fd, ms = make(folder, f"{r}-{kind}.seg", kind == "zeros")
                made[kind].append(ms)
                committed[kind].extend(commits(fd))
                os.close(fd)
                os.unlink(path)
                dirsync(folder)
        streamed = {}
        for mode in ("fallocate-inline", "zeros-inline", "zeros-ahead") * 2:
            streamed.setdefault(mode, []).append(stream(folder, mode))
    finally:
        os.rmdir(folder)
    print(f"folder {base}, load {os.getloadavg()[0]:.2f}, {ROUNDS} segments each, groups of {GROUP} B")
    for kind in ("fallocate", "zeros"):
        print(f"make  {kind:9} ms  {stats(made[kind])}")
    for kind in ("fallocate", "zeros"):
        print(f"commit into {kind:9} ms  {stats(committed[kind])}")
    for mode, runs in streamed.items():
        line = "; ".join(f"{r:6.1f} MiB/s, p99 {p99:6.2f} ms, max {mx:6.2f} ms" for r, p99, mx in runs)
        print(f"stream {mode:16} {line}")


if __name__ == "__main__":
    main()
