"""Where the fast engine's time goes, instruction by instruction, with perf (Linux).

numba's compiled code has no symbols perf can read. Run the engine under perf through this
script: after a warm-up (which compiles the engine or loads its cache) it writes
/tmp/perf-<pid>.map for the engine's functions and saves their machine code as it sits in
memory, then runs genie3() on the shape's regulators and targets, as benchmarks/engine.py
times it, for perf to sample (ranking the matrix included). `--report` prints each function's
share of the samples and its hottest stretches of instructions, disassembled from what ran.

    perf record -e cpu-clock -F 4999 -o /tmp/prof/perf.data -- \\
        python benchmarks/profile_engine.py --out /tmp/prof --targets 4 --trees 100
    python benchmarks/profile_engine.py --report /tmp/prof

cpu-clock, because virtual machines often expose no hardware counters. A build with
NUMBA_DEBUGINFO=1 gives source lines, but it is not the code that runs: small helpers (max,
min) stay out-of-line calls there, and inlined helpers' lines carry the caller's file name.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import SHAPES, shape_inputs  # noqa: E402

from genie_assets.engine import genie3  # noqa: E402
from genie_assets.engine.grower import GROWER_KERNELS  # noqa: E402

LARGEST_FUNCTION = 1 << 17  # bytes saved of the last function, whose end is not known


def record(out: Path, shape: str, n_targets: int, n_trees: int) -> None:
    frame, regulators, targets = shape_inputs(shape, n_targets)
    genie3(frame, regulators, targets[:1], n_trees=2, engine="fast")
    save_functions(out)
    started = time.perf_counter()
    genie3(frame, regulators, targets, n_trees=n_trees, engine="fast", n_jobs=1)
    seconds = time.perf_counter() - started
    print(f"{shape}: {seconds / (len(targets) * n_trees) * 1e3:.3f} ms per tree "
          f"(ranking the matrix included)")


def save_functions(out: Path) -> None:
    """The perf map and each compiled function's bytes (out/<address>.bin, out/functions.tsv)."""
    out.mkdir(parents=True, exist_ok=True)
    functions = set()
    for result in (r for kernel in GROWER_KERNELS.values() for r in kernel.overloads.values()):
        library = result.library
        # numba's own attribute (0.6x): the module the library's functions were linked from.
        for function in library._shared_module.functions:
            if not function.is_declaration:
                address = library.get_pointer_to_function(function.name)
                if address:
                    functions.add((address, function.name))
    functions = sorted(functions)
    if not functions:
        raise SystemExit("no compiled engine functions found")
    mapped = mapped_ranges()
    rows = []
    for k, (address, name) in enumerate(functions):
        end = functions[k + 1][0] if k + 1 < len(functions) else address + LARGEST_FUNCTION
        # Not past the end of its mapping: reading there is a bus error.
        end = min([end] + [high for low, high in mapped if low <= address < high])
        size = min(end - address, LARGEST_FUNCTION)
        (out / f"{address:x}.bin").write_bytes(ctypes.string_at(address, size))
        rows.append(f"{address:x}\t{size:x}\t{name}")
    Path(f"/tmp/perf-{os.getpid()}.map").write_text(
        "".join(f"{row.replace(chr(9), ' ')}\n" for row in rows))
    (out / "functions.tsv").write_text("".join(f"{row}\n" for row in rows))


def mapped_ranges() -> list[tuple[int, int]]:
    ranges = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        low, high = line.split()[0].split("-")
        ranges.append((int(low, 16), int(high, 16)))
    return ranges


def report(out: Path, n_regions: int, threshold: float) -> None:
    samples = collections.Counter(
        int(line, 16) for line in subprocess.run(
            ["perf", "script", "-i", str(out / "perf.data"), "-F", "ip"],
            check=True, capture_output=True, text=True).stdout.split())
    total = sum(samples.values())
    print(f"{total} samples in all")
    for row in (out / "functions.tsv").read_text().splitlines():
        address, size, name = row.split("\t")
        address, size = int(address, 16), int(size, 16)
        count = sum(n for ip, n in samples.items() if address <= ip < address + size)
        if count < 0.01 * total:
            continue
        print(f"\n{count / total:6.1%} of all samples: {name[:110]}")
        instructions = disassemble(out / f"{address:x}.bin", address)
        print_hot_regions(instructions, samples, count, n_regions, threshold)


def disassemble(path: Path, address: int) -> list[tuple[int, str]]:
    listing = subprocess.run(
        ["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "--no-show-raw-insn",
         f"--adjust-vma={address:#x}", str(path)],
        check=True, capture_output=True, text=True).stdout
    return [(int(match.group(1), 16), match.group(2)) for match in
            re.finditer(r"^\s+([0-9a-f]+):\s+(.*)$", listing, re.MULTILINE)]


def print_hot_regions(instructions, samples, in_function, n_regions, threshold):
    """Stretches of sampled instructions (gaps under 12 unsampled ones), hottest first."""
    counts = [samples.get(address, 0) for address, _ in instructions]
    regions, current, gap = [], None, 0
    for i, count in enumerate(counts):
        if count:
            current = [i, i, 0] if current is None else current
            current[1], current[2], gap = i, current[2] + count, 0
        elif current is not None:
            gap += 1
            if gap >= 12:
                regions.append(current)
                current, gap = None, 0
    if current is not None:
        regions.append(current)
    start = instructions[0][0]
    for first, last, count in sorted(regions, key=lambda region: -region[2])[:n_regions]:
        low, high = instructions[first][0] - start, instructions[last][0] - start
        print(f"  {count / in_function:6.1%} of the function at +{low:#x}..+{high:#x}")
        for i in range(first, last + 1):
            if counts[i] / in_function >= threshold:
                address, text = instructions[i]
                print(f"    {counts[i] / in_function:6.1%}  +{address - start:#07x}  {text[:90]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="record: where the code and map go")
    parser.add_argument("--report", type=Path, help="report on a recorded folder")
    parser.add_argument("--shape", default="single-cell-normalised", choices=sorted(SHAPES))
    parser.add_argument("--targets", type=int, default=4)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--regions", type=int, default=8, help="hottest stretches per function")
    parser.add_argument("--threshold", type=float, default=0.003,
                        help="list instructions with at least this share of their function")
    arguments = parser.parse_args()
    if arguments.report:
        report(arguments.report, arguments.regions, arguments.threshold)
    elif arguments.out:
        record(arguments.out, arguments.shape, arguments.targets, arguments.trees)
    else:
        parser.error("give --out (under perf record) or --report")


if __name__ == "__main__":
    main()
