"""Standalone `linreg` runs of every kernel variant at 10^2 … 10^7 points: the table of issue 13.

`mem` among the sizes adds one working set of twice the last-level cache CPU 0 reports, where no
other size reaches beyond it: on a VM shown a 300 MiB L3, 10^7 points (160 MB) are still the
cache's, and the kernels' target holds "at every n" only if the memory's regime is measured too.

Each run is a fresh process with enough epochs (about 10^9 point-epochs, at least 20) for the
kernel to dominate train_seconds; variants are interleaved, their order turned by one each
repetition (A B C, B C A, C A B …), so drift on a shared machine hits them alike and none is always
first (on a 2-vCPU Zen 3 the run right after the limit's probe read 5-8% faster: the same code,
simd and parallel-auto at 10^4, swapped its lead with the order). Prints ns per point per epoch (median, min–max over the repetitions) and
the ratios the issue's targets are about, and what each variant's runs used (threads, kernel and
instruction set: where `auto` chose one thread, or an instruction set, in some runs only, it says
so). Standard library only.

    cargo build --profile measured -p linreg --bins --examples
    python3 crates/linreg/benches/standalone.py [--repetitions 5] [--sizes 1e2,1e4,1e6,1e7]

A variant may carry its own epoch count, `parallel-auto@20`: the short runs of `make compare`
(scenarios/kernels.yaml: 200 epochs at 10^6, 20 at 10^7) beside the long ones. `simd+heap` is
`simd` with its data on the heap (`linreg --placement heap`: 4 KiB pages, as before the data went on
whole huge pages from a third of the L2 up), `parallel-2+adjacent` on whole pages with y right
after x (`--placement adjacent`, as before y moved half the L2's set span from x); with a variant
and its placed twin in a run, each repetition's time ÷ the placed time is printed, the absolute
comparison docs/limits.md asks for (the limit's probe keeps the placed layout, so "% of the
limit" of a `+heap` run is against what the machine gives the placed one). Sizes may be
fractions of CPU 0's L2, `'l2*0.5'` (16 bytes a point; quoted, as a shell would glob it): `make
bench-placement` runs the layouts across the L2's size on whatever CPU is at hand, and prints the
machine's transparent huge page mode (under `always` the heap too gets huge pages where a large
allocation is aligned to them, and the comparison is no longer against 4 KiB pages).

With the orchestrator built (`make build`), each repetition at each size starts with
`orchestrator limit N` — the probe a run of `make compare` makes before a point, the read bandwidth
of the epoch's own working set and the compute ceiling — and every run is then put against that
limit for the threads it used, as the report's "% of limit" is (the limit's best samples against
the run's time, the limit counting the fit's final MSE as one more pass): the check of "at least 90% of the limit at every n" anyone can run on their CPU.
`--kernel-loop` adds, with each limit, the kernels' own loop timed against the probe's in the
probe's process (on the buffer it has just read, same chunks, threads meeting after every pass,
samples alternating): where a run reads below its limit, whether its loop loses or what a fit
does around it.

`--spells SECONDS` adds, after the verdict, at each size where a variant fell short, the kernels'
loop alone against the probe's fastest over SECONDS a thread count, free-running, and what the
host's slow spells cost each loop then (`orchestrator limit --spells`; `make bench-spells` does
it at fixed sizes in rounds): near 100%, the shortfall is the kernel's or around its loop; well
below, the host's spells took it (on the 260 MiB Emerald Rapids host, busy: 79-89% on two
threads at 10^4-10^5 points).

`--fits K` runs each linreg variant's epochs as K fits (linreg --fits) and also sets the fastest
warm fit against the same limit (and the verdict gives it beside a variant's shortfall): best
stretch against best sample, for a host whose speed changes within a run (on the 300 MiB Emerald Rapids host, busy, 3 repetitions, K = 10: simd at 10^4 83% by
the whole run, 95% by its fastest fit; at 10^5, the 2 MiB L2's edge, 81% and 84%). With fits as
short as the probe's samples (K = 100: 1-4 ms each at 2*10^4-10^5 points), the fastest fits read
99-109% there, parallel included, where whole runs read 80-99%: like for like.
"""

import argparse
import json
import math
import os
import random
import statistics
import struct
import subprocess
import sys
from array import array
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# The `measured` profile (Cargo.toml): the settings of the `linreg` that `make compare` measures.
MEASURED = ROOT / "target" / "measured"
# Its `limit` command measures the limit each point is set against in a report.
ORCHESTRATOR = ROOT / "target" / "release" / "orchestrator"
# Below this the orchestrator measures no limit of a point's own (its epochs are too short).
LIMIT_MIN_N = 1024

