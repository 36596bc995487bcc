# The two commands users need: `make compare` (the main job) and `make test` (the tests).
# Everything else they need is set up here: the release build and the Python venv.

SHELL := /bin/bash
CARGO ?= cargo
PYTHON_BOOTSTRAP ?= python3
VENV := python_impl/.venv
VENV_PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.requirements-installed
SCENARIOS ?=
ARGS ?=

.PHONY: all build build-core build-measured build-dynamic build-musl venv venv-base venv-optional venv-numba venv-jax python-ext compare quick gallery-run gallery-page test test-rust test-python test-e2e test-browser lint bench bench-engine bench-kernels bench-spells bench-placement bench-sampler bench-python-rust clean

all: build

# The orchestrator is built with the release profile, kept cheap (its speed is not measured);
# what is measured with the `measured` profile (Cargo.toml: fat LTO, one codegen unit), statically
# (glibc, non-PIE): `linreg` starts without the dynamic loader, and the launcher that starts every
# measured run stays small (its fork is what the kernel carries into a child's peak memory).
# crt-static is given for the host triple explicitly, so that build scripts and proc-macros are
# still built the ordinary way. The start-up scenario also measures `linreg` linked dynamically
# (the same profile, no crt-static). All three land beside the orchestrator in target/release, as
# linreg-static, launcher-static and linreg-dynamic, where the scenarios' {bin_dir} points, with
# exec-noop: a program without any library that only exits (the start-up scenario's first step).
RUSTC ?= rustc
HOST_TRIPLE := $(shell $(RUSTC) -vV 2>/dev/null | sed -n "s/^host: //p")
STATIC_RUSTFLAGS := -C target-feature=+crt-static -C relocation-model=static

build: build-core build-dynamic venv

# What the seed scenario needs, no more: the venv with NumPy, the orchestrator, the static
# `linreg` and launcher. `make compare` builds this first; the rest (build-dynamic, python-ext,
# venv-numba, venv-jax) is built on a first run by the orchestrator itself, between two
# scenarios, right before the first scenario that needs it (each implementation's `prepare:` in
# scenarios/implementations.yaml): the seed scenario's answer comes minutes sooner.
build-core: venv-base
	$(CARGO) build --release -p orchestrator
	$(MAKE) --no-print-directory build-measured

build-measured:
	RUSTFLAGS="$(STATIC_RUSTFLAGS)" $(CARGO) build --profile measured -p linreg -p launcher --features launcher/bin --target $(HOST_TRIPLE)
	install -D -m 755 target/$(HOST_TRIPLE)/measured/linreg target/release/linreg-static
	install -D -m 755 target/$(HOST_TRIPLE)/measured/launcher target/release/launcher-static
	install -D -m 755 target/$(HOST_TRIPLE)/measured/exec-noop target/release/exec-noop

# `linreg` linked dynamically, for the start-up scenario only.
build-dynamic:
	$(CARGO) build --profile measured -p linreg --bin linreg
	install -D -m 755 target/measured/linreg target/release/linreg-dynamic

# Adds rustup's standard library for the target $(1) unless it is installed (its download bounded
# at 2 minutes): for build-musl and check-aarch64.
rustup_target = @rustup target list --installed | grep -qx '$(1)' || timeout 120 rustup target add $(1)

# `linreg` linked statically against musl instead of glibc, for the start-up scenario only
# (rust-musl): glibc's start-up asks the CPU its cache sizes through dozens of CPUIDs, each a
# hypervisor exit in a VM, and musl's does not. The target's standard library comes from rustup
# (`rustup target add`, which needs rustup's server); where it cannot be had, the report marks
# rust-musl unavailable with this command's error. Non-PIE, as linreg-static.
MUSL_TRIPLE := $(patsubst %-linux-gnu,%-linux-musl,$(HOST_TRIPLE))
build-musl:
	@command -v rustup >/dev/null || { echo "error: rustup not found: it installs Rust's musl target, which rust-musl needs"; exit 1; }
	$(call rustup_target,$(MUSL_TRIPLE))
	RUSTFLAGS="-C relocation-model=static" $(CARGO) build --profile measured -p linreg --bin linreg --target $(MUSL_TRIPLE)
	install -D -m 755 target/$(MUSL_TRIPLE)/measured/linreg target/release/linreg-musl

