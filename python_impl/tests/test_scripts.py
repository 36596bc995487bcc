"""The Python implementations against docs/protocol.md, run as the orchestrator runs them.

Every test starts a script as a subprocess with this interpreter, so what is checked is the real
command line, stdout line, stderr line and exit code. A script whose optional package does not
import here (the numba scripts without numba) has its tests skipped, with the reason.
"""

import importlib
import json
import math
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PYTHON_IMPL = Path(__file__).resolve().parent.parent

SCRIPTS = {
    "linreg_numpy.py": "python-numpy",
    "linreg_numpy_fast.py": "python-numpy-fast",
    "linreg_pure.py": "python-pure",
    "linreg_numba.py": "python-numba",
    "linreg_numba_fast.py": "python-numba-fast",
    "linreg_rust.py": "python-rust",
    "linreg_jax.py": "python-jax",
}

# The module each optional script needs: numba and jax from PyPI (python_impl/requirements-
# optional.txt, requirements-jax.txt), linreg_py built from crates/linreg-py by `make venv`.
OPTIONAL_PACKAGES = {
    "linreg_numba.py": "numba",
    "linreg_numba_fast.py": "numba",
    "linreg_rust.py": "linreg_py",
    "linreg_jax.py": "jax",
}
NUMBA_SCRIPTS = ["linreg_numba.py", "linreg_numba_fast.py"]
OPTIONAL_INSTALL_HINT = "pip install -r python_impl/requirements-optional.txt"
# What each optional script tells a user who lacks its module.
MISSING_MODULE_HINTS = {
    "linreg_numba.py": OPTIONAL_INSTALL_HINT,
    "linreg_numba_fast.py": OPTIONAL_INSTALL_HINT,
    "linreg_rust.py": "build it with `make venv` (needs cargo and maturin: python_impl/requirements-build.txt)",
    "linreg_jax.py": "pip install -r python_impl/requirements-jax.txt",
}


def _missing_package(script):
    """The optional package `script` needs that this interpreter cannot import, or None."""
    package = OPTIONAL_PACKAGES.get(script)
    if package is None:
        return None
    try:
        importlib.import_module(package)
    except ImportError:
        return package
    return None


SKIP_REASONS = {
    script: f"{package} is not importable (optional: {MISSING_MODULE_HINTS[script]})"
    for script in SCRIPTS
    if (package := _missing_package(script)) is not None
}


def runs_here(script):
    """A mark that skips a test, with the reason, where `script` cannot run."""
    return pytest.mark.skipif(script in SKIP_REASONS, reason=SKIP_REASONS.get(script, ""))


# For the tests of one script: every script, those that cannot run here marked skipped.
EACH_SCRIPT = [pytest.param(script, marks=runs_here(script)) for script in SCRIPTS]
# For the tests that compare scripts: those that can run here, the reference (linreg_numpy.py) first.
RUNNABLE_SCRIPTS = [script for script in SCRIPTS if script not in SKIP_REASONS]

TEST_X = [1.0, 2.0, 3.0, 4.0, 5.0]
TEST_Y = [2.0, 4.0, 6.0, 8.0, 10.0]
TEST_W = 1.995180350672
TEST_B = 0.017400463341

RESULT_FIELDS = {
    "implementation": str,
    "n": int,
    "epochs": int,
    "learning_rate": float,
    "w": (float, type(None)),
    "b": (float, type(None)),
    "mse": (float, type(None)),
    "status": str,
    "epochs_run": int,
    "load_seconds": float,
    "train_seconds": float,
}


