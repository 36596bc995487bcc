"""What the Python implementations share: the command line, dataset reading, the timed fits
(`--fits K`) and their statistics, the result line.

Standard library only, so that linreg_pure.py never pays for NumPy. The contract (flags, formats,
errors, the one JSON line, exit codes) is docs/protocol.md; this module is its Python side.
Modules used by only one dataset format (ast, csv) are imported where needed, to keep start-up lean.
"""

import argparse
import functools
import json
import math
import os
import struct
import sys
import time
from array import array
from collections import namedtuple

# What a training loop returns. `epochs_run` is the epoch it stopped at; a fit whose w, b or mse is
# not finite is diverged, and then epochs_run is also diverged_at_epoch (see the protocol).
# `kernel` and `threads`, where a fit knows them (python-rust; python-numba-fast's threads), go
# into the result line, and python-rust's `prefetching_threads`, `prefetch_refused_threads` and
# `prefetch_pairs` (how the kernel's threads chose whether to prefetch; see docs/protocol.md) where
# its threads tried.
PREFETCH_FIELDS = ("prefetching_threads", "prefetch_refused_threads", "prefetch_pairs")
Fit = namedtuple("Fit", ["w", "b", "mse", "epochs_run", "kernel", "threads", *PREFETCH_FIELDS], defaults=[None] * 5)

NPY_MAGIC = b"\x93NUMPY"
NPY_DTYPE = "<f8"
NPY_MAX_HEADER_BYTES = 10_000
FLOAT64_BYTES = 8


class InputError(Exception):
    """A problem with the user's input (a dataset); the message names the problem, not the file."""


def prog_name():
    return os.path.basename(sys.argv[0])


def fail(path, message):
    """Print `PROG: error: FILE: message` (or `PROG: error: message`) on stderr and exit 2."""
    where = f"{path}: " if path is not None else ""
    # One line, whatever the message held: the orchestrator keeps the stderr excerpt.
    message = " ".join(str(message).split())
    sys.stderr.write(f"{prog_name()}: error: {where}{message}\n")
    sys.stderr.flush()
    sys.exit(2)


def refuse_epochs_above(epochs, most):
    """Bad input (one line, exit 2) when `epochs` exceeds `most`: for a script whose compiled loop
    counts epochs in an int64 (numba, JAX), where a larger count would stop with an OverflowError
    traceback. The other scripts take any integer."""
    if epochs > most:
        fail(None, f"argument --epochs: invalid value '{epochs}': expected at most {most}")


def import_optional(name, hint=None):
    """Import the optional package `name`, or fail with one line and exit 2 where it is missing or
    cannot load. hint: how to install it (default: python_impl/requirements-optional.txt)."""
    import importlib

    hint = hint or OPTIONAL_INSTALL_HINT
    try:
        return importlib.import_module(name)
    except ImportError as error:
        # Not installed is an expected state (the package is optional); one that is there but
        # cannot load (a missing llvmlite, a NumPy it does not support) is not, so its own message
        # stays on the line.
        if error.name == name:
            fail(None, f"{name} is not installed: {hint}")
        fail(None, f"{name} cannot be imported ({error}): {hint}")


OPTIONAL_INSTALL_HINT = "pip install -r python_impl/requirements-optional.txt"


# ---------------------------------------------------------------------------------------------
# Command line


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad command line is one stderr line and exit 2, with no usage dump."""

    def error(self, message):
        fail(None, message)


def _count(text):
    """--epochs N and --fits K: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value '{text}': expected an integer >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value '{text}': expected an integer >= 1")
    return value


def _learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"invalid value '{text}': expected a finite number > 0")
    return value