# The venv is (re)built when missing or when requirements.txt changes; then the Rust extension
# (python-rust) is built into it.
venv: venv-base python-ext
# The stamp says when requirements.txt was last installed, not whether the venv still holds it: a
# package it pins that was since removed or changed (by hand, by another pip) is installed again.
VENV_PINS_HELD := import importlib.metadata as m, pathlib, sys; pins = [l.split('\#')[0].split('==') for l in pathlib.Path('python_impl/requirements.txt').read_text().splitlines() if '==' in l]; sys.exit(any(m.version(n.strip()) != v.strip() for n, v in pins))
venv-base: $(VENV_STAMP)
	@$(VENV_PY) -c "$(VENV_PINS_HELD)" 2>/dev/null || { echo "python_impl/.venv: a package python_impl/requirements.txt pins is missing or of another version: installing them again"; $(VENV_PY) -m pip install --quiet --disable-pip-version-check -r python_impl/requirements.txt; }
$(VENV_STAMP): python_impl/requirements.txt
	@command -v $(PYTHON_BOOTSTRAP) >/dev/null || { echo "error: $(PYTHON_BOOTSTRAP) not found: install Python 3.11+ (e.g. apt-get install python3 python3-venv)"; exit 1; }
	@test -x $(VENV_PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check -r python_impl/requirements.txt
	@touch $@

# numba and jax are optional, each on its own: installed when it can be, skipped with a note in
# the report when not.
venv-optional: venv-numba venv-jax
venv-numba: $(VENV)/.optional-tried
venv-jax: $(VENV)/.jax-tried
$(VENV)/.optional-tried: python_impl/requirements-optional.txt $(VENV_STAMP)
	@$(VENV_PY) -m pip install --quiet --disable-pip-version-check -r python_impl/requirements-optional.txt \
		|| echo "note: optional Python packages (numba) did not install; the report will mark them unavailable"
	@touch $@
$(VENV)/.jax-tried: python_impl/requirements-jax.txt $(VENV_STAMP)
	@$(VENV_PY) -m pip install --quiet --disable-pip-version-check -r python_impl/requirements-jax.txt \
		|| echo "note: jax did not install; the report will mark python-jax unavailable"
	@touch $@

# python-rust: the extension module linreg_py (crates/linreg-py, PyO3 + rust-numpy) built by
# maturin as a wheel and installed into the venv (no network beyond PyPI for maturin and
# crates.io for the crates). Rebuilt when the Rust library or the binding changes. Where cargo or
# maturin is missing it says what, leaves the stamp out (so the next make tries again) and goes
# on: the report then marks python-rust unavailable.
EXT_STAMP := $(VENV)/.linreg-py-installed
EXT_WHEELS := target/wheels
EXT_SOURCES := $(shell find crates/linreg/src crates/linreg-py/src -name '*.rs') \
	crates/linreg/Cargo.toml crates/linreg-py/Cargo.toml crates/linreg-py/pyproject.toml \
	crates/linreg-py/linreg_py.pyi Cargo.toml Cargo.lock python_impl/requirements-build.txt
python-ext: $(EXT_STAMP)
$(EXT_STAMP): $(EXT_SOURCES) $(VENV_STAMP)
	@if ! command -v $(CARGO) >/dev/null; then \
		echo "note: $(CARGO) not found: python-rust (the Rust extension linreg_py) is not built and the report will mark it unavailable; install Rust (rustup) and run make venv"; \
	elif ! $(VENV_PY) -m pip install --quiet --disable-pip-version-check -r python_impl/requirements-build.txt; then \
		echo "note: maturin (python_impl/requirements-build.txt) did not install: python-rust is not built and the report will mark it unavailable"; \
	else \
		rm -f $(EXT_WHEELS)/linreg_py-*.whl && \
		$(VENV)/bin/maturin build --quiet --manifest-path crates/linreg-py/Cargo.toml --interpreter $(VENV_PY) --out $(EXT_WHEELS) && \
		$(VENV_PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-index --force-reinstall $(EXT_WHEELS)/linreg_py-*.whl && \
		touch $@; \
	fi

# The main job: every scenario in scenarios/, report in results/latest/. What the seed scenario
# does not need is built here only once it exists (so that a change is rebuilt before it is
# measured); on a first run the orchestrator builds it after the seed scenario (see build-core).
DEFERRED := $(if $(wildcard target/release/linreg-dynamic),build-dynamic) $(if $(wildcard target/release/linreg-musl),build-musl) \
	$(if $(wildcard $(EXT_STAMP)),python-ext) \
	$(if $(wildcard $(VENV)/.optional-tried),venv-numba) $(if $(wildcard $(VENV)/.jax-tried),venv-jax)
compare: build-core $(DEFERRED)
	./target/release/orchestrator run $(SCENARIOS) $(ARGS)
	@echo "open the report: file://$(CURDIR)/results/latest/report.html"

# A CI-sized run of every scenario.
quick: build venv-optional
	./target/release/orchestrator run --quick $(SCENARIOS) $(ARGS)

# The gallery (docs/gallery/README.md): one full default run per CPU kind in docs/machines/<label>/.
# gallery-run, on the new machine: `make compare`'s run, then its plan.json, environment.json,
# raw.csv and summary.csv copied into docs/machines/<the run's machine label>/ (LABEL=... names
# the machine instead), the checkout's absolute paths made relative and the Python interpreter
# named by its file alone (nothing measured changes; the folder names no path of this machine).
# It refuses a folder that exists (before the run when LABEL names it): remove it to replace that
# machine's run.
# gallery-page: docs/gallery/machines.md and its chart from every run in docs/machines/.
GALLERY_RUNS := docs/machines
gallery-run: build venv-optional
	@$(if $(LABEL),test ! -e $(GALLERY_RUNS)/$(LABEL) || { echo "gallery-run: $(GALLERY_RUNS)/$(LABEL) exists: this machine kind is in the gallery already (remove the folder to replace its run)"; exit 1; })
	./target/release/orchestrator run $(if $(LABEL),--machine-label $(LABEL)) $(ARGS)
	@label=$$(sed -n 's/^ *"machine_label": *"\([^"]*\)".*/\1/p' results/latest/environment.json | head -n 1); \
	test -n "$$label" || { echo "gallery-run: results/latest/environment.json names no machine_label"; exit 1; }; \
	dest=$(GALLERY_RUNS)/$$label; \
	if [ -e "$$dest" ]; then echo "gallery-run: $$dest exists: this machine kind is in the gallery already (remove the folder to replace its run)"; exit 1; fi; \
	mkdir -p "$$dest" && cp results/latest/plan.json results/latest/environment.json results/latest/raw.csv results/latest/summary.csv "$$dest"/ && \
	{ ROOT='$(CURDIR)/' perl -pi -e 's/\Q$$ENV{ROOT}\E//g; s{"python_executable": "[^"]*/([^"/]*)"}{"python_executable": "$$1"}' "$$dest"/* \
		|| { rm -rf "$$dest"; echo "gallery-run: the paths of $$dest could not be made relative (perl); nothing kept"; exit 1; }; } && \
	echo "gallery-run: added $$dest (the checkout's paths made relative); run make gallery-page, then commit both"

gallery-page: build
	./target/release/orchestrator machines $(GALLERY_RUNS)/* --out docs/gallery

test: lint test-rust test-python test-e2e test-browser

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	# The launcher binary is no_std and built only with its `bin` feature, in a profile that aborts.
	$(CARGO) clippy -p launcher --features bin --profile measured -- -D warnings

# The tests measure through the static launcher that `make build` installs, as real runs do.
test-rust: build
	ORCHESTRATOR_LAUNCHER=$(CURDIR)/target/release/launcher-static $(CARGO) test --workspace

test-python: venv venv-optional
	$(VENV_PY) -m pytest python_impl/tests -q -n auto

# End to end: a --quick run of the seed scenario through the real binaries and scripts, its
# report re-rendered, and the --check gate exercised (the write-up's claims are expected to fail).
E2E_RESULTS := target/e2e-results
test-e2e: build venv-optional
	rm -rf $(E2E_RESULTS)
	./target/release/orchestrator validate
	./target/release/orchestrator run --quick --results $(E2E_RESULTS) scenarios/seed.yaml
	./target/release/orchestrator report $(E2E_RESULTS)/latest
	@./target/release/orchestrator report --check $(E2E_RESULTS)/latest >/dev/null; status=$$?; \
		test $$status -eq 1 || { echo "test-e2e: --check should exit 1 (the write-up's 3-6x claim cannot hold), got $$status"; exit 1; }
	@for f in raw.csv samples.csv environment.json plan.json summary.csv summary.json report.md report.html charts/headline.png charts/seed-wall.png; do \
		test -s $(E2E_RESULTS)/latest/$$f || { echo "test-e2e: $$f missing or empty"; exit 1; }; done
	@echo "test-e2e: 1 passed, 0 failed"

# report.html of the end-to-end run in headless Chromium: every image decoded, nothing wider than
# 1280 px, every results table within 1000 px, the headline chart on the first screen, no character
# drawn as an empty box for want of a font. (The report of a hostile scenario, where no script may
# run and nothing be fetched, is opened by tests/hostile_markup.rs in test-rust.) Selected with
# --workspace, as test-rust builds it: `-p orchestrator` unifies the dependencies' features
# differently and rebuilt half of them (53 s on the Zen 4) for this one test.
test-browser: test-e2e
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || test -n "$$CHROMIUM"; then \
		REPORT_RUN_DIR=$(CURDIR)/$(E2E_RESULTS)/latest $(CARGO) test -q --workspace --test report report_html_reads_well_in_a_real_browser -- --nocapture; \
	else \
		echo "test-browser: SKIPPED: no Chromium installed (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"; \
	fi

# The measurement engine against hyperfine -N and /usr/bin/time -v on the same commands,
# interleaved (a benchmark: it prints figures and ratios and, last, each target met or not on this
# machine; it asserts nothing). Needs hyperfine.
# Each round is pinned to one CPU, two rounds on each in turn (PIN=0: unpinned); the ratios come from the
# rounds' medians and, beside them, their lower quartiles.
bench-engine: build
	bash tests/benchmarks/engine_vs_hyperfine.sh

# The Rust kernels against the limit a report sets beside each point, outside a report, on the CPU
# at hand (crates/linreg/benches/standalone.py; a benchmark: it prints the CPU, ns a point an epoch,
# % of the limit probed before each repetition, what each run used, whether each Rust variant met
# the target of 90% at every n from 10^4, and where not, and, last, the kernels' loop timed against
# the probe's in one process (`--kernel-loop`: a gap in the loop or around it); it asserts nothing.
# `mem` adds a working set of twice the last-level cache where 10^7 points do not reach beyond it
# (4·10^7 on a 300 MiB L3); `l2*1.9`, the points whose halves fill 0.95 of each core's L2, the two
# threads' own L2 edge (2.5·10^5 on a 2 MiB L2, 6.2·10^4 on a 512 KiB one), where the parallel
# kernel met a cliff on the Emerald Rapids, and `l2*2.2`, halves 1.1 × each L2 (2.9·10^5 there),
# where it read 84–89% of its limit before each thread chose whether to prefetch (docs/limits.md).
# Where a variant falls short, the kernels' loop alone against the probe's fastest right after
# (`--spells 2`: 2 s a thread count a size, `orchestrator limit --spells`), whether the host's slow
# spells took it. 3–8 minutes with nothing else running, by how busy the host is (3–4 min with `mem`, builds
# included, on the 300 MiB Emerald Rapids host; `mem`'s data is written once, ~45 s, into
# target/standalone-bench); KERNEL_ARGS replaces its sizes, variants or repetitions.
KERNEL_ARGS ?= --sizes 1e4,2e4,5e4,1e5,'l2*1.9','l2*2.2','l2*3',1e6,1e7,mem --variants simd,parallel-auto,parallel-2,reference-symmetric --repetitions 11 --kernel-loop --spells 2
bench-kernels: build-core
	$(CARGO) build --profile measured -p linreg --bins --examples
	python3 crates/linreg/benches/standalone.py $(KERNEL_ARGS)

# What the data's placement (whole huge pages from a third of the L2 up, y half the L2's set span
# from x: linreg::placement) is worth on the CPU at hand: the same runs with the data placed, on the
# heap (`linreg --placement heap`) and, for two threads, on whole pages with y right after x
# (`--placement adjacent`), in the same turns, at fractions of CPU 0's L2 from below the third
# (where all are on the heap: the control, level) to twice it, and where two threads' halves with
# y right after x overlap most in the L2's sets (l2-overlap, 0.94 of each thread's L2 on a 16-way
# L2); prints the median [min–max] of the repetitions' time ÷ placed time, by the whole run
# and by the fastest warm fit, and the huge page mode (a benchmark; it asserts nothing).
# PLACEMENT_ARGS replaces its sizes, variants or repetitions.
PLACEMENT_ARGS ?= --sizes 'l2*0.25,l2*0.5,l2*0.75,l2*0.92,l2*1.25,l2-overlap,l2*2' --variants simd,simd+heap,parallel-2,parallel-2+heap,parallel-2+adjacent --repetitions 9 --fits 5
bench-placement: build-core
	$(CARGO) build --profile measured -p linreg --bins --examples
	python3 crates/linreg/benches/standalone.py $(PLACEMENT_ARGS)

# What the /proc sampler costs a child that keeps every CPU busy, in many pairs (SAMPLER_PAIRS,
# 41 by default; a run's probe takes 7): 1 ms against 100 ms sampling, the median ratio with its
# 95% CI against the 3% budget (a benchmark: it prints, asserts nothing). SAMPLER_SECONDS=10:
# children of about that long (1 to 600 s), in SAMPLER_PAIRS rounds (15 unless set: ~8 minutes
# at 10 s) of three — sampled as runs are (every 1 ms, sparser as they last), every 1 ms
# throughout, every 100 ms — for what thinning the samples saves.
bench-sampler: build-core
	ORCHESTRATOR_LAUNCHER=$(CURDIR)/target/release/launcher-static $(CARGO) test --release -p orchestrator --lib -- --ignored --exact environment::probes::sampler_cost::tests::print_the_sampler_cost_in_many_pairs --nocapture

# What the machine's slow spells cost the kernels' loop against the limit's probe loop, pass by
# pass on each thread free-running (`orchestrator limit --spells`): where `bench-kernels` reads
# below 90% of the limit, whether the loop or the host's spells lose it (docs/limits.md). About
# 3 minutes; SPELLS_ARGS replaces its sizes, seconds or rounds.
SPELLS_ARGS ?= --sizes 1e4,5e4,1e5,2.5e5,1e6 --seconds 5 --rounds 3
bench-spells: build-core
	python3 crates/linreg/benches/spells.py $(SPELLS_ARGS)

# The benchmarks of a CPU new to the gallery, one after the other (never beside each other: each
# measures the machine): the instrument, the kernels against their limits, what the host's slow
# spells cost them, the data's placement,
# the sampler's cost in many pairs.
bench:
	$(MAKE) bench-engine
	$(MAKE) bench-kernels
	$(MAKE) bench-spells
	$(MAKE) bench-placement
	$(MAKE) bench-sampler

# Python calling the Rust kernels (python-rust) against the same kernels in the linreg binary at
# 10^6 and 10^7 points, and python-numpy's peak memory beside them (a benchmark: its report says
# whether python-rust trains within 10% of the binary; nothing is asserted).
bench-python-rust: build venv-optional
	./target/release/orchestrator run tests/benchmarks/python-rust.yaml $(ARGS)

clean:
	$(CARGO) clean
	rm -rf $(VENV) results/.cache

# A real one-node Slurm (Debian's packages, installed when missing; needs root): a 2-shard --quick
# run as an array job plus the dependent merge, checked and torn down (tests/slurm/run.sh). Says
# SKIPPED and exits 0 where it cannot run; TEST_SLURM_REQUIRED=1 makes that a failure.
.PHONY: test-slurm
test-slurm: build venv-optional
	@tests/slurm/run.sh; status=$$?; \
		if [ $$status -eq 77 ]; then [ -z "$(TEST_SLURM_REQUIRED)" ] || exit 1; elif [ $$status -ne 0 ]; then exit $$status; fi

# The workspace on a CPU without x86's vector code, from an x86_64 machine: clippy for aarch64
# Linux (every crate but the extension, whose build needs the target's Python), then the library
# tests of linreg and the orchestrator compiled for aarch64 and run under qemu-user (the portable
# kernel, the parallel kernel's threads, the instruction-set choice with nothing to choose, the
# probes, the analysis and the report). Runs started by those tests go through this machine's own
# static launcher (`make build`), as qemu-user hands an exec to the host; tests that start the
# aarch64 `linreg` binary itself need binfmt_misc and are left out. Needs rustup (the aarch64
# target is added on first use), a cross C compiler and qemu-user (Debian: apt-get install
# gcc-aarch64-linux-gnu qemu-user). Not part of `make test`: 4–6 minutes.
AARCH64 := aarch64-unknown-linux-gnu
AARCH64_ENV := CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64 \
	QEMU_LD_PREFIX=/usr/aarch64-linux-gnu \
	ORCHESTRATOR_LAUNCHER=$(CURDIR)/target/release/launcher-static
.PHONY: check-aarch64
check-aarch64: build-measured
	@for tool in rustup aarch64-linux-gnu-gcc qemu-aarch64; do \
		command -v $$tool >/dev/null || { echo "error: $$tool not found (Debian: apt-get install gcc-aarch64-linux-gnu qemu-user; rustup from rustup.rs)"; exit 1; }; done
	$(call rustup_target,$(AARCH64))
	$(AARCH64_ENV) $(CARGO) clippy --target $(AARCH64) -p linreg -p launcher -p orchestrator --all-targets -- -D warnings
	$(AARCH64_ENV) $(CARGO) clippy --target $(AARCH64) -p launcher --features bin --profile measured -- -D warnings
	$(AARCH64_ENV) $(CARGO) test --target $(AARCH64) -p linreg -p orchestrator --lib