def run(script, *args, python_flags=()):
    return subprocess.run(
        [sys.executable, *python_flags, str(PYTHON_IMPL / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def fit(script, data, epochs, learning_rate):
    """Run a script that must succeed; return its result line, checked against the contract."""
    proc = run(script, "--data", data, "--epochs", epochs, "--learning-rate", learning_rate)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    check_contract(result, script, epochs, learning_rate)
    return result


def check_contract(result, script, epochs, learning_rate):
    for field, kind in RESULT_FIELDS.items():
        assert field in result, field
        assert isinstance(result[field], kind), (field, result[field])
        assert not isinstance(result[field], bool), field
    assert result["implementation"] == SCRIPTS[script]
    assert result["epochs"] == epochs
    assert result["learning_rate"] == learning_rate
    assert result["n"] >= 1
    assert result["load_seconds"] >= 0
    assert result["train_seconds"] >= 0
    assert result["status"] in ("ok", "diverged")
    if result["status"] == "ok":
        assert result["epochs_run"] == epochs
        assert "diverged_at_epoch" not in result
        assert all(isinstance(result[k], float) for k in ("w", "b", "mse"))
    else:
        assert isinstance(result["diverged_at_epoch"], int)
        assert 1 <= result["diverged_at_epoch"] <= epochs
        assert result["epochs_run"] == result["diverged_at_epoch"]
        assert None in (result["w"], result["b"], result["mse"])


# -------------------------------------------------------------------------------------------
# Writing datasets


def write_npy(path, array, version=None):
    with open(path, "wb") as file:
        np.lib.format.write_array(file, np.asanyarray(array), version=version)
    return path


def write_raw_npy(path, header, data=b"", magic=b"\x93NUMPY", version=(1, 0)):
    """A .npy file with a hand-written header, for the cases np.save refuses to produce."""
    header_bytes = header.encode("latin1")
    length_format = "<H" if version == (1, 0) else "<I"
    prefix_length = len(magic) + 2 + struct.calcsize(length_format)
    padding = -(prefix_length + len(header_bytes) + 1) % 64
    header_bytes += b" " * padding + b"\n"
    path.write_bytes(
        magic + bytes(version) + struct.pack(length_format, len(header_bytes)) + header_bytes + data
    )
    return path


def write_csv(path, text):
    path.write_text(text)
    return path


def write_bytes(path, data):
    path.write_bytes(data)
    return path


def make_directory(path):
    path.mkdir()
    return path


def vector_npy(path):
    return write_npy(path, np.array([TEST_X, TEST_Y]))


def vector_csv(path):
    rows = "".join(f"{x},{y}\n" for x, y in zip(TEST_X, TEST_Y))
    return write_csv(path, "x,y\n" + rows)


def assert_close(actual, expected, rel=1e-9):
    assert math.isclose(actual, expected, rel_tol=rel), (actual, expected)


# -------------------------------------------------------------------------------------------
# Results


@pytest.mark.parametrize("script", EACH_SCRIPT)
@pytest.mark.parametrize("make_data", [vector_npy, vector_csv], ids=["npy", "csv"])
def test_test_vector(script, make_data, tmp_path):
    data = make_data(tmp_path / ("data." + ("npy" if make_data is vector_npy else "csv")))
    result = fit(script, data, 1000, 0.01)
    assert result["status"] == "ok"
    assert result["n"] == 5
    assert_close(result["w"], TEST_W)
    assert_close(result["b"], TEST_B)
    assert result["mse"] > 0


@pytest.mark.parametrize("script", EACH_SCRIPT)
@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)], ids=["v1", "v2", "v3"])
def test_npy_format_versions(script, version, tmp_path):
    data = write_npy(tmp_path / "data.npy", np.array([TEST_X, TEST_Y]), version=version)
    result = fit(script, data, 1000, 0.01)
    assert_close(result["w"], TEST_W)
    assert_close(result["b"], TEST_B)


@pytest.mark.parametrize("script", EACH_SCRIPT)
def test_hand_written_npy_is_valid(script, tmp_path):
    # The control for the bad-header cases below: unchanged, write_raw_npy makes a good file.
    data = write_raw_npy(tmp_path / "data.npy", TEST_HEADER, TEST_DATA)
    result = fit(script, data, 1000, 0.01)
    assert_close(result["w"], TEST_W)


@pytest.mark.parametrize("script", EACH_SCRIPT)
def test_csv_extra_columns_any_order_blank_lines(script, tmp_path):
    text = "\nid, y ,note,x\n\n"
    text += "".join(f"{i}, {y} ,a b,{x}\n   \n" for i, (x, y) in enumerate(zip(TEST_X, TEST_Y)))
    data = write_csv(tmp_path / "data.csv", text)
    result = fit(script, data, 1000, 0.01)
    assert result["n"] == 5
    assert_close(result["w"], TEST_W)
    assert_close(result["b"], TEST_B)