# name → extra linreg arguments; "reference" and "reference-symmetric" are the two-thread
# yardsticks of examples/reference_kernel.rs (REFERENCE_FLAGS).
VARIANTS = {
    "simd": ["--kernel", "simd"],
    "simd-avx2": ["--kernel", "simd", "--isa", "avx2"],
    "simd-portable": ["--kernel", "simd", "--isa", "portable"],
    "parallel-auto": ["--kernel", "parallel"],
    "parallel-2": ["--kernel", "parallel", "--threads", "2"],
    "reference": None,
    "reference-symmetric": None,
}
# The examples/reference_kernel yardsticks: its spinning pair driven by the fit on the calling
# thread, as the parallel kernel is, and the fit itself on two threads that both take every step.
REFERENCE_FLAGS = {"reference": [], "reference-symmetric": ["--symmetric"]}
POINT_EPOCHS = 1e9
# The reference spins without bound: below this, on a busy machine, a run of 10^6 short epochs can
# take minutes. It is the yardstick of the targets at 10^6 and 10^7 anyway.
REFERENCE_MIN_N = 10_000


def write_npy(path, n, seed):
    """A noisy line y = 2x + 0.5, x in [0, 10): .npy, float64, shape (2, n)."""
    rng = random.Random(seed)
    x = array("d", (10.0 * rng.random() for _ in range(n)))
    y = array("d", (2.0 * xi + 0.5 + rng.gauss(0.0, 0.1) for xi in x))
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': (2, {n}), }}"
    header = header.ljust(127 - len(b"\x93NUMPY\x01\x00\x00\x00")) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        x.tofile(f)
        y.tofile(f)


# The placements a linreg variant may name (`linreg --placement`), beside the one it gets by default.
PLACEMENTS = ("heap", "adjacent")


def split_variant(variant):
    """`NAME[+PLACEMENT][@EPOCHS]` → (NAME, PLACEMENT or "", EPOCHS or "")."""
    named, _, epochs = variant.partition("@")
    name, _, placement = named.partition("+")
    return name, placement, epochs