def parse_args(argv=None, description=None, add_arguments=None):
    """The protocol's flags; add_arguments(parser), if given, adds a script's own."""
    # --help shows the first line of the script's docstring.
    summary = description.strip().splitlines()[0] if description else None
    parser = _OneLineParser(prog=prog_name(), description=summary, allow_abbrev=False)
    parser.add_argument("--data", required=True, metavar="FILE", help="dataset, .npy or .csv")
    parser.add_argument("--epochs", required=True, type=_count, metavar="N", help="integer >= 1")
    parser.add_argument(
        "--learning-rate", required=True, type=_learning_rate, metavar="LR", help="finite number > 0"
    )
    parser.add_argument(
        "--fits",
        type=_count,
        metavar="K",
        help="fit K times on the data loaded once, each timed; the result line then carries the per-fit times",
    )
    if add_arguments is not None:
        add_arguments(parser)
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# Datasets


def dataset_format(path):
    """'npy' or 'csv', chosen by the extension as the protocol says."""
    extension = os.path.splitext(path)[1].lower()
    if extension == ".npy":
        return "npy"
    if extension == ".csv":
        return "csv"
    raise InputError(f"unsupported extension '{extension}': expected .npy or .csv")


def read_npy_header(file):
    """Validate a .npy header and return n; `file` is left at the start of the data.

    Accepts format versions 1.0, 2.0 and 3.0 with dtype '<f8', C order and shape (2, n), and checks
    the file holds exactly the data the header promises, so a reader can trust it afterwards.
    """
    magic = file.read(len(NPY_MAGIC))
    if magic != NPY_MAGIC:
        raise InputError(f"not a .npy file: expected magic {NPY_MAGIC!r}, found {magic!r}")
    version = file.read(2)
    if len(version) < 2:
        raise InputError("truncated header")
    major, minor = version
    # Version 1.0 has a 2-byte header length, 2.0 and 3.0 a 4-byte one; 3.0 allows UTF-8 in it.
    if (major, minor) == (1, 0):
        length_format, encoding = "<H", "latin1"
    elif (major, minor) in ((2, 0), (3, 0)):
        length_format, encoding = "<I", "latin1" if major == 2 else "utf8"
    else:
        raise InputError(f"unsupported .npy format version {major}.{minor}: expected 1.0, 2.0 or 3.0")
    length_bytes = file.read(struct.calcsize(length_format))
    if len(length_bytes) < struct.calcsize(length_format):
        raise InputError("truncated header")
    (header_length,) = struct.unpack(length_format, length_bytes)
    # np.load refuses longer headers (a guard against hostile files); so do we, to agree with it.
    if header_length > NPY_MAX_HEADER_BYTES:
        raise InputError(f"header of {header_length} bytes exceeds the {NPY_MAX_HEADER_BYTES} allowed")
    if header_length > _bytes_left(file):
        raise InputError("truncated header")
    header_bytes = file.read(header_length)

    import ast  # only .npy needs it; NumPy's own reader parses the header the same way

    try:
        header = ast.literal_eval(header_bytes.decode(encoding))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        header = None
    # Exactly these keys, as np.load requires, so no file passes one Python reader and fails another.
    if not isinstance(header, dict) or header.keys() != {"descr", "fortran_order", "shape"}:
        raise InputError("malformed .npy header: expected a dict of descr, fortran_order and shape")

    descr = header["descr"]
    if descr != NPY_DTYPE:
        hint = " (big-endian)" if descr == ">f8" else ""
        raise InputError(f"expected dtype '{NPY_DTYPE}' (float64 little-endian), found {descr!r}{hint}")
    if header["fortran_order"] is not False:
        raise InputError(f"expected fortran_order False (C order), found {header['fortran_order']!r}")
    shape = header["shape"]
    if not (
        isinstance(shape, tuple)
        and len(shape) == 2
        and all(type(d) is int for d in shape)
        and shape[0] == 2
        and shape[1] >= 0
    ):
        raise InputError(f"expected shape (2, n), found {shape!r}")
    n = shape[1]
    if n == 0:
        raise InputError("no data points (n = 0)")

    expected_bytes = 2 * n * FLOAT64_BYTES
    available_bytes = _bytes_left(file)
    if available_bytes < expected_bytes:
        raise InputError(
            f"truncated data: shape (2, {n}) needs {expected_bytes} bytes, found {available_bytes}"
        )
    # np.load would ignore them, but trailing bytes mean the file is not what its header says.
    if available_bytes > expected_bytes:
        raise InputError(
            f"trailing bytes: shape (2, {n}) needs {expected_bytes} bytes, found {available_bytes}"
        )
    return n


