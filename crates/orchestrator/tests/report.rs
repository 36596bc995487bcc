//! The report, `compare` and `--check` run as a user runs them (the real binary), on run
//! directories written here with known numbers: the report must show those numbers, the charts
//! must be real PNGs, and the exit codes must gate CI as documented.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{implementation, plan, record};
use orchestrator::plan::{AbsoluteClaim, Claim, MemoryRatioClaim, Plan, PointPlan, SpeedupClaim, TimeMetric};
use orchestrator::records::{self, CsvAppender, RawRecord, RunStatus};
use orchestrator::report::charts;

/// An empty directory of this test's own, removed (with all in it) when the TempDir is dropped.
fn fresh_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("orchestrator-report-{name}-")).tempdir().unwrap()
}

/// A run directory: rust at 2.98 … 3.02 ms (median 3 ms) times `rust_scale`, numpy at 100 … 104 ms
/// (median 102 ms).
fn write_run(dir: &Path, rust_scale: f64, claims: Vec<Claim>) {
    let data = dir.join("seed.npy");
    linreg::Dataset::new(vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![2.0, 4.0, 6.0, 8.0, 10.0]).unwrap().write_npy(&data).unwrap();
    records::write_json_atomic(&dir.join(records::PLAN_JSON), &plan(&data, claims)).unwrap();
    let mut rows = Vec::new();
    for k in 1..=5u32 {
        rows.push(record("rust", k, rust_scale * (2.97 + 0.01 * k as f64) * 1e-3, 2 << 20));
        rows.push(record("python-numpy", k, (99 + k) as f64 * 1e-3, 30 << 20));
    }
    CsvAppender::open(&dir.join(records::RAW_CSV)).unwrap().append(&rows).unwrap();
}

fn orchestrator(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .args(args)
        .arg("--root")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap()
}

fn speedup(at_least: f64, at_most: f64) -> Claim {
    Claim::Speedup(SpeedupClaim {
        faster: "rust".into(),
        than: "python-numpy".into(),
        at_least: Some(at_least),
        at_most: Some(at_most),
        metric: TimeMetric::Wall,
        point: None,
        source: None,
    })
}

fn absolute(implementation: &str, at_least: f64, at_most: f64) -> AbsoluteClaim {
    AbsoluteClaim { implementation: implementation.into(), at_least: Some(at_least), at_most: Some(at_most), point: None, source: None }
}

/// The write-up's claims, as scenarios/seed.yaml states them.
fn write_up_claims() -> Vec<Claim> {
    vec![
        speedup(3.0, 6.0),
        Claim::WallMs(absolute("rust", 0.3, 0.8)),
        Claim::WallMs(absolute("python-numpy", 1.5, 4.0)),
        Claim::PeakRssMb(absolute("rust", 1.0, 3.0)),
        Claim::PeakRssMb(absolute("python-numpy", 30.0, 50.0)),
    ]
}

