"""The words the kernel benches print beside a spells line and a run's prefetch choices
(crates/linreg/benches/standalone.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "crates" / "linreg" / "benches"))

from standalone import prefetch_label, spells_reading, with_prefetch  # noqa: E402


def test_a_loop_at_ninety_percent_keeps_pace_whatever_its_pairs():
    assert spells_reading(90.0, 1.3, 0.2).startswith("keeps pace")
    assert spells_reading(97.2, 0.99, 0.9).startswith("keeps pace")


def test_below_ninety_the_median_pair_tells_the_host_from_the_loop():
    assert spells_reading(79.0, 1.02, 0.3).startswith("the host's spells")
    assert spells_reading(89.9, 1.05, 0.49).startswith("the host's spells")
    own = spells_reading(80.0, 1.12, 0.1)
    assert own.startswith("the loop's own") and "1.12x" in own


def test_with_most_pairs_slowed_the_median_pair_says_nothing():
    assert spells_reading(66.0, 1.14, 0.97).startswith("cannot tell")
    assert spells_reading(80.0, 1.01, 0.5).startswith("cannot tell")


def test_the_prefetching_loop_is_read_only_where_the_kernels_try_it():
    assert with_prefetch([{"threads": 1}, {"threads": 2, "prefetching": None}]) == ""

    def line(mean_over_fastest, pair, won):
        nested = {"kernel_mean_over_probe_fastest": mean_over_fastest, "kernel_over_probe_median": pair, "slowed_share": 0.1}
        return {"prefetching": nested, "prefetch_won_share": won}

    # Medians over the rounds: 100 / 1.02 = 98.0%, pair 1.01, won 70% of turns.
    got = with_prefetch([line(1.02, 1.01, 0.7), line(1.3, 1.2, 0.2), line(1.01, 1.0, 0.9)])
    assert got.startswith("; with the prefetch: 98.0%, 1.010x by the median pair") and "in 70% of turns" in got
    assert got.endswith("keeps pace: what a fit lost is around the loop")
    assert "the loop's own" in with_prefetch([line(1.25, 1.12, 0.1)])


def test_a_runs_prefetch_choices_are_counted_kept_refused_and_undecided():
    line = {"threads": 2, "kernel": "parallel/avx512"}
    assert prefetch_label(line) == ""
    assert prefetch_label({**line, "prefetching_threads": 2, "prefetch_refused_threads": 0}) == ", prefetch 2 kept"
    assert prefetch_label({**line, "prefetching_threads": 1, "prefetch_refused_threads": 1}) == ", prefetch 1 kept/1 refused"
    assert prefetch_label({**line, "prefetching_threads": 0, "prefetch_refused_threads": 1}) == ", prefetch 1 refused/1 undecided"
    # A linreg that counted only the threads that kept it.
    assert prefetch_label({**line, "prefetching_threads": 1}) == ", 1 prefetching"