def _bytes_left(file):
    return os.fstat(file.fileno()).st_size - file.tell()


def check_finite(name, values):
    """Raise if any value is NaN or infinite, naming the first one."""
    if all(map(math.isfinite, values)):
        return
    index = next(i for i, v in enumerate(values) if not math.isfinite(v))
    raise InputError(f"{name}[{index}] is not finite ({values[index]!r})")


def read_npy(path):
    """Read a .npy dataset without NumPy: (x, y) as array('d')."""
    with open(path, "rb") as file:
        n = read_npy_header(file)
        data = array("d")
        # The header check guarantees the bytes are there; fromfile reads them in one go.
        data.fromfile(file, 2 * n)
    if sys.byteorder == "big":
        data.byteswap()
    x, y = data[:n], data[n:]
    check_finite("x", x)
    check_finite("y", y)
    return x, y


def read_csv(path):
    """Read a CSV dataset: header row, columns x and y (others ignored), blank lines skipped.

    Returns (x, y) as array('d'). Errors name the line and column.
    """
    import csv  # only CSV needs it

    x, y = array("d"), array("d")
    isfinite = math.isfinite
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            rows = csv.reader(file)
            header = next((row for row in rows if not _is_blank(row)), None)
            if header is None:
                raise InputError("empty file: expected a header row with columns x and y")
            x_index, y_index = _xy_columns(header, rows.line_num)
            width = len(header)
            # The fast path parses and checks a whole row at once; anything odd (a blank line, a
            # row of another width, a bad cell) drops to _check_row, which skips the row or says
            # what is wrong. A wider row is refused too: "1,5,2,5" (decimal commas) is not x = 1.
            for row in rows:
                try:
                    x_text, y_text = row[x_index], row[y_index]
                    x_value, y_value = float(x_text), float(y_text)
                except (IndexError, ValueError):
                    x_value = y_value = None
                if (
                    x_value is None
                    or len(row) != width
                    or not (isfinite(x_value) and isfinite(y_value))
                    or "_" in x_text
                    or "_" in y_text
                ):
                    if _is_blank(row):
                        continue
                    _check_row(row, rows.line_num, x_index, y_index, width)
                x.append(x_value)
                y.append(y_value)
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text") from None
    except csv.Error as error:
        raise InputError(f"line {rows.line_num}: {error}") from None
    if not x:
        raise InputError("no data points (n = 0)")
    return x, y


def _is_blank(row):
    # An empty line reads as [], a line of spaces as ['   ']; a line with a comma is not blank.
    return not row or (len(row) == 1 and not row[0].strip())


def _xy_columns(header, line):
    names = [name.strip() for name in header]
    indexes = []
    for wanted in ("x", "y"):
        count = names.count(wanted)
        if count == 0:
            raise InputError(f"line {line}: no column named '{wanted}' in header {names!r}")
        if count > 1:
            raise InputError(f"line {line}: more than one column named '{wanted}'")
        indexes.append(names.index(wanted))
    return indexes