@pytest.mark.parametrize("script", EACH_SCRIPT)
def test_divergence_is_a_result(script, tmp_path):
    result = fit(script, vector_npy(tmp_path / "data.npy"), 1000, 1.0)
    assert result["status"] == "diverged"
    assert result["epochs_run"] < 1000
    assert result["mse"] is None


def test_all_scripts_diverge_at_the_same_epoch(tmp_path):
    data = vector_npy(tmp_path / "data.npy")
    epochs = {fit(script, data, 1000, 1.0)["diverged_at_epoch"] for script in RUNNABLE_SCRIPTS}
    assert len(epochs) == 1, epochs


@pytest.mark.parametrize("script", EACH_SCRIPT)
def test_gradient_divides_by_n_before_doubling(script, tmp_path):
    # Σ e·x = 1.2e308 is finite, 2·Σ would overflow: 2·(Σ/n) keeps epoch 1 finite and the fit
    # diverges at epoch 2; (2·Σ)/n would diverge at epoch 1 (docs/protocol.md, the algorithm).
    data = write_npy(tmp_path / "data.npy", np.array([[1e154, 0.0], [-1.2e154, 0.0]]))
    result = fit(script, data, 10, 1e-10)
    assert result["status"] == "diverged"
    assert result["diverged_at_epoch"] == 2


@pytest.mark.parametrize("script", EACH_SCRIPT)
def test_non_finite_final_mse_diverges_at_the_last_epoch(script, tmp_path):
    # w and b stay finite after one small step, but e² overflows: diverged at epoch = epochs.
    data = write_npy(tmp_path / "data.npy", np.array([[1.0, 2.0], [1e200, 2e200]]))
    result = fit(script, data, 1, 1e-10)
    assert result["status"] == "diverged"
    assert result["diverged_at_epoch"] == 1
    assert isinstance(result["w"], float) and isinstance(result["b"], float)
    assert result["mse"] is None


def test_all_scripts_agree_on_random_data(tmp_path):
    rng = np.random.default_rng(20240601)
    x = rng.uniform(-3.0, 3.0, 1000)
    y = 1.7 * x - 0.4 + rng.normal(0.0, 0.5, 1000)
    data = write_npy(tmp_path / "data.npy", np.array([x, y]))
    results = [fit(script, data, 50, 0.05) for script in RUNNABLE_SCRIPTS]
    reference = results[0]
    assert reference["status"] == "ok"
    for result in results[1:]:
        for field in ("w", "b", "mse"):
            assert_close(result[field], reference[field])


def test_pure_does_not_import_numpy(tmp_path):
    data = vector_npy(tmp_path / "data.npy")
    proc = run(
        "linreg_pure.py",
        *("--data", data, "--epochs", 10, "--learning-rate", 0.01),
        python_flags=("-X", "importtime"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "numpy" not in proc.stderr


# -------------------------------------------------------------------------------------------
# Bad input: exit 2, one stderr line naming the file, nothing on stdout, no traceback

TEST_HEADER = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 5), }"
TEST_DATA = np.array([TEST_X, TEST_Y]).astype("<f8").tobytes()

