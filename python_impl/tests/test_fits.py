"""`--fits K` (docs/protocol.md, repeated warm fits) in every Python script, and the statistics
linreg_common.py computes for it, on the same vectors as crates/linreg/src/fit_times.rs."""

import json
import math
import sys
from pathlib import Path

import pytest

from test_scripts import EACH_SCRIPT, PYTHON_IMPL, TEST_B, TEST_W, assert_close, assert_one_error_line, fit, run, vector_npy

sys.path.insert(0, str(PYTHON_IMPL))
import linreg_common as common  # noqa: E402

WARM_FIELDS = [
    "fit_warm_min_seconds",
    "fit_warm_median_seconds",
    "fit_warm_p99_seconds",
    "fit_warm_max_seconds",
    "fit_warm_mean_seconds",
]
PER_FIT_FIELDS = ["fits", "fit_first_seconds"] + WARM_FIELDS


def fits(script, data, k, epochs=1000, learning_rate=0.01):
    proc = run(script, "--data", data, "--epochs", epochs, "--learning-rate", learning_rate, "--fits", k)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    (line,) = proc.stdout.splitlines()
    return json.loads(line)


# -------------------------------------------------------------------------------------------
# The scripts


@pytest.mark.parametrize("script", EACH_SCRIPT)
def test_k_fits_carry_count_first_and_warm_statistics(script, tmp_path):
    data = vector_npy(tmp_path / "data.npy")
    result = fits(script, data, 7)
    assert result["status"] == "ok"
    assert_close(result["w"], TEST_W)
    assert_close(result["b"], TEST_B)
    assert result["fits"] == 7
    for field in PER_FIT_FIELDS[1:]:
        assert isinstance(result[field], float) and result[field] > 0, field
    low, median, p99, high, mean = (result[f] for f in WARM_FIELDS)
    assert low <= median <= p99 <= high
    assert low <= mean <= high
    # train_seconds is the whole loop: the fits (the first plus 6 warm ones of that mean) and
    # the recording between them, which costs microseconds, not the 50 ms allowed here.
    fitted = result["fit_first_seconds"] + 6 * mean
    assert fitted <= result["train_seconds"] * (1 + 1e-9)
    assert result["train_seconds"] - fitted < 0.05


@pytest.mark.parametrize("script", EACH_SCRIPT)
def test_one_fit_has_count_and_first_only(script, tmp_path):
    result = fits(script, vector_npy(tmp_path / "data.npy"), 1)
    assert result["fits"] == 1
    assert result["fit_first_seconds"] == result["train_seconds"]
    assert not any(field in result for field in WARM_FIELDS)


@pytest.mark.parametrize("script", EACH_SCRIPT)
def test_without_fits_the_line_has_no_per_fit_fields(script, tmp_path):
    result = fit(script, vector_npy(tmp_path / "data.npy"), 1000, 0.01)
    assert not any(field in result for field in PER_FIT_FIELDS)


@pytest.mark.parametrize("script", EACH_SCRIPT)
def test_every_fit_starts_from_zero(script, tmp_path):
    # The last of K fits is the fit: the same w, b and mse as a single one (to 1e-12, not bit for
    # bit: the SIMD sums of python-rust depend on where NumPy's buffer lies modulo 64 bytes, which
    # changes from process to process); and a diverging fit diverges at the same epoch every time.
    data = vector_npy(tmp_path / "data.npy")
    once, thrice = fit(script, data, 1000, 0.01), fits(script, data, 3)
    for field in ("w", "b", "mse"):
        assert_close(thrice[field], once[field], rel=1e-12)
    diverged = fits(script, data, 3, learning_rate=1.0)
    assert diverged["status"] == "diverged"
    assert diverged["diverged_at_epoch"] == fit(script, data, 1000, 1.0)["diverged_at_epoch"]


@pytest.mark.parametrize("script", EACH_SCRIPT)
@pytest.mark.parametrize("value", ["0", "-3", "abc", "1.5", ""])
def test_bad_fits_is_one_error_line(script, value, tmp_path):
    data = vector_npy(tmp_path / "data.npy")
    proc = run(script, "--data", data, "--epochs", 10, "--learning-rate", 0.01, "--fits", value)
    line = assert_one_error_line(proc, script)
    assert "--fits" in line


