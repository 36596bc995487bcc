"""The words the kernel benches print beside a spells line (crates/linreg/benches/standalone.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "crates" / "linreg" / "benches"))

from standalone import kernels_loop_named, spells_reading  # noqa: E402


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


def test_the_kernels_loop_is_named_only_where_they_try_prefetches():
    assert kernels_loop_named([{"threads": 1}, {"kernel_prefetches": None}]) == ""
    lines = [{"kernel_prefetches": True}, {"kernel_prefetches": False}, {"kernel_prefetches": True}]
    assert kernels_loop_named(lines) == "the prefetching loop in 2 of 3"
