"""linreg_py, the Rust extension module (crates/linreg-py), called directly: the protocol's test
vector on every kernel, NumPy's memory read in place, a clear exception for every bad argument,
and the GIL released while it trains. Skipped, with the reason, where the module is not built."""

import json
import sys
import threading
import time

import numpy as np
import pytest

from test_scripts import PYTHON_IMPL, SKIP_REASONS, TEST_B, TEST_W, TEST_X, TEST_Y, assert_close

if "linreg_rust.py" in SKIP_REASONS:
    pytest.skip(SKIP_REASONS["linreg_rust.py"], allow_module_level=True)

import linreg_py  # noqa: E402

sys.path.insert(0, str(PYTHON_IMPL))
import linreg_common  # noqa: E402
import linreg_rust  # noqa: E402
from linreg_rust import address  # noqa: E402

X = np.array(TEST_X)
Y = np.array(TEST_Y)


def kernel_choices():
    """Every kernel, on every instruction set this CPU runs, the parallel one on 1, 2 and 3 threads."""
    choices = [{"kernel": "scalar"}, {"kernel": "simd"}, {"kernel": "parallel"}]
    for isa in ("avx512", "avx2", "portable"):
        try:
            linreg_py.fit(X, Y, 1, 0.01, kernel="simd", isa=isa)
        except ValueError as error:
            assert "this CPU cannot run" in str(error)
            continue
        choices.append({"kernel": "simd", "isa": isa})
        choices += [{"kernel": "parallel", "isa": isa, "threads": t} for t in (1, 2, 3, "auto")]
    return choices


@pytest.mark.parametrize("options", kernel_choices(), ids=str)
def test_test_vector_on_every_kernel(options):
    result = linreg_py.fit(X, Y, 1000, 0.01, **options)
    assert result.status == "ok"
    assert result.diverged_at_epoch is None
    assert result.epochs_run == 1000
    assert_close(result.w, TEST_W)
    assert_close(result.b, TEST_B)
    assert 0 < result.mse < 1e-3
    assert result.kernel.startswith(options["kernel"])
    assert result.threads == 1  # 5 points are one block
    assert result.prefetching_threads is None  # no pool: no thread tries to prefetch


def test_the_threads_that_chose_to_prefetch_are_counted_where_they_tried():
    # 2·10^6 points: each of two threads' halves is 16 MB, past any core's L2 (or sysfs names
    # none), so both try, and so does one thread on the whole (simd, or parallel on one); 60 epochs take
    # them past the trials (8 settling, at most 32 timed, ~44 in all for the pools), and each chose one way or the
    # other, the same bits either way.
    x = np.linspace(0.0, 1.0, 2_000_000)
    y = 2 * x + 1
    result = linreg_py.fit(x, y, 60, 0.1, kernel="parallel", threads=2)
    assert result.threads == 2
    assert result.prefetching_threads in (0, 1, 2)
    assert result.prefetching_threads + result.prefetch_refused_threads <= 2, repr(result)
    assert_choices_hold_together(result)
    assert f"prefetching_threads={result.prefetching_threads}, " in repr(result)
    single = linreg_py.fit(x, y, 60, 0.1, kernel="simd")
    # One thread always chooses within 60 epochs.
    assert single.prefetching_threads + single.prefetch_refused_threads == 1, repr(single)
    assert_choices_hold_together(single)
    assert f"prefetch_pairs={single.prefetch_pairs})" in repr(single)
    assert_close(result.w, single.w)
    assert_close(result.b, single.b)
    # The parallel kernel on one thread chooses as the simd kernel does.
    alone = linreg_py.fit(x, y, 60, 0.1, kernel="parallel", threads=1)
    assert alone.threads == 1 and alone.prefetching_threads in (0, 1), repr(alone)
    assert_close(alone.w, single.w)
    # Within the L2 (1 000 points, 16 KB) no thread tries: None.
    small = linreg_py.fit(x[:1000], y[:1000], 60, 0.1, kernel="simd")
    assert (small.prefetching_threads, small.prefetch_refused_threads, small.prefetch_pairs) == (None, None, None)
    assert "prefetching_threads=None, prefetch_refused_threads=None, prefetch_pairs=None)" in repr(small)
    # python-rust's result line carries it as the `linreg` binary's does, and leaves it out where
    # no thread tried.
    line = json.loads(linreg_common.result_line("python-rust", x.size, 60, 0.1, result, 0.0, 0.0))
    assert line["threads"] == 2
    assert [line[field] for field in linreg_common.PREFETCH_FIELDS] == [
        result.prefetching_threads,
        result.prefetch_refused_threads,
        result.prefetch_pairs,
    ]
    small_line = json.loads(linreg_common.result_line("python-rust", 1000, 60, 0.1, small, 0.0, 0.0))
    assert not any(field in small_line for field in linreg_common.PREFETCH_FIELDS), small_line