BAD_DATASETS = {
    "missing file": lambda d: d / "missing.npy",
    "directory": lambda d: make_directory(d / "dir.npy"),
    "unsupported extension": lambda d: write_csv(d / "data.txt", "x,y\n1,2\n"),
    "wrong magic": lambda d: write_raw_npy(d / "d.npy", TEST_HEADER, TEST_DATA, magic=b"\x93NUMPX"),
    "not npy at all": lambda d: write_csv(d / "d.npy", "x,y\n1,2\n"),
    "empty npy": lambda d: write_csv(d / "d.npy", ""),
    "truncated header": lambda d: write_bytes(d / "d.npy", b"\x93NUMPY\x01\x00\x76\x00{'de"),
    "unknown version": lambda d: write_raw_npy(d / "d.npy", TEST_HEADER, TEST_DATA, version=(4, 0)),
    "extra header key": lambda d: write_raw_npy(
        d / "d.npy", TEST_HEADER.replace("}", "'extra': 1, }"), TEST_DATA
    ),
    "header too long": lambda d: write_raw_npy(
        d / "d.npy", TEST_HEADER + " " * 20_000, TEST_DATA, version=(2, 0)
    ),
    "dtype <f4": lambda d: write_npy(d / "d.npy", np.array([TEST_X, TEST_Y], dtype="<f4")),
    "big-endian >f8": lambda d: write_npy(d / "d.npy", np.array([TEST_X, TEST_Y], dtype=">f8")),
    "shape (3, n)": lambda d: write_npy(d / "d.npy", np.array([TEST_X, TEST_Y, TEST_Y])),
    "shape (n,)": lambda d: write_npy(d / "d.npy", np.array(TEST_X)),
    "fortran order": lambda d: write_npy(d / "d.npy", np.asfortranarray([TEST_X, TEST_Y])),
    "truncated data": lambda d: write_raw_npy(d / "d.npy", TEST_HEADER, TEST_DATA[:-8]),
    "trailing bytes": lambda d: write_raw_npy(d / "d.npy", TEST_HEADER, TEST_DATA + b"\0" * 8),
    "npy n = 0": lambda d: write_npy(d / "d.npy", np.zeros((2, 0))),
    "npy with nan": lambda d: write_npy(d / "d.npy", np.array([TEST_X, [2, 4, np.nan, 8, 10]])),
    "npy with inf": lambda d: write_npy(d / "d.npy", np.array([[1, 2, -np.inf, 4, 5], TEST_Y])),
    "csv without y": lambda d: write_csv(d / "d.csv", "x,z\n1,2\n2,4\n"),
    "csv without x": lambda d: write_csv(d / "d.csv", "a,y\n1,2\n2,4\n"),
    "csv non-numeric": lambda d: write_csv(d / "d.csv", "x,y\n1,2\n2,four\n"),
    "csv underscore number": lambda d: write_csv(d / "d.csv", "x,y\n1,2\n1_000,4\n"),
    "csv empty cell": lambda d: write_csv(d / "d.csv", "x,y\n1,2\n,4\n"),
    "csv short row": lambda d: write_csv(d / "d.csv", "x,y\n1,2\n3\n"),
    "csv long row": lambda d: write_csv(d / "d.csv", "x,y\n1,2\n3,4,\n"),
    "csv decimal commas": lambda d: write_csv(d / "d.csv", "x,y\n1,5,2,5\n2,5,5,0\n3,5,8,0\n"),
    "csv nan": lambda d: write_csv(d / "d.csv", "x,y\n1,2\nnan,4\n"),
    "csv inf": lambda d: write_csv(d / "d.csv", "x,y\n1,2\n2,inf\n"),
    "csv header only": lambda d: write_csv(d / "d.csv", "x,y\n\n"),
    "csv empty": lambda d: write_csv(d / "d.csv", ""),
    "csv not utf-8": lambda d: write_bytes(d / "d.csv", b"x,y\n1,\xff\n"),
}

BAD_ARGUMENTS = {
    "epochs 0": ["--epochs", "0"],
    "epochs -5": ["--epochs", "-5"],
    "epochs abc": ["--epochs", "abc"],
    "epochs 1.5": ["--epochs", "1.5"],
    "learning rate 0": ["--learning-rate", "0"],
    "learning rate -0.1": ["--learning-rate", "-0.1"],
    "learning rate nan": ["--learning-rate", "nan"],
    "learning rate inf": ["--learning-rate", "inf"],
    "learning rate abc": ["--learning-rate", "abc"],
    "unknown flag": ["--foo"],
    "missing --data": None,
}


def assert_one_error_line(proc, script):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{script}: error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize("script", EACH_SCRIPT)
@pytest.mark.parametrize("case", BAD_DATASETS)
def test_bad_dataset(script, case, tmp_path):
    data = BAD_DATASETS[case](tmp_path)
    proc = run(script, "--data", data, "--epochs", 10, "--learning-rate", 0.01)
    line = assert_one_error_line(proc, script)
    assert f": error: {data}: " in line


@pytest.mark.parametrize("script", EACH_SCRIPT)
@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_arguments(script, case, tmp_path):
    args = {"--data": vector_npy(tmp_path / "data.npy"), "--epochs": 10, "--learning-rate": 0.01}
    extra = []
    if BAD_ARGUMENTS[case] is None:
        del args["--data"]
    elif BAD_ARGUMENTS[case][0] in args:
        args[BAD_ARGUMENTS[case][0]] = BAD_ARGUMENTS[case][1]
    else:
        extra = BAD_ARGUMENTS[case]
    argv = [item for pair in args.items() for item in pair] + extra
    line = assert_one_error_line(run(script, *argv), script)
    if case == "unknown flag":
        assert line == f"{script}: error: unrecognized arguments: --foo"
    if case == "missing --data":
        assert "--data" in line