#[test]
fn the_report_shows_the_measured_numbers_and_real_charts() {
    let scratch = fresh_dir("render");
    let dir = scratch.path();
    write_run(dir, 1.0, write_up_claims());
    let out = orchestrator(&["report", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    // Medians: 3 ms and 102 ms; 102 / 3 = 34×; memory 30 MiB / 2 MiB = 15×.
    assert!(report.contains("| rust | 3.00 ms ["), "{report}");
    assert!(report.contains("| python-numpy | 102 ms ["), "{report}");
    assert!(report.contains("34.0× ["), "{report}");
    assert!(report.contains("15.0× ["), "{report}");
    assert!(report.contains("| **not held** |"), "34× is not 3–6×: {report}");
    assert!(report.contains("1.995180350672"), "{report}");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let header = summary.lines().next().unwrap();
    for column in [
        "scenario",
        "point",
        "implementation",
        "n",
        "epochs",
        "learning_rate",
        "runs",
        "failed",
        "status",
        "wall_median_s",
        "wall_ci_low_s",
        "wall_ci_high_s",
        "wall_mean_s",
        "wall_sd_s",
        "wall_min_s",
        "wall_max_s",
        "cpu_median_s",
        "peak_rss_median_bytes",
        "peak_rss_max_bytes",
        "load_median_s",
        "train_median_s",
        "startup_median_s",
        "ns_per_point_epoch",
        "w",
        "b",
        "mse",
        "w_ols",
        "b_ols",
        "speedup_vs_baseline",
        "memory_ratio_vs_baseline",
    ] {
        assert!(header.split(',').any(|c| c == column), "summary.csv lacks {column}: {header}");
    }
    assert!(summary.contains("seed,0,n=5 epochs=1000 lr=0.01,rust,5,1000,0.01,5,0,ok,0.003,"), "{summary}");
    // Every linked chart exists and is a PNG of its size: 1200×800, the headline 1200×520.
    let links: Vec<&str> =
        report.match_indices("](charts/").map(|(i, _)| &report[i + 2..i + 2 + report[i + 2..].find(')').unwrap()]).collect();
    assert!(links.len() >= 4, "{links:?}");
    for link in links {
        let bytes = std::fs::read(dir.join(link)).unwrap_or_else(|e| panic!("{link}: {e}"));
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{link}");
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        let expected = if link.ends_with("headline.png") { charts::HEADLINE_HEIGHT } else { charts::HEIGHT };
        assert_eq!((width, height), (charts::WIDTH, expected), "{link}");
    }
    // A re-render gives identical numbers (seeded bootstrap).
    let again = orchestrator(&["report", dir.to_str().unwrap()]);
    assert!(again.status.success());
    assert_eq!(std::fs::read_to_string(dir.join("summary.csv")).unwrap(), summary);
}

#[test]
fn check_exits_1_only_when_a_claim_does_not_hold() {
    let holds_dir = fresh_dir("check-holds");
    let holds = holds_dir.path();
    write_run(holds, 1.0, vec![speedup(20.0, 60.0)]);
    let out = orchestrator(&["report", "--check", holds.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let fails_dir = fresh_dir("check-fails");
    let fails = fails_dir.path();
    let memory = Claim::MemoryRatio(MemoryRatioClaim {
        leaner: "rust".into(),
        than: "python-numpy".into(),
        at_least: Some(100.0),
        at_most: None,
        point: None,
        source: None,
    });
    write_run(fails, 1.0, vec![speedup(20.0, 60.0), memory]);
    let out = orchestrator(&["report", "--check", fails.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 claim(s) did not hold"));
}

#[test]
fn compare_exits_1_on_a_regression_and_0_without() {
    let old_dir = fresh_dir("compare-old");
    let old = old_dir.path();
    write_run(old, 1.0, vec![]);
    let same_dir = fresh_dir("compare-same");
    let same = same_dir.path();
    write_run(same, 1.0, vec![]);
    let slower_dir = fresh_dir("compare-slower");
    let slower = slower_dir.path();
    write_run(slower, 2.0, vec![]);
    let out = orchestrator(&["compare", old.to_str().unwrap(), same.to_str().unwrap(), "--threshold", "5%"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let out = orchestrator(&["compare", old.to_str().unwrap(), slower.to_str().unwrap(), "--threshold", "5%"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("REGRESSION") && text.contains("rust"), "{text}");
    assert!(!text.lines().any(|l| l.contains("python-numpy") && l.contains("REGRESSION")), "numpy did not change: {text}");
}

#[test]
fn a_directory_that_is_not_a_run_is_a_clear_error() {
    let scratch = fresh_dir("not-a-run");
    let dir = scratch.path();
    let out = orchestrator(&["report", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plan.json") && stderr.lines().count() <= 3, "{stderr}");
}

/// Issue 12.15: a diverged fit's huge parameter is written in scientific form, never as 305
/// digits, and its distances from the optimum are "—", not 1.32e304.
#[test]
fn a_diverged_fit_is_written_briefly_and_has_no_distance() {
    let scratch = fresh_dir("diverged");
    let dir = scratch.path();
    write_run(dir, 1.0, vec![]);
    let mut rows = records::read_raw(dir).unwrap();
    for row in rows.iter_mut().filter(|r| r.implementation == "rust") {
        row.status = RunStatus::Diverged;
        row.w = None;
        row.b = Some(-1.3167775447828928e304);
        row.diverged_at_epoch = Some(802);
    }
    std::fs::remove_file(dir.join(records::RAW_CSV)).unwrap();
    CsvAppender::open(&dir.join(records::RAW_CSV)).unwrap().append(&rows).unwrap();
    let out = orchestrator(&["report", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let longest_digits = report.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    assert!(longest_digits < 20, "a number of {longest_digits} digits in {report}");
    let rust_row = report.lines().find(|l| l.starts_with("|  | rust |")).unwrap_or_else(|| panic!("no accuracy row: {report}"));
    assert!(rust_row.contains("| -1.317e304 |"), "{rust_row}");
    assert!(rust_row.ends_with("| — | — |"), "distances of a diverged fit: {rust_row}");
    assert!(rust_row.contains("diverged"), "{rust_row}");
}

/// Issue 12.17: the ETA prices the runs left by what finished runs of the same point and
/// implementation cost, and a point not reached yet by n × epochs — not by counting runs.
#[test]
fn the_eta_prices_the_runs_left_by_their_cost() {
    use orchestrator::cli::progress::Eta;
    use orchestrator::execute::Step;
    let scratch = fresh_dir("eta");
    let dir = scratch.path();
    let mut plan = plan(&dir.join("unused.npy"), vec![]);
    let scenario = &mut plan.scenarios[0];
    scenario.measure.repetitions = 3;
    let small = scenario.points[0].clone();
    let point = |index: usize, n: u64, epochs: u64| PointPlan { index, n, epochs, label: format!("n={n}"), ..small.clone() };
    scenario.points = vec![point(0, 10, 1000), point(1, 1_000_000, 20), point(2, 10_000_000, 20)];
    let (rust, numpy) = (0, 1);
    let step = |point, implementation, repetition| Step { scenario: 0, point, implementation, repetition };
    let mut eta = Eta::new(&plan);
    for repetition in 1..=3 {
        eta.finished(step(0, rust, repetition), 0.002);
        eta.finished(step(0, numpy, repetition), 0.080);
    }
    // 6 of 18 runs done in 0.246 s: counting runs would say 0.49 s are left. The 12 runs at 10^6
    // and 10^7 points are priced from n × epochs instead, at ≥ 1 ns per point-epoch.
    let counted = 12.0 * 0.246 / 6.0;
    let before = eta.remaining_seconds();
    assert!(before > 12.0 * 2e7 * 1e-9 && before > 10.0 * counted, "{before} s left");
    // One run at 10^7 each: the rest of that point is priced at its measured cost, and the 10^6
    // point by what 10^7 added per point-epoch over the start-up.
    eta.finished(step(2, rust, 1), 0.302);
    eta.finished(step(2, numpy, 1), 2.080);
    let rate = |at_large: f64, startup: f64| (at_large - startup) / 2e8;
    let mid = |startup: f64, at_large: f64| startup + 2e7 * rate(at_large, startup);
    let expected = 2.0 * 0.302 + 2.0 * 2.080 + 3.0 * mid(0.002, 0.302) + 3.0 * mid(0.080, 2.080);
    let after = eta.remaining_seconds();
    assert!((after - expected).abs() < 1e-9, "{after} s left, expected {expected}");
    // Nothing left: nothing to wait for.
    for (point, repetitions) in [(0, 0..0), (1, 1..4), (2, 2..4)] {
        for repetition in repetitions {
            eta.finished(step(point, rust, repetition), 0.1);
            eta.finished(step(point, numpy, repetition), 0.1);
        }
    }
    assert_eq!(eta.remaining_seconds(), 0.0);
}

/// Issue 16: report.html as a reader's browser shows it. Headless Chromium loads the page (of the
/// end-to-end run when `REPORT_RUN_DIR` names it, else of the fixture run) in two frames, a
/// 1280 × 900 window and a phone's 390 × 844, and a probe script added to a copy of the page
/// (allowed by the page's own Content-Security-Policy, which otherwise stays as it is) reports
/// what a reader would notice: every image decoded, nothing wider than the window, the tables of
/// results within the 1000-px column, the headline chart inside the first screen, and (issue 22)
/// no character drawn as an empty box for want of a font that has it.
#[test]
fn report_html_reads_well_in_a_real_browser() {
    let Some(browser) = common::browser::chromium() else {
        eprintln!("SKIPPED report_html_reads_well_in_a_real_browser: no Chromium found (apt-get install chromium, or set CHROMIUM)");
        return;
    };
    // The scratch run (when there is one) is removed when `_scratch` is dropped, after the browser.
    let (dir, _scratch) = match std::env::var_os("REPORT_RUN_DIR") {
        Some(dir) => (PathBuf::from(dir), None),
        None => {
            let scratch = fresh_dir("browser");
            let dir = scratch.path().to_path_buf();
            write_run(&dir, 1.0, write_up_claims());
            let out = orchestrator(&["report", dir.to_str().unwrap()]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            (dir, Some(scratch))
        }
    };
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap_or_else(|e| panic!("{}/report.html: {e}", dir.display()));
    assert!(!page.contains("<script"), "report.html must need no JavaScript");
    // The probe pages sit beside report.html so that the charts' relative links resolve alike.
    let (probe, frames) = (dir.join(".browser-probe.html"), dir.join(".browser-frames.html"));
    let script = format!("{}{PROBE_SCRIPT}", common::browser::MISSING_GLYPHS_PROBE);
    std::fs::write(&probe, common::browser::with_script(&page, &script)).unwrap();
    std::fs::write(&frames, FRAMES_PAGE).unwrap();
    let seen = probe_in_browser(&browser, &frames);
    let _ = (std::fs::remove_file(&probe), std::fs::remove_file(&frames));
    assert_eq!(seen.len(), 2, "one report per frame: {seen:?}");
    for found in &seen {
        eprintln!("{} in a {}×{} window: {found}", dir.join("report.html").display(), found["width"], found["height"]);
        let (width, height) = (found["width"].as_f64().unwrap(), found["height"].as_f64().unwrap());
        assert!(found["images"].as_u64().unwrap() >= 4, "{found}");
        assert_eq!(found["broken"], serde_json::json!([]), "{width} px: images that did not decode: {found}");
        assert_eq!(found["missingGlyphs"], serde_json::json!([]), "characters drawn as empty boxes (no font has them): {found}");
        assert!(found["pageOverflowPx"].as_f64().unwrap() <= 0.0, "{width} px: the page scrolls sideways: {found}");
        let headline = &found["headline"];
        assert!(headline["top"].as_f64().is_some(), "{width} px: no headline chart: {found}");
        if width >= 1280.0 {
            assert!(headline["bottom"].as_f64().unwrap() <= height, "the headline chart ends below the first screen: {found}");
            assert_eq!(found["wideTables"], serde_json::json!([]), "tables wider than the 1000-px column: {found}");
        } else {
            assert!(headline["top"].as_f64().unwrap() < height, "{width} px: the headline chart starts below the first screen: {found}");
        }
    }
}

/// Two frames of the probe page, a desktop window and a phone; each posts its findings here.
const FRAMES_PAGE: &str = r#"<!DOCTYPE html><html><body><script>
window.addEventListener('message', event => {
  const out = document.createElement('pre');
  out.className = 'browser-probe';
  out.textContent = event.data;
  document.body.appendChild(out);
});
for (const [width, height] of [[1280, 900], [390, 844]]) {
  const frame = document.createElement('iframe');
  frame.src = '.browser-probe.html';
  frame.width = width;
  frame.height = height;
  frame.style.border = '0';
  document.body.appendChild(frame);
}
</script></body></html>
"#;

/// Runs once the page and its images have loaded; posts its findings to the frames page.
const PROBE_SCRIPT: &str = r#"
window.addEventListener('load', () => {
  const images = [...document.images];
  // A table's natural width: with no cap it lays out every cell on one line.
  const natural = t => { t.style.maxWidth = 'none'; const w = t.getBoundingClientRect().width; t.style.maxWidth = ''; return w; };
  const tables = [...document.querySelectorAll('table')].map(t => ({
    header: [...t.querySelectorAll('th')].map(h => h.textContent.trim()).join(' | ').slice(0, 80),
    scrolls: t.scrollWidth > t.clientWidth + 1,
    naturalPx: Math.round(natural(t)),
  }));
  // Any table that scrolls sideways, and a results, phases or accuracy table that would wrap at
  // 1000 px (claims and the environment hold sentences: those may wrap).
  const figures = t => t.header.startsWith('implementation') || t.header.startsWith('point');
  const wide = tables.filter(t => t.scrolls || (figures(t) && t.naturalPx > 1000));
  const widest = tables.reduce((a, t) => (a && a.naturalPx >= t.naturalPx ? a : t), null);
  const headline = document.querySelector('img[src$="headline.png"]');
  const box = headline ? headline.getBoundingClientRect() : {};
  parent.postMessage(JSON.stringify({
    width: window.innerWidth,
    height: window.innerHeight,
    images: images.length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    pageOverflowPx: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    wideTables: wide,
    widestTable: widest,
    headline: { top: box.top, bottom: box.bottom },
    missingGlyphs: missingGlyphs(),
  }), '*');
});
"#;

/// Every frame's findings, from the DOM Chromium dumps once the page has settled.
fn probe_in_browser(browser: &Path, page: &Path) -> Vec<serde_json::Value> {
    let (dom, stderr) = common::browser::dump_dom(browser, page, (1800, 1000));
    let found: Vec<serde_json::Value> = dom
        .split("<pre class=\"browser-probe\">")
        .skip(1)
        .map(|rest| {
            let json = rest[..rest.find("</pre>").unwrap()].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
        })
        .collect();
    assert!(!found.is_empty(), "the probe did not report (did the page load?): {stderr}");
    found
}

/// Issue 12.16: every series stays inside its plot. A memory trace sampled every millisecond
/// that swings between two levels (NumPy's temporaries at 10^7 points) once drew miter spikes of
/// its thick line up through the chart's title; spiky lines did the same.
#[test]
fn every_series_is_clipped_to_its_plot_area() {
    use orchestrator::report::charts::{lines, time_series, LineChart, Palette, RunSamples, Series, TimeSeries, ValueFormat};
    let scratch = fresh_dir("clipping");
    let dir = scratch.path();
    let palette = Palette::new(&["python-numpy".to_string(), "rust".to_string()]);
    let swinging: Vec<(f64, u64, f64)> = (0..3000u32)
        .map(|k| {
            let rss = if k % 2 == 0 { 410u64 << 20 } else { 330 << 20 };
            (f64::from(k) * 1e-3, rss, f64::from(k) * 0.5e-3)
        })
        .collect();
    let timeline =
        TimeSeries { title: "spiky".into(), runs: vec![RunSamples { implementation: "python-numpy".into(), samples: swinging }] };
    let timeline_png = dir.join("timeline.png");
    time_series(&timeline_png, &timeline, &palette).unwrap();
    let zigzag = LineChart {
        title: "zigzag".into(),
        x_label: "n".into(),
        y_label: "y".into(),
        x_format: ValueFormat::Plain,
        y_format: ValueFormat::Plain,
        log_x: false,
        log_y: false,
        series: vec![Series {
            implementation: "python-numpy".into(),
            points: (0..200).map(|k| (f64::from(k), f64::from(k % 2) * 100.0)).collect(),
        }],
        references: vec![],
    };
    let lines_png = dir.join("lines.png");
    lines(&lines_png, &zigzag, &palette).unwrap();
    let blue = palette.colour("python-numpy");
    for png in [timeline_png, lines_png] {
        let (width, rows) = decode_rgb(&png);
        // The title band (the top 60 px) and the margin right of the plot but left of the legend
        // must hold none of the series' colour.
        let strays: Vec<(usize, usize)> = rows
            .iter()
            .enumerate()
            .take(60)
            .flat_map(|(y, row)| (0..width).filter(move |&x| row[3 * x..3 * x + 3] == [blue.0, blue.1, blue.2]).map(move |x| (x, y)))
            .collect();
        assert!(strays.is_empty(), "{}: the series is drawn in the title band at {:?}", png.display(), &strays[..strays.len().min(5)]);
    }
}

fn decode_rgb(path: &Path) -> (usize, Vec<Vec<u8>>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    let row_bytes = info.line_size;
    let rows = buffer[..row_bytes * info.height as usize].chunks(row_bytes).map(<[u8]>::to_vec).collect();
    (info.width as usize, rows)
}

/// Issue 16: a default run (every scenarios/*.yaml, listed by file name) runs and reports the
/// scenarios in the order they declare — the write-up's case first —, and one without `order:`
/// after them; scenarios named on the command line keep the order given.
#[test]
fn a_default_run_follows_the_order_the_scenarios_declare() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let catalogue = orchestrator::scenario::load_implementations(&root.join("scenarios/implementations.yaml")).unwrap();
    let scratch = fresh_dir("order");
    let dir = scratch.path();
    let unordered = dir.join("aaa-first-by-name.yaml");
    let seed = std::fs::read_to_string(root.join("scenarios/seed.yaml")).unwrap();
    let without_order: String = seed.lines().filter(|l| !l.starts_with("order:")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&unordered, without_order.replacen("name: seed", "name: unordered", 1)).unwrap();
    let mut files: Vec<PathBuf> =
        ["kernels", "learning-rate", "scaling", "seed", "startup"].iter().map(|n| root.join(format!("scenarios/{n}.yaml"))).collect();
    files.insert(0, unordered);
    let mut loaded = orchestrator::plan::load(&files, &catalogue.implementations).unwrap();
    let names = |loaded: &[orchestrator::plan::Loaded]| loaded.iter().map(|l| l.file.name.value.clone()).collect::<Vec<_>>();
    assert_eq!(names(&loaded), ["unordered", "kernels", "learning-rate", "scaling", "seed", "startup"], "as given");
    orchestrator::plan::sort_by_declared_order(&mut loaded);
    assert_eq!(names(&loaded), ["seed", "scaling", "kernels", "learning-rate", "startup", "unordered"]);
}

/// A `protocol: none` program (/bin/true in scenarios/startup.yaml) has no fit: the opening lines
/// compare a program that does the job, and the accuracy table leaves it out.
#[test]
fn a_program_without_a_fit_is_neither_the_headline_nor_in_the_accuracy_table() {
    let scratch = fresh_dir("protocol-none");
    let dir = scratch.path();
    write_run(dir, 1.0, vec![]);
    let mut plan: Plan = records::read_json(&dir.join(records::PLAN_JSON)).unwrap();
    let mut bin_true = implementation("bin-true");
    bin_true.protocol = orchestrator::scenario::Protocol::None;
    plan.scenarios[0].implementations.insert(0, bin_true);
    records::write_json_atomic(&dir.join(records::PLAN_JSON), &plan).unwrap();
    let rows: Vec<RawRecord> = (1..=5u32)
        .map(|k| RawRecord {
            w: None,
            b: None,
            mse: None,
            epochs_run: None,
            load_seconds: None,
            train_seconds: None,
            ..record("bin-true", k, 0.5e-3, 1 << 20)
        })
        .collect();
    CsvAppender::open(&dir.join(records::RAW_CSV)).unwrap().append(&rows).unwrap();
    let out = orchestrator(&["report", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let speed = report.lines().find(|l| l.starts_with("- **Speed**")).unwrap_or_else(|| panic!("{report}"));
    assert!(speed.contains(": rust ran the whole job"), "{speed}");
    assert!(report.contains("| bin-true | 500 µs ["), "bin-true is still measured: {report}");
    assert!(!report.lines().any(|l| l.starts_with("|  | bin-true |")), "no accuracy row for a program without a fit: {report}");
}