def assert_choices_hold_together(fit):
    """The sign test's counts: no more than 16 pairs, 12 or more behind a kept prefetch, 5 or more
    behind a refused one."""
    assert fit.prefetch_pairs <= 16, repr(fit)
    assert fit.prefetching_threads == 0 or fit.prefetch_pairs >= 12, repr(fit)
    assert fit.prefetch_refused_threads == 0 or fit.prefetch_pairs >= 5, repr(fit)


def test_agrees_with_the_numpy_reference_on_random_data():
    rng = np.random.default_rng(7)
    x = rng.uniform(-10, 10, 100_003)
    y = 1.5 * x + 3 + rng.uniform(-0.5, 0.5, x.size)
    w = b = 0.0
    for _ in range(20):  # linreg_numpy.py's loop
        error = w * x + b - y
        w, b = w - 0.005 * (2 * np.mean(error * x)), b - 0.005 * (2 * np.mean(error))
    for kernel in ("scalar", "simd", "parallel"):
        result = linreg_py.fit(x, y, 20, 0.005, kernel=kernel, **({"threads": 2} if kernel == "parallel" else {}))
        assert_close(result.w, w)
        assert_close(result.b, b)
    assert result.threads == 2  # 100 003 points are several blocks


def test_auto_names_the_instruction_set_it_chose_and_sums_like_it():
    x = np.linspace(-1.0, 1.0, 50_000)
    y = 2 * x + 1 + 0.01 * np.sin(np.arange(x.size))
    chosen = linreg_py.fit(x, y, 30, 0.1, kernel="simd", isa="auto")
    kernel, isa = chosen.kernel.split("/")
    assert kernel == "simd" and isa in ("avx512", "avx2", "portable")
    named = linreg_py.fit(x, y, 30, 0.1, kernel="simd", isa=isa)
    assert (chosen.w, chosen.b) == (named.w, named.b)


def test_divergence_is_a_result_at_the_same_epoch_on_every_kernel():
    epochs = set()
    for kernel in ("scalar", "simd", "parallel"):
        result = linreg_py.fit(X, Y, 100_000, 1.0, kernel=kernel)
        assert result.status == "diverged"
        assert result.epochs_run == result.diverged_at_epoch < 1000
        epochs.add(result.diverged_at_epoch)
    assert len(epochs) == 1


# -------------------------------------------------------------------------------------------
# Zero copy: the fit reads NumPy's own buffers


def test_the_fit_reads_the_arrays_in_place():
    x, y = np.arange(1.0, 100_001.0), np.ones(100_000)
    assert linreg_py.fit(x, y, 1, 1e-12).data_addresses == (address(x), address(y))


