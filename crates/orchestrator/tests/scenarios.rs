//! Scenario loading: the shipped scenarios are valid, and each kind of mistake a user can make
//! gives one error naming the file, line and column.

mod common;

use common::{catalogue, root};
use std::path::PathBuf;

use orchestrator::plan;
use orchestrator::scenario;

/// The scenario files `make compare` runs by default: scenarios/*.yaml but the catalogue.
fn shipped_scenarios() -> Vec<PathBuf> {
    std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("implementations.yaml"))
        .collect()
}

#[test]
fn every_shipped_scenario_is_valid() {
    let paths = shipped_scenarios();
    assert!(paths.len() >= 3, "{paths:?}");
    let loaded = plan::load(&paths, &catalogue().implementations).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = loaded.iter().map(|l| l.file.name.value.as_str()).collect();
    for expected in ["seed", "scaling", "learning-rate"] {
        assert!(names.contains(&expected), "{names:?}");
    }
}

const GOOD: &str = "name: t
dataset:
  inline: {x: [1, 2, 3], y: [2, 4, 6]}
training: {epochs: 10, learning_rate: 0.01}
implementations: [rust, python-numpy]
baseline: python-numpy
";

/// Loads `text` as a scenario file; returns the error's "line:column: message".
fn error_of(name: &str, text: &str) -> String {
    let dir = tempfile::Builder::new().prefix("scenario-tests-").tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let err =
        plan::load(std::slice::from_ref(&path), &catalogue().implementations).err().unwrap_or_else(|| panic!("{name} should be rejected"));
    assert_eq!(err.file, path, "the error names the file");
    let shown = err.to_string();
    assert!(shown.starts_with(&path.display().to_string()), "{shown}");
    format!("{}:{}: {}", err.line, err.column, err.message)
}

/// Loads `text` written as a scenario file of its own.
fn load_text(text: &str) -> Result<Vec<plan::Loaded>, scenario::ScenarioError> {
    let dir = tempfile::Builder::new().prefix("scenario-text-").tempdir().unwrap();
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, text).unwrap();
    plan::load(&[path], &catalogue().implementations)
}

#[test]
fn the_good_example_loads() {
    load_text(GOOD).unwrap();
}

/// The annotated example of docs/scenarios.md (its first YAML block) is a scenario the code
/// accepts as written: a reader copies it.
#[test]
fn the_documented_example_loads() {
    let doc = std::fs::read_to_string(root().join("docs/scenarios.md")).unwrap();
    let example = doc.split("```yaml\n").nth(1).and_then(|rest| rest.split("```").next()).expect("docs/scenarios.md has a YAML block");
    let loaded = load_text(example).unwrap_or_else(|e| panic!("docs/scenarios.md's example: {e}"));
    assert_eq!(loaded[0].file.name.value, "seed");
}