# -------------------------------------------------------------------------------------------
# The statistics (the same cases as crates/linreg/src/fit_times.rs)


def times(*nanos):
    recorded = common.FitTimes()
    for n in nanos:
        recorded.record(n)
    return recorded


def test_nothing_recorded_gives_no_fields():
    assert times().stats() == {}


def test_warm_statistics_leave_the_first_fit_out():
    recorded = times(900, 10, 40, 20, 30)
    assert recorded.stats() == {
        "fits": 5,
        "fit_first_seconds": 900e-9,
        "fit_warm_min_seconds": 10e-9,
        "fit_warm_median_seconds": 25e-9,
        "fit_warm_p99_seconds": 40e-9,
        "fit_warm_max_seconds": 40e-9,
        "fit_warm_mean_seconds": 25e-9,
    }
    assert math.isclose(recorded.total_seconds(), 1000e-9, rel_tol=1e-15)


def test_p99_is_the_nearest_rank():
    stats = times(5000, *range(200, 0, -1)).stats()
    assert stats["fit_warm_p99_seconds"] == 198e-9
    assert stats["fit_warm_median_seconds"] == 100.5e-9
    stats = times(5000, *range(1, 102)).stats()
    assert stats["fit_warm_median_seconds"] == 51e-9
    assert stats["fit_warm_p99_seconds"] == 100e-9


def test_large_times_are_within_a_thousandth_and_within_min_and_max():
    state = 0x9E3779B97F4A7C15
    nanos = []
    for _ in range(1001):
        state ^= (state << 13) & 0xFFFFFFFFFFFFFFFF
        state ^= state >> 7
        state ^= (state << 17) & 0xFFFFFFFFFFFFFFFF
        nanos.append(20_000 + state % 5_000_000)
    stats = times(*nanos).stats()
    warm = sorted(nanos[1:])
    exact_median = (warm[499] + warm[500]) / 2
    exact_p99 = warm[990 - 1]
    assert abs(stats["fit_warm_median_seconds"] * 1e9 - exact_median) <= exact_median / 1024
    assert abs(stats["fit_warm_p99_seconds"] * 1e9 - exact_p99) <= exact_p99 / 1024
    assert stats["fit_warm_min_seconds"] == warm[0] / 1e9
    assert stats["fit_warm_max_seconds"] == warm[-1] / 1e9
    stats = times(1, 123_456_789).stats()
    assert stats["fit_warm_median_seconds"] == 0.123456789
    assert stats["fit_warm_p99_seconds"] == 0.123456789


def test_buckets_keep_the_top_ten_bits():
    assert [common.bucket_floor(n) for n in (0, 1023, 1025, 1026, 123_456_789)] == [0, 1023, 1024, 1026, 123_338_752]
    assert common.bucket_floor(2**64 - 1) == (2**64 - 1) >> 54 << 54


def test_a_prepared_service_holds_what_its_fits_need_not_the_loaded_arrays(tmp_path, monkeypatch, capsys):
    import numpy as np
    import weakref

    loaded = []

    def load(path):
        x, y = np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([2.0, 4.0, 6.0, 8.0, 10.0])
        loaded.extend([weakref.ref(x), weakref.ref(y)])
        return x, y

    def prepare(x, y, args):
        kept = (x.copy(), y.copy())  # the script's own form of the data, as a trainer's copy

        def fit_once():
            # By the first fit the loader's arrays are gone: only the copy is held.
            assert all(ref() is None for ref in loaded), "run() still holds the loaded arrays"
            return common.Fit(float(kept[0][0]), 0.0, 0.0, args.epochs)

        return fit_once

    data = tmp_path / "unused.npy"
    monkeypatch.setattr(sys, "argv", ["script", "--data", str(data), "--epochs", "3", "--learning-rate", "0.1", "--fits", "2"])
    common.run("test-service", load, prepare=prepare)
    result = json.loads(capsys.readouterr().out)
    assert (result["n"], result["fits"], result["w"]) == (5, 2, 1.0)