def test_the_rows_of_a_loaded_dataset_are_read_in_place(tmp_path):
    # What the python-rust script passes: the two rows of np.load's (2, n) array.
    np.save(tmp_path / "data.npy", np.array([TEST_X, TEST_Y]))
    data = np.load(tmp_path / "data.npy")
    x, y = data
    result = linreg_py.fit(x, y, 1000, 0.01)
    assert result.data_addresses == (address(data), address(data) + 5 * 8)
    assert_close(result.w, TEST_W)


def test_the_script_loads_y_onto_x_s_line_offset_and_copies_only_then(tmp_path):
    for n, in_place in ((1003, False), (1000, True)):
        rows = np.array([np.arange(n, dtype=np.float64), np.arange(n, dtype=np.float64) * 2.0 + 1.0])
        np.save(tmp_path / "data.npy", rows)
        x, y = linreg_rust.load(tmp_path / "data.npy")
        assert (address(y) - address(x)) % 64 == 0, n
        assert (address(y) - address(x) == n * 8) == in_place, n
        assert np.array_equal(x, rows[0]) and np.array_equal(y, rows[1])


def test_a_read_only_array_is_fine():
    x, y = X.copy(), Y.copy()
    x.flags.writeable = False
    y.flags.writeable = False
    result = linreg_py.fit(x, y, 1000, 0.01)
    assert result.data_addresses == (address(x), address(y))
    assert_close(result.w, TEST_W)
    # A read-only buffer NumPy did not allocate (bytes) too.
    x_bytes = np.frombuffer(X.tobytes(), dtype=np.float64)
    assert not x_bytes.flags.writeable
    assert linreg_py.fit(x_bytes, Y, 1, 0.01).data_addresses[0] == address(x_bytes)


# -------------------------------------------------------------------------------------------
# Bad arguments: a Python exception that says what is wrong, never a crash

BAD_ARRAYS = {
    "strided x": (lambda: (np.arange(1.0, 11.0)[::2], Y), ValueError, "x must be contiguous"),
    "reversed y": (lambda: (X, Y[::-1]), ValueError, "y must be contiguous"),
    "float32 x": (lambda: (X.astype(np.float32), Y), TypeError, "x must have dtype float64"),
    "int64 y": (lambda: (X, Y.astype(np.int64)), TypeError, "y must have dtype float64"),
    "big-endian x": (lambda: (X.astype(">f8"), Y), TypeError, "x must have dtype float64"),
    "list x": (lambda: (TEST_X, Y), TypeError, "x must be a NumPy array"),
    "2-D x": (lambda: (np.array([TEST_X, TEST_Y]), Y), ValueError, "x must be one-dimensional, got shape [2, 5]"),
    "0-D y": (lambda: (X, np.float64(2.0)), TypeError, "y must be a NumPy array"),
    "misaligned x": (lambda: (np.zeros(41, np.uint8)[1:].view(np.float64), Y), ValueError, "x must be aligned"),
    "different lengths": (lambda: (X, Y[:4]), ValueError, "same length, got 5 and 4"),
    "empty": (lambda: (np.zeros(0), np.zeros(0)), ValueError, "empty"),
    "nan in x": (lambda: (np.array([1.0, 2.0, np.nan, 4.0, 5.0]), Y), ValueError, "x[2] is not finite (NaN)"),
    "inf in y": (lambda: (X, np.array([2.0, 4.0, 6.0, 8.0, -np.inf])), ValueError, "y[4] is not finite (-inf)"),
}


