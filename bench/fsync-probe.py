#!/usr/bin/env python3
"""Cost of a write plus fdatasync, the log's sync, three ways, in the directory given (default
/tmp; use the filesystem the relay's data directory is on):

- append: each write grows the file (the log as it is);
- zero:   the file was filled with zeros first, so a write changes no metadata;
- falloc: the file was fallocate'd, so its extents are allocated but unwritten.

Also prints what filling a 32 MiB segment with zeros costs.
usage: bench/fsync-probe.py [dir]
"""
import os
import sys
import time

DIR = sys.argv[1] if len(sys.argv) > 1 else "/tmp"


def probe(mode, n=2000, size=4400 * 5):
    path = os.path.join(DIR, "candor-fsync-probe.bin")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    if mode == "zero":
        os.write(fd, b"\0" * (n * size + 4096))
        os.fsync(fd)
    elif mode == "falloc":
        os.posix_fallocate(fd, 0, n * size + 4096)
        os.fsync(fd)
    buf = os.urandom(size)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        os.pwrite(fd, buf, i * size)
        os.fdatasync(fd)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    os.close(fd)
    os.unlink(path)
    print(f"{mode}: {wall / n * 1e6:.0f} us wall, {cpu / n * 1e6:.0f} us cpu per write+fdatasync")


for mode in ("append", "zero", "falloc") * 2:
    probe(mode)

path = os.path.join(DIR, "candor-zero-probe.bin")
wall, cpu = time.perf_counter(), time.process_time()
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
for _ in range(32):
    os.write(fd, b"\0" * (1 << 20))
os.fdatasync(fd)
os.close(fd)
os.unlink(path)
print(f"zero-fill 32 MiB: {(time.perf_counter() - wall) * 1e3:.1f} ms wall, "
      f"{(time.process_time() - cpu) * 1e3:.1f} ms cpu")
