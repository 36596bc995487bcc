"""What the machine's slow spells cost the kernels' loop and the limit's probe loop, size by size.

`orchestrator limit --spells SECONDS N` times the probe's read loop and the kernels' own loop
(`linreg::kernels::simd::gradient_sums`) pass by pass, in pairs taking turns, on each thread
free-running, on one thread and then on all. This runs it at each size, `--rounds` times
(interleaved: every size once, then again), and prints the medians over the rounds:

- the loops' ratio by the median pair: their pace where the host leaves a core alone;
- the ratio of their sums: what a run pays, spells included;
- the share of pairs that took 1.15x the fastest pair or more (the spells), and in those each
  loop's time over its own fastest;
- each loop's mean time over its own fastest, and the kernels' loop as a % of the probe's fastest
  over the whole time: what a fit that were its loop alone would read of a limit (the probe's best
  sample) in those minutes (free-running, where a fit's threads and the limit's meet every pass:
  a figure to set beside a fit's % of its limit, not the same measure).

Where the median ratio is near 1 but the kernels' loop loses more than the probe's in the slowed
pairs, a fit reading below its limit (the probe's best sample) does so by the host's spells, not
by its loop: `make bench-kernels` asks whether the kernels reach 90% of the limit; this says
why not, on whatever CPU runs it. The last column says so in words: the loop keeps pace (90% of
the probe's fastest or more), or the host's spells took it (level with the probe's loop, within
5%, by the median pair), or the loop is slower even there (its own), or, where the host slowed
half the pairs or more, that it cannot tell. Past the L2, where the kernels try software prefetches
(and keep them by a sign test over their own epochs), their prefetching loop takes its turn too, and
the line ends with its figures and reading beside the plain loop's. A benchmark: it asserts
nothing. Standard library only.

    make build && python3 crates/linreg/benches/spells.py [--sizes 1e4,1e5] [--seconds 5] [--rounds 3]
"""

import argparse
import statistics
import sys

from standalone import ORCHESTRATOR, cpu_identity, loop_percent, spells_at, spells_reading, with_prefetch

FIELDS = ["probe_ns_fastest", "kernel_ns_fastest", "kernel_over_probe_median", "kernel_over_probe_overall",
          "slowed_share", "probe_slowdown_when_slowed", "kernel_slowdown_when_slowed",
          "probe_mean_over_fastest", "kernel_mean_over_fastest", "kernel_mean_over_probe_fastest"]


def median_of(rounds, field):
    values = [r[field] for r in rounds if r.get(field) is not None]
    return statistics.median(values) if values else None


def show(value, digits=3):
    return "-" if value is None else f"{value:.{digits}f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,5e4,1e5,2.5e5,1e6", help="points, comma-separated")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds a thread count a size a round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    try:
        sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        sys.exit(f"spells.py: --sizes takes numbers of points such as 1e4,1e5, not {args.sizes!r}")
    if not sizes or args.rounds < 1 or not 0 < args.seconds <= 3600:
        sys.exit("spells.py: give at least one size, one round, and seconds above 0 (at most 3600)")
    if not ORCHESTRATOR.exists():
        sys.exit(f"spells.py: {ORCHESTRATOR} is not built (`make build`)")
    print(f"# {cpu_identity()}")
    print(f"# {args.rounds} rounds of {args.seconds} s a thread count at each size; medians over the rounds, the last column's range too")
    measured = {}
    for round_number in range(args.rounds):
        for n in sizes:
            for threads, spells in spells_at(n, args.seconds).items():
                measured.setdefault((n, threads), []).append(spells)
            print(f"# round {round_number + 1}: {n} points done", file=sys.stderr)
    print("points threads | probe ns kernel ns (fastest) | kernel/probe: median pair, overall | "
          "slowed pairs | in them, time / fastest: probe, kernel | mean / fastest: probe, kernel | "
          "the kernels' loop, % of the probe's fastest [range over the rounds] | reading")
    for (n, threads), rounds in sorted(measured.items()):
        m = {field: median_of(rounds, field) for field in FIELDS}
        percent = loop_percent(m)
        print(f"{n:>9} {threads:>2} | {show(m['probe_ns_fastest'], 4)} {show(m['kernel_ns_fastest'], 4)} | "
              f"{show(m['kernel_over_probe_median'])} {show(m['kernel_over_probe_overall'])} | "
              f"{100 * m['slowed_share']:5.1f}% | {show(m['probe_slowdown_when_slowed'], 2)} "
              f"{show(m['kernel_slowdown_when_slowed'], 2)} | {show(m['probe_mean_over_fastest'])} "
              f"{show(m['kernel_mean_over_fastest'])} | {percent:.1f}% [{percent_range(rounds)}] | "
              f"{spells_reading(percent, m['kernel_over_probe_median'], m['slowed_share'])}{with_prefetch(rounds)}")


def percent_range(rounds):
    """The kernels' loop as a % of the probe's fastest, lowest and highest over the rounds."""
    shares = [loop_percent(r) for r in rounds]
    return f"{min(shares):.1f}-{max(shares):.1f}%"


if __name__ == "__main__":
    main()