@pytest.mark.parametrize("case", BAD_ARRAYS)
def test_bad_arrays_raise_a_clear_exception(case):
    make, exception, message = BAD_ARRAYS[case]
    x, y = make()
    with pytest.raises(exception, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        linreg_py.fit(x, y, 10, 0.01)


BAD_OPTIONS = {
    "epochs 0": ({"epochs": 0}, ValueError, "epochs must be an integer ≥ 1, got 0"),
    "epochs -5": ({"epochs": -5}, ValueError, "epochs must be an integer ≥ 1"),
    "epochs 2**64": ({"epochs": 2**64}, ValueError, "epochs must be an integer ≥ 1"),
    "epochs 1.5": ({"epochs": 1.5}, TypeError, "epochs must be an integer"),
    "epochs True": ({"epochs": True}, TypeError, "epochs must be an integer"),
    "learning rate 0": ({"learning_rate": 0.0}, ValueError, "learning_rate must be a finite number > 0"),
    "learning rate -0.1": ({"learning_rate": -0.1}, ValueError, "learning_rate must be a finite number > 0"),
    "learning rate nan": ({"learning_rate": float("nan")}, ValueError, "learning_rate must be a finite number > 0"),
    "learning rate inf": ({"learning_rate": float("inf")}, ValueError, "learning_rate must be a finite number > 0"),
    "learning rate text": ({"learning_rate": "0.1"}, TypeError, "learning_rate must be a finite number > 0"),
    "unknown kernel": ({"kernel": "fast"}, ValueError, "unknown kernel 'fast' \\(known: scalar, simd, parallel\\)"),
    "isa on scalar": ({"isa": "portable"}, ValueError, "isa applies to the simd and parallel kernels only"),
    "unknown isa": ({"kernel": "simd", "isa": "sse9"}, ValueError, "unknown instruction set 'sse9' \\(known: auto, "),
    "threads on simd": ({"kernel": "simd", "threads": 2}, ValueError, "threads applies to the parallel kernel only"),
    "threads 0": ({"kernel": "parallel", "threads": 0}, ValueError, "threads must be 'auto' or an integer ≥ 1"),
    "threads many": ({"kernel": "parallel", "threads": "many"}, ValueError, "threads must be 'auto' or an integer"),
    "threads 1.5": ({"kernel": "parallel", "threads": 1.5}, TypeError, "threads must be 'auto' or an integer"),
}


@pytest.mark.parametrize("case", BAD_OPTIONS)
def test_bad_options_raise_a_clear_exception(case):
    options, exception, message = BAD_OPTIONS[case]
    arguments = {"epochs": 10, "learning_rate": 0.01, **options}
    with pytest.raises(exception, match=message):
        linreg_py.fit(X, Y, **arguments)


# -------------------------------------------------------------------------------------------
# The GIL


def test_the_gil_is_released_while_it_trains():
    # A Python thread keeps noting the time. Were the GIL held for the whole fit, it could not run
    # between the fit's start and end; with the GIL released it notes times well inside.
    x = np.linspace(-1.0, 1.0, 200_000)
    y = 2 * x + 1
    noted, stop = [], threading.Event()

    def note_times():
        while not stop.is_set():
            noted.append(time.perf_counter())
            time.sleep(0.0005)

    worker = threading.Thread(target=note_times)
    worker.start()
    try:
        while not noted:  # the worker runs before the fit starts
            time.sleep(0.001)
        start = time.perf_counter()
        linreg_py.fit(x, y, 3000, 0.1, kernel="scalar")
        end = time.perf_counter()
    finally:
        stop.set()
        worker.join()
    margin = (end - start) / 10
    inside = [t for t in noted if start + margin < t < end - margin]
    assert inside, f"the worker noted no time during the fit's {end - start:.3f} s"


# -------------------------------------------------------------------------------------------
# Trainer: the threads kept between fits


@pytest.mark.parametrize("options", [{"kernel": "scalar"}, {"kernel": "simd"}, {"kernel": "parallel", "threads": 2}], ids=str)
def test_a_trainer_fits_as_fit_does_again_and_again(options):
    rng = np.random.default_rng(3)
    x = rng.uniform(-10, 10, 40_000)
    y = 1.5 * x + 3 + rng.uniform(-0.5, 0.5, x.size)
    with linreg_py.Trainer(x, y, epochs=90, **options) as trainer:
        assert len(trainer) == x.size
        fits = [trainer.fit(epochs, 0.005) for epochs in (30, 30, 20)]
    once = [linreg_py.fit(x, y, epochs, 0.005, **options) for epochs in (30, 20)]
    for got, want in zip(fits, [once[0], once[0], once[1]]):
        assert got.epochs_run == want.epochs_run and got.status == "ok"
        assert_close(got.w, want.w)
        assert_close(got.b, want.b)
        assert got.kernel.split("/")[0] == options["kernel"]
        assert got.threads == (2 if options["kernel"] == "parallel" else 1)
    assert (fits[0].w, fits[0].b) == (fits[1].w, fits[1].b), "the same fit twice: the same bits"
    # Its own copy of the data, x and y each starting on a cache line.
    copy_x, copy_y = fits[0].data_addresses
    assert copy_x != address(x) and copy_x % 64 == 0 and copy_y % 64 == 0


def test_a_trainer_keeps_its_copy_and_refuses_fits_once_closed():
    x, y = X.copy(), Y.copy()
    trainer = linreg_py.Trainer(x, y)
    x[:] = np.nan  # after the copy: the trainer does not see it
    result = trainer.fit(1000, 0.01)
    assert_close(result.w, TEST_W)
    assert_close(result.b, TEST_B)
    trainer.close()
    trainer.close()
    with pytest.raises(RuntimeError, match="the trainer is closed"):
        trainer.fit(1, 0.01)


@pytest.mark.parametrize("case", ["nan in x", "different lengths", "float32 x", "empty"])
def test_a_trainer_refuses_bad_arrays_as_fit_does(case):
    make, exception, message = BAD_ARRAYS[case]
    x, y = make()
    with pytest.raises(exception, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        linreg_py.Trainer(x, y)


def test_a_trainer_refuses_bad_options_and_bad_requests():
    with pytest.raises(ValueError, match="unknown kernel"):
        linreg_py.Trainer(X, Y, kernel="fast")
    with pytest.raises(ValueError, match="epochs must be an integer ≥ 1, got 0"):
        linreg_py.Trainer(X, Y, epochs=0)
    with linreg_py.Trainer(X, Y, kernel="simd") as trainer:
        for options, exception, message in (BAD_OPTIONS["epochs 0"], BAD_OPTIONS["learning rate nan"], BAD_OPTIONS["epochs 1.5"]):
            arguments = {"epochs": 10, "learning_rate": 0.01, **options}
            with pytest.raises(exception, match=message):
                trainer.fit(**arguments)
        assert trainer.fit(10, 0.01).epochs_run == 10, "a refused request leaves the trainer working"


def test_several_python_threads_may_ask_one_trainer():
    # 40 000 points on two threads: a pool, whose thread 0 is whichever Python thread asks.
    x = np.linspace(0.0, 10.0, 40_000)
    y = 2 * x + 0.5
    results = []
    with linreg_py.Trainer(x, y, kernel="parallel", threads=2) as trainer:
        askers = [threading.Thread(target=lambda: results.append(trainer.fit(200, 0.01))) for _ in range(4)]
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join()
    assert len(results) == 4 and all(r.threads == 2 for r in results)
    assert len({(r.w, r.b) for r in results}) == 1, "one fit at a time, each the same"


def test_check_finite_false_skips_the_check_and_still_never_crashes():
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    with pytest.raises(ValueError, match=r"x\[2\] is not finite"):
        linreg_py.fit(x, Y, 10, 0.01)
    for kernel in ("scalar", "simd", "parallel"):
        result = linreg_py.fit(x, Y, 10, 0.01, kernel=kernel, check_finite=False)
        assert result.status == "diverged" and result.diverged_at_epoch == 1
    unchecked = linreg_py.fit(X, Y, 1000, 0.01, kernel="simd", check_finite=False)
    checked = linreg_py.fit(X, Y, 1000, 0.01, kernel="simd")
    assert (unchecked.w, unchecked.b) == (checked.w, checked.b), "on finite data the same fit"