def _check_row(row, line, x_index, y_index, width):
    """Raise the precise error for a data row the fast path refused."""
    if len(row) != width:
        fields = "1 field" if len(row) == 1 else f"{len(row)} fields"
        if len(row) > width:
            problem = "too many (a decimal comma, or a comma too many?)"
        else:
            problem = "too few"
        raise InputError(f"line {line}: the row has {fields}, the header {width}: {problem}")
    for column, index in (("x", x_index), ("y", y_index)):
        text = row[index]
        try:
            # float() also takes "1_000"; a plain number parser (Rust's, say) does not, nor do we.
            if "_" in text:
                raise ValueError
            value = float(text)
        except ValueError:
            raise InputError(f"line {line}, column {column}: {text.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise InputError(f"line {line}, column {column}: {text.strip()!r} is not finite")
    raise AssertionError(f"line {line}: row refused but no error found")  # unreachable


# ---------------------------------------------------------------------------------------------
# Repeated fits (--fits K): each fit's time, the first apart, the warm ones bucketed

# Warm times go into a log-linear histogram, not a list, as crates/linreg/src/fit_times.rs does
# (to the nanosecond): buckets 1 ns wide below 2^10 ns, then 2^-10 of their value. Min, max, mean
# and the sum are exact; median and p99 are their bucket's middle, within 0.1% of the exact value.
EXACT_BITS = 10


def bucket_floor(nanos):
    """The start of the bucket `nanos` falls in: all but its top EXACT_BITS bits cleared."""
    shift = max(nanos.bit_length() - EXACT_BITS, 0)
    return nanos >> shift << shift


def _bucket_middle(floor):
    shift = max(floor.bit_length() - EXACT_BITS, 0)
    return float(floor) + float((1 << shift) - 1) / 2.0


class FitTimes:
    """Each fit's time in integer nanoseconds (time.perf_counter_ns), recorded as the fits run."""

    def __init__(self):
        self.first_nanos = None
        self.warm_count = 0
        self.warm_sum_nanos = 0
        self.warm_min_nanos = None
        self.warm_max_nanos = None
        self.warm_buckets = {}

    def record(self, nanos):
        if self.first_nanos is None:
            self.first_nanos = nanos
            return
        self.warm_count += 1
        self.warm_sum_nanos += nanos
        self.warm_min_nanos = nanos if self.warm_min_nanos is None else min(self.warm_min_nanos, nanos)
        self.warm_max_nanos = nanos if self.warm_max_nanos is None else max(self.warm_max_nanos, nanos)
        floor = bucket_floor(nanos)
        self.warm_buckets[floor] = self.warm_buckets.get(floor, 0) + 1

    def count(self):
        return (self.first_nanos is not None) + self.warm_count

    def total_seconds(self):
        """The sum of every fit's time (the protocol's train_seconds for one fit)."""
        return float((self.first_nanos or 0) + self.warm_sum_nanos) / 1e9

    def stats(self):
        """The result line's per-fit fields, in the protocol's order (empty when nothing ran)."""
        if self.first_nanos is None:
            return {}
        stats = {"fits": self.count(), "fit_first_seconds": self.first_nanos / 1e9}
        m = self.warm_count
        if m == 0:
            return stats
        if m % 2:
            median = self._warm_rank((m + 1) // 2)
        else:
            median = (self._warm_rank(m // 2) + self._warm_rank(m // 2 + 1)) / 2.0
        stats["fit_warm_min_seconds"] = self.warm_min_nanos / 1e9
        stats["fit_warm_median_seconds"] = median / 1e9
        stats["fit_warm_p99_seconds"] = self._warm_rank((99 * m + 99) // 100) / 1e9
        stats["fit_warm_max_seconds"] = self.warm_max_nanos / 1e9
        stats["fit_warm_mean_seconds"] = float(self.warm_sum_nanos) / m / 1e9
        return stats

    def _warm_rank(self, rank):
        """The rank-th smallest warm time (1-based) in ns: its bucket's middle, within min and max."""
        seen = 0
        middle = float(self.warm_max_nanos)
        for floor in sorted(self.warm_buckets):
            seen += self.warm_buckets[floor]
            if seen >= rank:
                middle = _bucket_middle(floor)
                break
        return min(max(middle, float(self.warm_min_nanos)), float(self.warm_max_nanos))


def timed_fits(fit_once, fits):
    """Runs fit_once() `fits` times, each timed by the monotonic clock.

    Returns (the last Fit, FitTimes, train_seconds). train_seconds is the fit's time for one fit;
    for more, the whole loop's, from the first fit's start to the last one's end: the fits and the
    recording between them, so wall - load - train is start-up however many fits there are
    (docs/protocol.md).
    """
    times = FitTimes()
    clock = time.perf_counter_ns
    loop_started = clock()
    for _ in range(fits):
        started = clock()
        fit = fit_once()
        times.record(clock() - started)
    loop_nanos = clock() - loop_started
    train_seconds = times.total_seconds() if fits == 1 else float(loop_nanos) / 1e9
    return fit, times, train_seconds


# ---------------------------------------------------------------------------------------------
# The result line


def _number_or_null(value):
    value = float(value)
    return value if math.isfinite(value) else None


def result_line(implementation, n, epochs, learning_rate, fit, load_seconds, train_seconds, extra=None):
    """The protocol's JSON line. json writes floats with repr, so they round-trip exactly.

    The fit's `threads`, where it has them, say how many threads trained (the orchestrator sets
    its training cost against the machine's limit for that many threads). extra: more fields,
    after the protocol's (per-fit times, a device name).
    """
    diverged = not all(math.isfinite(v) for v in (fit.w, fit.b, fit.mse))
    result = {
        "implementation": implementation,
        "n": n,
        "epochs": epochs,
        "learning_rate": learning_rate,
        "w": _number_or_null(fit.w),
        "b": _number_or_null(fit.b),
        "mse": _number_or_null(fit.mse),
        "status": "diverged" if diverged else "ok",
        "epochs_run": fit.epochs_run,
    }
    if diverged:
        result["diverged_at_epoch"] = fit.epochs_run
    result["load_seconds"] = load_seconds
    result["train_seconds"] = train_seconds
    if fit.kernel is not None:
        result["kernel"] = fit.kernel
    if fit.threads is not None:
        result["threads"] = fit.threads
    for field in PREFETCH_FIELDS:
        if getattr(fit, field) is not None:
            result[field] = getattr(fit, field)
    result.update(extra or {})
    return json.dumps(result, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# The main of every script


def run(implementation, load, train=None, description=None, prepare=None, extra=None, add_arguments=None):
    """Parse the command line, load, fit (once, or K times with --fits K), print the result line;
    exit 2 on bad input.

    load(path) -> (x, y), two sequences of equal length n >= 1, raising InputError or OSError.
    train(x, y, epochs, learning_rate) -> Fit: one fit from w = b = 0.
    prepare(x, y, args) -> fit_once: instead of train, for a script that must do something once
        after loading and before the clocks start (numba and JAX import and compile there, so
        that counts as start-up: wall - load - train) or reads its own flags (add_arguments(parser) adds them);
        fit_once() runs one fit and returns its Fit (or any object with Fit's fields, as
        python-rust's `linreg_py.Fit`).
    extra: a function returning more fields for the result line, called once prepare has run
        (python-jax names its device, and imports jax only in prepare). A fit that ran on more
        than one thread says how many in its Fit's `threads`.
    Bad input (the command line, the data) is reported before prepare: a script that imports a
    large package or compiles does that in prepare, so a wrong path costs no second of it.
    """
    args = parse_args(description=description, add_arguments=add_arguments)

    started = time.perf_counter()
    try:
        x, y = load(args.data)
    except InputError as error:
        fail(args.data, error)
    except OSError as error:
        fail(args.data, error.strerror or error)
    load_seconds = time.perf_counter() - started

    if prepare is None:
        fit_once = functools.partial(train, x, y, args.epochs, args.learning_rate)
    else:
        fit_once = prepare(x, y, args)
    # From here on the script holds what its fits need (fit_once keeps it), not the loaded arrays
    # as well: a service that copied the data into its own form (python-rust's trainer, JAX's
    # device buffers) would not keep NumPy's beside it, and its memory while fitting shows that.
    n = len(x)
    del x, y
    fit, times, train_seconds = timed_fits(fit_once, args.fits or 1)

    # Without --fits the line is as it always was: no per-fit fields.
    fields = times.stats() if args.fits is not None else {}
    fields.update(extra() if extra is not None else {})
    line = result_line(
        implementation, n, args.epochs, args.learning_rate, fit, load_seconds, train_seconds, fields
    )
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