#[test]
fn each_mistake_is_located_and_explained() {
    let cases: Vec<(&str, String, &str)> = vec![
        ("unknown-field.yaml", GOOD.replace("baseline:", "colour: red\nbaseline:"), "6:1: unknown field `colour`"),
        ("wrong-type.yaml", GOOD.replace("epochs: 10", "epochs: ten"), "4:20: invalid u64"),
        ("negative.yaml", GOOD.replace("epochs: 10", "epochs: -5"), "4:20: invalid u64"),
        ("zero-epochs.yaml", GOOD.replace("epochs: 10", "epochs: 0"), "4:20: epochs must be ≥ 1"),
        ("bad-lr.yaml", GOOD.replace("learning_rate: 0.01", "learning_rate: -0.1"), "4:39: learning_rate must be a finite number > 0"),
        ("missing.yaml", GOOD.replace("baseline: python-numpy\n", ""), "missing field `baseline`"),
        ("empty-list.yaml", GOOD.replace("[rust, python-numpy]", "[]"), "5:18: implementations must list at least one"),
        (
            "unknown-impl.yaml",
            GOOD.replace("[rust, python-numpy]", "[rust, python-numpyy]"),
            "5:25: unknown implementation 'python-numpyy' (did you mean 'python-numpy'? known: python-jax,",
        ),
        (
            "baseline.yaml",
            GOOD.replace("baseline: python-numpy", "baseline: python-pure"),
            "6:11: the baseline is 'python-pure', which is not among",
        ),
        ("twice.yaml", GOOD.replace("[rust, python-numpy]", "[rust, rust]"), "5:25: implementation 'rust' is listed twice"),
        ("lengths.yaml", GOOD.replace("y: [2, 4, 6]", "y: [2, 4]"), "3:29: y has 2 values but x has 3"),
        (
            "placeholder.yaml",
            format!("{GOOD}define:\n  mine:\n    command: [\"./run\", \"{{dataa}}\"]\n"),
            "9:24: unknown placeholder {dataa}",
        ),
        ("empty-command.yaml", format!("{GOOD}define:\n  mine:\n    command: []\n"), "9:14: command must not be empty"),
        ("sweep-n.yaml", format!("{GOOD}sweep:\n  - {{n: 100}}\n"), "8:9: n can only be swept over a generated dataset"),
        ("sweep-empty.yaml", format!("{GOOD}sweep: []\n"), "7:8: sweep must have at least one point"),
        ("reps.yaml", format!("{GOOD}measure: {{repetitions: 0}}\n"), "7:24: must be ≥ 1"),
        ("order.yaml", format!("{GOOD}measure: {{order: random}}\n"), "7:18: unknown variant `random`"),
        (
            "max-interval.yaml",
            format!("{GOOD}measure: {{sample_interval_ms: 10, sample_interval_max_ms: 5}}\n"),
            "7:59: sample_interval_max_ms must be at least sample_interval_ms (10)",
        ),
        (
            "max-interval-default.yaml",
            format!("{GOOD}measure: {{sample_interval_max_ms: 0}}\n"),
            "must be at least sample_interval_ms (1, the default)",
        ),
        ("no-cpus.yaml", format!("{GOOD}measure: {{cpus: []}}\n"), "7:17: cpus must name one CPU at least; this process may use "),
        ("cpu-number.yaml", format!("{GOOD}measure: {{cpus: [0, 4000]}}\n"), "7:17: cpus: 4000 is no CPU number (they are below 1024)"),
        (
            "max-interval-long.yaml",
            format!("{GOOD}measure: {{sample_interval_max_ms: 60001}}\n"),
            "sample_interval_max_ms must be at most 60000",
        ),
        (
            "claim.yaml",
            format!("{GOOD}expect:\n  - speedup: {{faster: rust, than: python-pure, at_least: 2}}\n"),
            "which is not among this scenario's implementations",
        ),
        (
            "baseline-typo.yaml",
            GOOD.replace("baseline: python-numpy", "baseline: python-numpyy"),
            "the baseline is 'python-numpyy', which is not among this scenario's implementations (did you mean 'python-numpy'?)",
        ),
        (
            "long-name.yaml",
            GOOD.replace("[rust, python-numpy]", &format!("[rust, python-numpy, {}]", "x".repeat(100_000))),
            "unknown implementation 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' (100000 characters) (known:",
        ),
        (
            "claim-bounds.yaml",
            format!("{GOOD}expect:\n  - speedup: {{faster: rust, than: python-numpy}}\n"),
            "needs at_least and/or at_most",
        ),
        ("duplicate.yaml", format!("{GOOD}name: again\n"), "7:1: duplicate mapping key: name"),
        ("empty.yaml", String::new(), "the file is empty"),
        ("not-yaml.yaml", "name: [unclosed\n".into(), "1:7: expected string scalar"),
        ("list.yaml", "- 1\n- 2\n".into(), "1:1:"),
    ];
    let mut failures = Vec::new();
    for (name, text, want) in &cases {
        let got = error_of(name, text);
        if !got.contains(want) {
            failures.push(format!("{name}: got '{got}', want '{want}'"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn non_utf8_and_directories_are_named() {
    let dir = tempfile::Builder::new().prefix("scenario-bytes-").tempdir().unwrap();
    let path = dir.path().join("bytes.yaml");
    std::fs::write(&path, b"name: t\ndescription: caf\xe9\n").unwrap();
    let err = scenario::load_scenario(&path).unwrap_err();
    assert_eq!((err.line, err.column), (2, 17));
    assert!(err.message.contains("UTF-8"), "{err}");
    let err = scenario::load_scenario(dir.path()).unwrap_err();
    assert!(err.message.contains("is a directory"), "{err}");
}

/// deploy/ci/github-actions.yaml builds the binaries once and hands them to every shard: each
/// `{bin_dir}/NAME` a shipped implementation runs is among them, but one whose implementation
/// builds it itself (`prepare:`: the dynamic and musl `linreg`). The startup scenario's
/// `exec-noop` was missing, and the shard holding its point refused to run.
#[test]
fn the_ci_example_hands_every_shard_the_binaries_it_runs() {
    let ci = std::fs::read_to_string(root().join("deploy/ci/github-actions.yaml")).unwrap();
    let catalogue = catalogue();
    let loaded = plan::load(&shipped_scenarios(), &catalogue.implementations).unwrap_or_else(|e| panic!("{e}"));
    let specs = catalogue.implementations.values().chain(loaded.iter().flat_map(|l| l.file.define.values()));
    let mut needed = std::collections::BTreeSet::new();
    for spec in specs.filter(|spec| spec.value.prepare.is_none()) {
        if let Some(name) = spec.value.command.value.first().and_then(|program| program.value.strip_prefix("{bin_dir}/")) {
            needed.insert(name.to_string());
        }
    }
    assert!(needed.contains("exec-noop") && needed.contains("linreg-static"), "{needed:?}");
    for name in needed {
        assert!(ci.contains(&format!("target/release/{name}\n")), "deploy/ci/github-actions.yaml does not hand the shards {name}");
    }
}