def command(variant, data, epochs, fits=1):
    """The run's command line; with `fits` > 1 (not for the references, which fit once), the same
    epochs in `fits` fits of epochs/fits each (linreg --fits: each fit timed on its own)."""
    variant, placement, fixed_epochs = split_variant(variant)
    epochs = int(fixed_epochs or epochs)
    if VARIANTS[variant] is None:
        return [str(MEASURED / "examples" / "reference_kernel"), *REFERENCE_FLAGS[variant], str(data), str(epochs), "1e-4"]
    extra = (["--fits", str(fits)] if fits > 1 else []) + (["--placement", placement] if placement else [])
    per_fit = max(1, epochs // fits)
    return [str(MEASURED / "linreg"), "--data", str(data), "--epochs", str(per_fit), "--learning-rate", "1e-4", *VARIANTS[variant], *extra]


def rotated(runs, by):
    """The runs, size by size, with each size's variants turned left `by` places."""
    out = []
    for n in dict.fromkeys(n for n, _ in runs):
        variants = [v for m, v in runs if m == n]
        k = by % len(variants)
        out += [(n, v) for v in variants[k:] + variants[:k]]
    return out


def measure_limits(n, kernel_loop=False):
    """{threads: limit line} from `orchestrator limit n`, measured now (nothing else of ours running);
    with `kernel_loop`, each line also holds the kernels' loop timed against the probe's."""
    flags = ["--kernel-loop"] if kernel_loop else []
    out = subprocess.run([str(ORCHESTRATOR), "limit", *flags, str(n)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"standalone.py: `orchestrator limit{''.join(' ' + f for f in flags)} {n}` failed: {out.stderr.strip()}"
                 " (an orchestrator built before the flag? `make build`)")
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return {line["threads"]: line for line in lines}


def spells_at(n, seconds):
    """{threads: spells} from one `orchestrator limit --spells seconds n`: the probe's loop and the
    kernels' pass by pass on each thread free-running, and what each loses in the host's slow
    spells (crates/linreg/benches/spells.py prints them size by size)."""
    command = [str(ORCHESTRATOR), "limit", f"--spells={seconds}", str(n)]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"`{' '.join(command[1:])}` failed: {out.stderr.strip()} (an orchestrator built before --spells? `make build`)")
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return {line["threads"]: line["spells"] for line in lines if line.get("spells")}


def ran_at_once(probe):
    """Whether the probe's all-threads line says the CPUs ran at once (`cpus_at_once`, the report's
    rule: all threads' arithmetic at least halfway from one thread's to the cores' count of it).
    Where they did not, the host was likely not running this machine's CPUs at once while it probed
    (seen on a 2-vCPU guest in spells), and a run on all threads right after may measure the host's
    sharing, not the kernel. True where no line says (one CPU, or an orchestrator from before)."""
    return all(line.get("cpus_at_once", True) for threads, line in probe.items() if threads > 1)


def spread(values, fmt):
    return f"{fmt(statistics.median(values))} [{fmt(min(values))}-{fmt(max(values))}]"


def print_limits(sizes, variants, limits, percent, at_once):
    """The limits measured before each repetition and each variant's share of its own limit; where
    some probes found the CPUs not running at once, how many, and the share over the others."""
    print("\n% of the limit (limit ns / run ns, the report's \"% of limit\": the probe's best samples right before"
          " the repetition, for the threads the run used), median [min-max] over repetitions:")
    for n in sizes:
        measured = limits.get(n)
        if not measured:
            continue
        by_threads = {}
        for probe in measured:
            for threads, line in probe.items():
                by_threads.setdefault(threads, []).append(line)
        parts = []
        for threads, lines in sorted(by_threads.items()):
            best = spread([line["limit_ns"] for line in lines], lambda v: f"{v:.4f}")
            median = spread([line["bandwidth_ns_median"] for line in lines], lambda v: f"{v:.4f}")
            parts.append(f"{threads} thr. {best} ns ({lines[0]['bound']}; the probe's median sample {median})")
        apart = [probe for probe in measured if not ran_at_once(probe)]
        if apart:
            speedups = [line["compute_speedup"] for probe in apart for line in probe.values() if line.get("compute_speedup")]
            arithmetic = f" (all threads' arithmetic {spread(speedups, lambda v: f'{v:.2f}')}x one thread's)" if speedups else ""
            parts.append(f"the CPUs not at once in {len(apart)} of {len(measured)} probes{arithmetic}")
        print(f"  n = {n}: limit " + "; ".join(parts))
        shares = lambda values: spread(values, lambda p: f"{p:.0f}%")
        for v in variants:
            values = percent.get((n, v))
            if values:
                print(f"    {v}: {shares(values)}{at_once_text(values, at_once.get((n, v)), shares)}")


def at_once_text(values, flags, summary):
    """`; <summary of the shares> over the 8 probes with the CPUs at once` where some probes found
    them not at once, `; no probe with the CPUs at once` where none did, else nothing; `flags`
    lines up with `values`, one a repetition."""
    together = [p for p, flag in zip(values, flags or []) if flag]
    if not flags or len(together) == len(values):
        return ""
    if not together:
        return "; no probe with the CPUs at once"
    return f"; {summary(together)} over the {len(together)} probes with the CPUs at once"


def print_kernel_loops(sizes, limits):
    """The kernels' own loop against the probe's, timed in the probe's process on its buffer,
    chunks and meetings (`orchestrator limit --kernel-loop`): where a run reads below its limit and
    its loop does not, the loss is around the loop (the fit's exchange, step, blocks, process)."""
    rows = []
    for n in sizes:
        by_threads = {}
        for probe in limits.get(n, []):
            for threads, line in probe.items():
                if line.get("kernel_loop"):
                    by_threads.setdefault(threads, []).append(line["kernel_loop"])
        parts = []
        for threads, loops in sorted(by_threads.items()):
            ratio = spread([c["kernel_over_probe_median"] for c in loops], lambda v: f"{v:.3f}")
            kernel = statistics.median(c["kernel_loop_ns_median"] for c in loops)
            probe = statistics.median(c["probe_loop_ns_median"] for c in loops)
            pairs = statistics.median(c["pairs"] for c in loops)
            part = f"{threads} thr. {ratio} ({kernel:.4f} against {probe:.4f} ns; {pairs:g} rounds, {loops[0]['instruction_set']})"
            prefetching = [c["prefetching"] for c in loops if c.get("prefetching")]
            if prefetching:
                with_ratio = spread([f["kernel_over_probe_median"] for f in prefetching], lambda v: f"{v:.3f}")
                part += f", with the prefetch {with_ratio}"
            parts.append(part)
        if parts:
            rows.append(f"  n = {n}: " + "; ".join(parts))
    if rows:
        print("\nthe kernels' loop / the probe's loop, in the probe's process (same buffer, chunks, meetings and, on every"
              " thread, the same order: blocks back and forth; time over time, the median of the rounds a repetition; also"
              " the kernels' loop with the prefetch a kernel's thread may choose past its L2), median [min-max] over"
              " repetitions:")
        print("\n".join(rows))


def print_fastest_fits(sizes, variants, fit_percent, fits):
    """The fastest of each run's warm fits against the same limit: the probe's best sample set
    against the run's best stretch (a fit of epochs/fits), like for like on a host whose speed
    changes from one second to the next, where a whole run's average against a best sample reads
    low by the host's own spread."""
    print(f"\n% of the limit by the fastest of {fits - 1} warm fits (its epochs / {fits} each), median [min-max] over repetitions:")
    for n in sizes:
        parts = [f"{v}: {spread(fit_percent[(n, v)], lambda p: f'{p:.0f}%')}" for v in variants if (n, v) in fit_percent]
        if parts:
            print(f"  n = {n}: " + "; ".join(parts))


def check_variant(variant):
    """Exits with one line where `variant` is not NAME[+heap|+adjacent][@EPOCHS] of a known NAME
    (the references take no placement: they are not linreg)."""
    name, placement, epochs = split_variant(variant)
    plus = "+" in variant
    problem = None
    if name not in VARIANTS:
        problem = f"unknown variant '{name}' (known: {', '.join(VARIANTS)})"
    elif plus and placement not in PLACEMENTS:
        problem = f"'+{placement}': a variant's placement is +heap or +adjacent (without one, linreg places the data)"
    elif plus and VARIANTS[name] is None:
        problem = f"'{name}' takes no placement (it is not linreg)"
    elif epochs and not (epochs.isascii() and epochs.isdigit() and int(epochs) > 0):
        problem = f"'@{epochs}': epochs are a whole number > 0"
    if problem:
        sys.exit(f"standalone.py: --variants {variant}: {problem}")


def without_placement(variant):
    """`simd+heap@20` → `simd@20`: the same run with the data where linreg places it."""
    name, _, epochs = split_variant(variant)
    return name + (f"@{epochs}" if epochs else "")


def print_placement(sizes, variants, ns, fastest):
    """Each `+heap` or `+adjacent` variant against its placed twin, repetition by repetition (the
    two ran in the same turn of the interleaving): its time ÷ the time placed, by the whole run and,
    with --fits, by the fastest warm fit (the host's own spread left out), and in how many
    repetitions it was the slower. Absolute times, not shares of a limit: a probe on the same layout as
    the kernel would lose what the kernel loses and hide it (docs/limits.md, 1.2*10^5 points)."""
    pairs = [(v, without_placement(v)) for v in variants if "+" in v and without_placement(v) in variants]
    if not pairs:
        return
    print("\nplacement: time with the data on the heap (or adjacent) / placed, per repetition, median [min-max] (slower than placed in k of m):")
    for n in sizes:
        parts = []
        for other, placed in pairs:
            for label, runs in (("run", ns), ("fastest fit", fastest)):
                a, b = runs.get((n, other)), runs.get((n, placed))
                if a and b and len(a) == len(b):
                    ratios = [x / y for x, y in zip(a, b)]
                    slower = sum(r > 1 for r in ratios)
                    parts.append(f"{other} / {placed} {label} {spread(ratios, lambda r: f'{r:.3f}')} ({slower} of {len(ratios)})")
        if parts:
            print(f"  n = {n}: " + "; ".join(parts))


def prefetch_label(line):
    """Where a run's threads tried software prefetches (past their L2s), how many kept them, refused
    them, or had not chosen when the fit ended, as the result line counts them: ", prefetch 2 kept",
    ", prefetch 1 kept/1 refused". Empty where none tried."""
    if "prefetching_threads" not in line:
        return ""
    kept, refused = line["prefetching_threads"], line.get("prefetch_refused_threads")
    if refused is None:  # a linreg from before the refusals were counted
        return f", {kept} prefetching"
    counts = ((kept, "kept"), (refused, "refused"), (line["threads"] - kept - refused, "undecided"))
    return ", prefetch " + "/".join(f"{count} {what}" for count, what in counts if count)


def print_ran_on(sizes, variants, ran_on, prefetch_pairs):
    """What each variant's runs used: threads, kernel and instruction set, with how many runs each.
    `auto` choices show here and nowhere else: "% of the limit" is against the limit of the threads
    a run used, so a fit that settled on one thread where two were faster reads as near its limit
    (on an Emerald Rapids `auto` kept one thread in 4-6 of 11 fits at 2*10^4-5*10^4 points, and
    only these counts showed it). Where threads tried prefetches, their choices, and the pairs of
    epochs the sign test timed (the most of a run's threads, to its choice or to the fit's end where
    one had not chosen; where the prefetch costs, about one epoch a pair ran with it)."""
    print("\nwhat the runs used (threads, kernel/instruction set[, the threads' prefetch choices]: runs):")
    for n in sizes:
        parts, pairs = [], []
        for v in variants:
            used = ran_on.get((n, v))
            if used:
                mixed = " (MIXED)" if len(used) > 1 else ""
                parts.append(f"{v}: " + ", ".join(f"{what} x{count}" for what, count in used.most_common()) + mixed)
            if prefetch_pairs.get((n, v)):
                pairs.append(f"{v} {spread(prefetch_pairs[(n, v)], str)}")
        print(f"  n = {n}: " + "; ".join(parts))
        if pairs:
            print("    prefetch pairs timed, median [min-max] over runs: " + "; ".join(pairs))


# The kernels' target (README, "Performance targets"): every Rust kernel at this share of its limit
# or more, by the median over repetitions, at every size from TARGET_MIN_N points.
TARGET_SHARE = 90.0
TARGET_MIN_N = 10_000


def floor_percent(values):
    """The median rounded down to one decimal: a median of 89.97% is short of the target, and "90%"
    or "90.0%" would not say why."""
    return f"{math.floor(statistics.median(values) * 10) / 10:.1f}%"


def print_verdict(sizes, variants, percent, at_once, fit_percent, spells_follow):
    """Whether each Rust variant met the kernels' target on this CPU, and where it did not: the
    figure a run on another CPU is checked by. The references are yardsticks and the `+heap` and
    `+adjacent` runs an experiment: neither is judged. With `--fits`, where a variant falls short,
    what its fastest warm fits read there: at the target, the shortfall is the runs' own spread (a
    host whose speed moves within a run: on the 260 MiB Emerald Rapids host each vCPU is slowed on
    its own in spells, and two threads meeting every epoch pay the slower), not the kernel."""
    print(f"\ntarget: >= {TARGET_SHARE:.0f}% of the limit (median) at every n >= {TARGET_MIN_N}, on {cpu_identity()}:")
    short_sizes = set()
    for v in variants:
        if v.startswith("reference") or "+" in v:
            continue
        medians = {n: statistics.median(percent[(n, v)]) for n in sizes if n >= TARGET_MIN_N and (n, v) in percent}
        if not medians:
            continue
        short = [n for n, p in medians.items() if p < TARGET_SHARE]
        named = [f"n = {n} ({floor_percent([medians[n]])}{at_once_text(percent[(n, v)], at_once.get((n, v)), floor_percent)})" for n in short]
        line = "met at every n measured" if not short else "NOT met at " + ", ".join(named)
        short_sizes.update(short)
        by_fit = {n: statistics.median(fit_percent[(n, v)]) for n in short if (n, v) in fit_percent}
        if by_fit:
            below = [f"n = {n}" for n, p in by_fit.items() if p < TARGET_SHARE]
            line += "; by its fastest warm fit there " + ", ".join(f"{floor_percent([p])} at n = {n}" for n, p in by_fit.items())
            line += f": below the target at {', '.join(below)} too" if below else ": at the target, so the runs' own spread, not the kernel"
        print(f"  {v}: {line}")
    if short_sizes and not spells_follow:
        print("  where a kernel falls short: `make bench-spells` (or --spells SECONDS here) tells whether the host's slow spells"
              " cost the kernels' loop more than the probe's (a limit is the probe's best sample; a run pays the spells too)")
    return sorted(short_sizes)


# The kernels' loop by itself at this share of the probe's fastest keeps pace with the limit (the
# kernels' target), and within this ratio of the probe's loop by the median pair is level with it
# where the host leaves a core alone (the two loops' pace on this host's quiet cores was 1.00-1.02
# by the median pair: docs/limits.md).
KEEPS_PACE_PERCENT = 90.0
LEVEL_PAIR = 1.05


def loop_percent(spells):
    """The kernels' loop alone as a % of the probe's fastest, from a spells line (or its medians)."""
    return 100 / spells["kernel_mean_over_probe_fastest"]


def with_prefetch(spells_lines):
    """Past the L2, where the kernels try software prefetches and keep them by their own epochs'
    sign test, the spells lines time their prefetching loop too (`prefetching`, from the same
    turns): its share of the probe's fastest, its median pair and the share of turns it beat the
    plain loop in (medians over the lines), with its own reading. "" where the kernels do not try."""
    tried = [line for line in spells_lines if line.get("prefetching")]
    if not tried:
        return ""
    nested = [line["prefetching"] for line in tried]
    percent = statistics.median(loop_percent(n) for n in nested)
    pair = statistics.median(n["kernel_over_probe_median"] for n in nested)
    slowed = statistics.median(n["slowed_share"] for n in nested)
    won = statistics.median(line["prefetch_won_share"] for line in tried)
    return (f"; with the prefetch: {percent:.1f}%, {pair:.3f}x by the median pair, the faster of the kernels' two"
            f" in {100 * won:.0f}% of turns: {spells_reading(percent, pair, slowed)}")


def spells_reading(percent, median_pair, slowed_share):
    """What one spells line says about a fit short of its limit: the loop keeps pace (the shortfall is
    around it: the threads meeting, the first epochs), or it is level with the probe's outside the
    host's spells (the spells took it), or it is slower even then (the loop's own). Where the host
    slowed half the pairs or more, the median pair is one of them, and says nothing of the loops'
    pace outside the spells."""
    if percent >= KEEPS_PACE_PERCENT:
        return "keeps pace: what a fit lost is around the loop"
    if slowed_share >= 0.5:
        return "cannot tell: the host slowed most pairs, the median one too (again in a quieter hour)"
    if median_pair <= LEVEL_PAIR:
        return "the host's spells: level with the probe's loop outside them"
    return f"the loop's own: {median_pair:.2f}x the probe's even by the median pair"


def print_spells(short_sizes, seconds):
    """Where a variant fell short: the kernels' loop alone, free-running, against the probe's fastest
    over `seconds` right after the runs, and what the host's slow spells cost each loop then
    (`orchestrator limit --spells`): near 100% and the spells rare, the shortfall is the kernel's
    (or around its loop); well below, the host's spells took it."""
    if not short_sizes:
        return
    print(f"\nwhere a variant fell short, the kernels' loop alone against the probe's fastest over {seconds} s right after"
          " (free-running; slowed pairs: 1.15x their fastest or more):")
    for n in short_sizes:
        parts = []
        for threads, sp in sorted(spells_at(n, seconds).items()):
            in_spells = ""
            if sp.get("probe_slowdown_when_slowed") is not None:
                in_spells = (f", in them the probe's loop {sp['probe_slowdown_when_slowed']:.2f}x its fastest and the kernels' "
                             f"{sp['kernel_slowdown_when_slowed']:.2f}x")
            percent = loop_percent(sp)
            parts.append(f"{threads} thr. {percent:.1f}% ({100 * sp['slowed_share']:.0f}% of pairs slowed{in_spells}): "
                         f"{spells_reading(percent, sp['kernel_over_probe_median'], sp['slowed_share'])}{with_prefetch([sp])}")
        print(f"  n = {n}: " + "; ".join(parts))


# Where Linux lists CPU 0's caches, one `index*` folder a cache.
CPU0_CACHES = Path("/sys/devices/system/cpu/cpu0/cache")


def cpu0_cache_folders():
    """{level: sysfs folder} of the data (or unified) caches CPU 0 reports."""
    folders = {}
    for index in CPU0_CACHES.glob("index*"):
        try:
            level = int((index / "level").read_text())
            kind = (index / "type").read_text().strip()
        except (OSError, ValueError):
            continue
        if kind != "Instruction":
            folders[level] = index
    return folders


def cpu0_caches():
    """{level: bytes} of the data (or unified) caches CPU 0 reports in sysfs (sizes as "32768K")."""
    caches = {}
    for level, index in cpu0_cache_folders().items():
        try:
            text = (index / "size").read_text().strip()
        except OSError:
            continue
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            caches[level] = int(digits) * scale
    return caches


def last_level_cache_bytes():
    """The largest cache CPU 0 reports in sysfs, or None where none does."""
    return max(cpu0_caches().values(), default=None)


def of_the_l2(fraction):
    """`l2*0.5`: the points whose 16 bytes each fill this fraction of CPU 0's L2, to two significant
    digits."""
    l2 = cpu0_caches().get(2)
    if l2 is None:
        sys.exit(f"standalone.py: --sizes l2*{fraction}: CPU 0 reports no L2 in sysfs")
    wanted = fraction * l2 / 16
    digits = 10 ** max(0, len(str(int(wanted))) - 2)
    return round(wanted / digits) * digits


def where_adjacent_columns_overlap():
    """`l2-overlap`: the points at which two threads' halves, with y right after x (`linreg
    --placement adjacent`), put the partial last round of each half's x and of its y on the same
    L2 sets, so that half of each thread's sets are filled to their last way (one line of the
    kernel's own in such a set and all its lines miss every pass), and none are with y half the
    L2's set span from x: the size where the two layouts differ most, (2 − 2/ways) of CPU 0's L2
    (2.46·10^5 points on a 2 MiB 16-way L2, 5.7·10^4 on a 512 KiB 8-way one). Exact, not rounded:
    a few lines more or less and the rounds no longer fall alike."""
    l2 = cpu0_caches().get(2)
    try:
        ways = int((cpu0_cache_folders()[2] / "ways_of_associativity").read_text())
    except (KeyError, OSError, ValueError):
        ways = 0
    if l2 is None or ways < 2:
        sys.exit("standalone.py: --sizes l2-overlap: CPU 0 reports no L2 and its ways in sysfs")
    return (2 * ways - 2) * (l2 // ways) // 16


def beyond_the_cache(sizes):
    """For the `mem` size: the points whose 16 bytes each fill twice the last-level cache (rounded
    up to one significant digit), so one size at least is the memory's, not a cache's. None where
    a size asked for already reaches that, where sysfs names no cache, or where three copies of it
    (the file in the page cache, the run's data, the probe's buffer) would take more than half
    the memory available."""
    llc = last_level_cache_bytes()
    if llc is None:
        print("# mem: no cache size in sysfs, no size beyond it", file=sys.stderr)
        return None
    wanted = 2 * llc // 16
    digits = 10 ** (len(str(wanted)) - 1)
    n = -(-wanted // digits) * digits
    if any(size >= n for size in sizes):
        return None
    available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if 3 * 16 * n > available // 2:
        print(f"# mem: {n} points (twice the {llc >> 20} MiB last-level cache) need more memory than this machine has free; left out", file=sys.stderr)
        return None
    return n


def parse_sizes(text):
    """`1e4,1e5,l2*0.5,l2-overlap,mem`: numbers of points, fractions of the L2, in ascending order
    whatever the order given (where a fraction of the L2 falls depends on the CPU); `l2-overlap`
    the size where y's place matters most (`where_adjacent_columns_overlap`); `mem` adds one
    working set beyond the last-level cache."""
    def size(token):
        if token == "l2-overlap":
            return where_adjacent_columns_overlap()
        try:
            n = of_the_l2(float(token[3:])) if token.startswith("l2*") else int(float(token))
        except (ValueError, OverflowError):
            n = 0
        if n < 1:
            sys.exit(f"standalone.py: --sizes: '{token}' is not a number of points ≥ 1, l2*FRACTION (> 0), l2-overlap or mem")
        return n
    sizes = sorted(set(size(s) for s in text.split(",") if s != "mem"))
    if "mem" in text.split(","):
        n = beyond_the_cache(sizes)
        if n is not None:
            sizes.append(n)
    return sizes


def huge_page_mode():
    """The transparent huge page mode in force (`madvise`, `always`, `never`), as sysfs brackets it."""
    try:
        text = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return "unknown (no sysfs entry)"
    chosen = text[text.find("[") + 1:text.find("]")] if "[" in text else text.strip()
    notes = {"madvise": "only advised memory: the heap runs are on 4 KiB pages",
             "always": "the heap gets huge pages too where aligned: heap is not 4 KiB pages here",
             "never": "none: both layouts are on 4 KiB pages"}
    return f"{chosen} ({notes.get(chosen, '?')})"


def cpu_identity():
    """The CPU as /proc/cpuinfo names it, with its family, model and stepping (the figures belong
    to one CPU kind), and the CPUs this process may use."""
    fields = {}
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        return "unknown CPU"
    name = fields.get("model name", "unknown CPU")
    return (f"{name} (vendor {fields.get('vendor_id', '?')}, family {fields.get('cpu family', '?')}, "
            f"model {fields.get('model', '?')}, stepping {fields.get('stepping', '?')}), {len(os.sched_getaffinity(0))} CPUs")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--sizes", default="1e2,1e3,1e4,3e4,1e5,3e5,1e6,1e7,mem",
                        help="points, comma-separated; `mem`: twice the last-level cache, where no other size reaches beyond it")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--epochs", type=int, help="the same epochs at every size (default: ~1e9 point-epochs)")
    parser.add_argument("--data-dir", default=str(ROOT / "target" / "standalone-bench"))
    parser.add_argument("--no-limits", action="store_true", help="skip `orchestrator limit` before each repetition")
    parser.add_argument("--fits", type=int, default=1,
                        help="run each linreg variant's epochs as this many fits and also set its fastest warm fit against the limit")
    parser.add_argument("--spells", type=float, default=0.0, metavar="SECONDS",
                        help="after the verdict, where a variant fell short, time the kernels' loop alone against the probe's "
                             "fastest for SECONDS a thread count (orchestrator limit --spells): whether the host's spells took it")
    parser.add_argument("--kernel-loop", action="store_true",
                        help="with each limit, time the kernels' own loop against the probe's in one process (orchestrator limit --kernel-loop)")
    args = parser.parse_args()
    sizes = parse_sizes(args.sizes)
    variants = args.variants.split(",")
    for v in variants:
        check_variant(v)
    if len(set(variants)) < len(variants):
        sys.exit(f"standalone.py: --variants {args.variants}: a variant is named twice")
    os.makedirs(args.data_dir, exist_ok=True)

    datasets = {}
    for n in sizes:
        datasets[n] = Path(args.data_dir) / f"line-{n}.npy"
        if not datasets[n].exists():
            write_npy(datasets[n], n, seed=n)
    epochs = {n: args.epochs or int(min(2e6, max(20, POINT_EPOCHS / n))) for n in sizes}

    runs = [(n, v) for n in sizes for v in variants if not (v.startswith("reference") and n < REFERENCE_MIN_N)]
    ns = {run: [] for run in runs}
    with_limits = not args.no_limits and ORCHESTRATOR.is_file()
    if not args.no_limits and not with_limits:
        print(f"# no {ORCHESTRATOR} (`make build`): no limits, no % of limit", file=sys.stderr)
    if args.kernel_loop and not with_limits:
        print("# --kernel-loop is timed with each limit: without limits, no kernels' loop either", file=sys.stderr)
    if not 0 <= args.spells <= 3600:
        sys.exit(f"standalone.py: --spells takes seconds from 0 (off) to 3600, not {args.spells}")
    limits, percent, ran_on, prefetch_pairs, fit_percent, fastest, at_once = {}, {}, {}, {}, {}, {}, {}
    print(f"# {os.uname().nodename}, load {os.getloadavg()}", file=sys.stderr)
    print(f"# machine: {cpu_identity()}")
    if any("+" in v for v in variants):
        print(f"# transparent huge pages: {huge_page_mode()}")
    for rep in range(args.repetitions):
        probed = None
        for n, v in rotated(runs, rep):
            if with_limits and n >= LIMIT_MIN_N and probed != n:
                limits.setdefault(n, []).append(measure_limits(n, args.kernel_loop))
                probed = n
            out = subprocess.run(command(v, datasets[n], epochs[n], args.fits), capture_output=True, text=True, check=True)
            line = json.loads(out.stdout)
            fits = line.get("fits") or 1
            ns_per_point = line["train_seconds"] / (n * line["epochs"] * fits) * 1e9
            ns[(n, v)].append(ns_per_point)
            if line.get("fit_warm_min_seconds"):
                fastest.setdefault((n, v), []).append(line["fit_warm_min_seconds"] / (n * line["epochs"]) * 1e9)
            ran_on.setdefault((n, v), Counter())[f"{line['threads']} thr. {line['kernel']}{prefetch_label(line)}"] += 1
            if "prefetch_pairs" in line:
                prefetch_pairs.setdefault((n, v), []).append(line["prefetch_pairs"])
            limit = limits[n][-1].get(line["threads"]) if probed == n else None
            if limit:
                # As the report does: the fit's limit counts its final MSE, one more pass than its
                # epochs, inside train_seconds (docs/protocol.md).
                fit_limit_ns = limit["limit_ns"] * (line["epochs"] + 1) / line["epochs"]
                percent.setdefault((n, v), []).append(100.0 * fit_limit_ns / ns_per_point)
                at_once.setdefault((n, v), []).append(line["threads"] == 1 or ran_at_once(limits[n][-1]))
                if line.get("fit_warm_min_seconds"):
                    fit_percent.setdefault((n, v), []).append(100.0 * fit_limit_ns / fastest[(n, v)][-1])
            print(f"raw,{rep},{n},{line['epochs']},{v},{line['kernel']},{line['threads']},{line['train_seconds']:.6f}", file=sys.stderr)
    print(f"# load after: {os.getloadavg()}", file=sys.stderr)

    print("n,epochs," + ",".join(f"{v} median [min-max] ns" for v in variants))
    for n in sizes:
        cells = []
        for v in variants:
            values = ns.get((n, v))
            cells.append(f"{statistics.median(values):.4f} [{min(values):.4f}-{max(values):.4f}]" if values else "-")
        print(f"{n},{epochs[n]}," + ",".join(cells))
    med = {key: statistics.median(values) for key, values in ns.items()}
    print("\nratios of medians (time / time):")
    for n in sizes:
        parts = []
        pairs = [("parallel-auto", "simd"), ("parallel-auto", "parallel-2"), ("parallel-2", "reference"), ("parallel-2", "reference-symmetric"), ("simd", "simd-avx2")]
        pairs += [(v, v.partition("@")[0]) for v in variants if "@" in v]
        pairs += [(v, without_placement(v)) for v in variants if "+" in v]
        for a, b in pairs:
            if (n, a) in med and (n, b) in med:
                parts.append(f"{a}/{b} = {med[(n, a)] / med[(n, b)]:.3f}")
        print(f"  n = {n}: " + (", ".join(parts) or "(no two variants of a pair ran)"))
    print_ran_on(sizes, variants, ran_on, prefetch_pairs)
    print_placement(sizes, variants, ns, fastest)
    if with_limits:
        print_limits(sizes, variants, limits, percent, at_once)
        short_sizes = print_verdict(sizes, variants, percent, at_once, fit_percent, args.spells > 0)
        if args.kernel_loop:
            print_kernel_loops(sizes, limits)
        if args.spells > 0:
            print_spells(short_sizes, args.spells)
        if fit_percent:
            print_fastest_fits(sizes, variants, fit_percent, args.fits)


if __name__ == "__main__":
    main()