def test_error_messages_agree_across_scripts(tmp_path):
    """The shared readers give every script the same words for the same problem."""
    data = write_npy(tmp_path / "d.npy", np.array([TEST_X, TEST_Y], dtype=">f8"))
    messages = set()
    for script in RUNNABLE_SCRIPTS:
        proc = run(script, "--data", data, "--epochs", 10, "--learning-rate", 0.01)
        messages.add(assert_one_error_line(proc, script).split(": error: ", 1)[1])
    assert len(messages) == 1, messages
    assert "'<f8'" in messages.pop()


# Runs a script (argv[2]) with `import MODULE` (argv[1]) failing as it does where the module is not
# installed: None in sys.modules makes the import raise ModuleNotFoundError for that name.
WITHOUT_MODULE = (
    "import os, runpy, sys; sys.modules[sys.argv[1]] = None; sys.argv = sys.argv[2:]; "
    "sys.path.insert(0, os.path.dirname(sys.argv[0])); runpy.run_path(sys.argv[0], run_name='__main__')"
)


@pytest.mark.parametrize("script", OPTIONAL_PACKAGES)
def test_optional_module_not_installed_is_one_error_line(script, tmp_path):
    # Runs with or without the module installed: the line a user without it sees.
    data = vector_npy(tmp_path / "data.npy")
    module = OPTIONAL_PACKAGES[script]
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_MODULE, module, str(PYTHON_IMPL / script)]
        + ["--data", str(data), "--epochs", "10", "--learning-rate", "0.01"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = assert_one_error_line(proc, script)
    assert line == f"{script}: error: {module} is not installed: {MISSING_MODULE_HINTS[script]}"


@pytest.mark.parametrize("script", NUMBA_SCRIPTS + ["linreg_jax.py"])
@pytest.mark.parametrize("bad", ["path", "argument"])
def test_bad_input_is_reported_before_the_large_package_is_imported(script, bad, tmp_path):
    # numba and jax take about a second and 160 MiB to import (and numba then compiles): a wrong path
    # or flag is reported without them. With the package unimportable, the line is still the input's.
    data = vector_npy(tmp_path / "data.npy")
    argv = {
        "path": ["--data", str(tmp_path / "missing.npy"), "--epochs", "10", "--learning-rate", "0.01"],
        "argument": ["--data", str(data), "--epochs", "0", "--learning-rate", "0.01"],
    }[bad]
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_MODULE, OPTIONAL_PACKAGES[script], str(PYTHON_IMPL / script)] + argv,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = assert_one_error_line(proc, script)
    assert ("missing.npy: " if bad == "path" else "--epochs") in line, line
    assert "not installed" not in line


@pytest.mark.parametrize(
    "script", [pytest.param(s, marks=runs_here(s)) for s in NUMBA_SCRIPTS + ["linreg_jax.py"]]
)
def test_int64_epochs_beyond_int64_is_bad_input(script, tmp_path):
    # The compiled loop counts in int64; the other scripts take any integer (and would run forever).
    data = vector_npy(tmp_path / "data.npy")
    proc = run(script, "--data", data, "--epochs", 2**63, "--learning-rate", 0.01)
    line = assert_one_error_line(proc, script)
    assert "--epochs" in line


@runs_here("linreg_numba_fast.py")
@pytest.mark.parametrize("n", [1000, 100_003])
def test_numba_fast_agrees_with_the_reference_on_random_data(n, tmp_path):
    # Fast-math reorders the sums (vector lanes, one partial sum per thread): not bit for bit, but
    # within 1e-9 of the reference, at a size where every thread and vector lane takes part.
    rng = np.random.default_rng(n)
    x = rng.uniform(-3.0, 3.0, n)
    y = 1.7 * x - 0.4 + rng.normal(0.0, 0.5, n)
    data = write_npy(tmp_path / "data.npy", np.array([x, y]))
    reference = fit("linreg_numpy.py", data, 200, 0.05)
    fast = fit("linreg_numba_fast.py", data, 200, 0.05)
    for field in ("w", "b", "mse"):
        assert_close(fast[field], reference[field])
