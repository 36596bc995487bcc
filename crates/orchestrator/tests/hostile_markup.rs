//! Issue 23 (security): report.html is a page other people open, and report.md one a Markdown
//! viewer renders, so whatever a scenario, a data path, a catalogue entry, the machine or a
//! measured program writes is text in them, never markup.
//!
//! A hostile scenario puts markup — a script, an event handler, a `javascript:` link, remote
//! images in HTML and in Markdown, a frame, a stylesheet import, a refresh, table pipes — in every
//! free-text field the report shows: the scenario's description, the claims' sources, the
//! implementations' descriptions and availability hints, a failing availability check's stderr,
//! a measured program's stderr, the data file's name and columns, and the machine's strings in
//! environment.json. Its report is then read as a Markdown viewer and a browser read it: neither
//! report.md nor report.html holds markup but the report's own, and headless Chromium (where one
//! is installed) runs no script and asks the test's HTTP server for nothing — with the page's
//! Content-Security-Policy and, to prove the escaping alone suffices, without it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{browser, root, ORCHESTRATOR};
use pulldown_cmark::{Event, Options, Parser, Tag};

/// A local HTTP server that answers every request with nothing and remembers its first line.
struct Server {
    address: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        let address = format!("http://{}", listener.local_addr().expect("its address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        // Connections are served one after another, in the order they came.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                seen.lock().unwrap().push(line.trim().to_string());
                let _ = (&stream).write_all(b"HTTP/1.0 204 No Content\r\nContent-Length: 0\r\n\r\n");
            }
        });
        Server { address, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Markup in one field, marked with the field's name: a heading and a list item, then on one
/// line (a failing check's message quotes only its last line) an image, a frame, a stylesheet, a
/// refresh and an autolink fetching from `server`, a script and an event handler that would set
/// the title to "pwned-by-FIELD…" (words found only if they run), a `javascript:` link, a Markdown
/// image, emphasis, table pipes and code.
fn markup(server: &str, field: &str) -> String {
    format!(
        "# a heading\n- a list\n\
         <img src=\"{server}/{field}/html-image.png\"> <script>document.title=['pwned','by','{field}'].join('-')</script> \
         <img src=x onerror=\"document.title=['pwned','by','{field}','handler'].join('-')\"> \
         <iframe src=\"{server}/{field}/frame\"></iframe> <style>@import url({server}/{field}/style.css);</style> \
         <meta http-equiv=\"refresh\" content=\"0; url={server}/{field}/refresh\"> <{server}/{field}/autolink> \
         [a link](javascript:document.title=['pwned','by','{field}','link'].join('-')) \
         ![an image]({server}/{field}/markdown-image.png) **bold** | a cell | `code`"
    )
}

/// The same in brief, for a measured program's stderr: a failure note quotes its first 300
/// characters.
fn short_markup(server: &str, field: &str) -> String {
    format!(
        "<img src=\"{server}/{field}/html-image.png\"><script>document.title=['pwned','by','{field}'].join('-')</script>\
         [a link](javascript:alert(1)) ![]({server}/{field}/markdown-image.png) | `code`"
    )
}

/// `text` as a YAML block scalar indented by `indent` spaces.
fn block(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    format!("|\n{}", text.lines().map(|line| format!("{pad}{line}\n")).collect::<String>())
}

/// The fields that carry `markup` whole.
const FIELDS: [&str; 7] = ["description", "speedup-source", "fit-source", "implementation-description", "hint", "check-stderr", "stderr"];

/// Writes the hostile scenario and its data file into `dir`.
fn hostile_scenario(dir: &Path, server: &str) -> PathBuf {
    let data_name = "<img src=x onerror=alert(1)> [data](javascript:alert(1)) *points*.csv";
    let x_column = format!("<img src={server}/data-column/x.png onerror=alert(1)>");
    std::fs::write(dir.join(data_name), format!("{x_column},y\n1,2\n2,4\n3,6\n4,8\n5,10\n")).unwrap();
    let m = |field: &str, indent: usize| block(&markup(server, field), indent);
    let shout = "printf \"%s\\n\" \"$MARKUP\" >&2";
    let text = format!(
        "name: markup\n\
         description: {}\
         dataset:\n  csv: {{path: \"{data_name}\", x_column: \"{x_column}\", y_column: y}}\n\
         training: {{epochs: 1000, learning_rate: 0.01}}\n\
         implementations: [fixture, second, loud, unavailable]\n\
         baseline: fixture\n\
         define:\n\
         \x20 fixture:\n    command: [\"{{bin_dir}}/fixture-child\", \"result\", \"{{n}}\", \"{{epochs}}\", \"{{learning_rate}}\"]\n\
         \x20   description: {}\
         \x20 second:\n    command: [\"{{bin_dir}}/fixture-child\", \"result\", \"{{n}}\", \"{{epochs}}\", \"{{learning_rate}}\"]\n\
         \x20   description: {}\
         \x20 loud:\n    command: [/bin/sh, -c, '{shout}; exit 3']\n    env:\n      MARKUP: {}\
         \x20 unavailable:\n    command: [\"{{bin_dir}}/fixture-child\", \"json\"]\n    check: [/bin/sh, -c, '{shout}; exit 1']\n\
         \x20   optional: true\n    hint: {}    env:\n      MARKUP: {}\
         anatomy:\n  - [fixture, second]\n\
         expect:\n\
         \x20 - speedup:\n      faster: second\n      than: fixture\n      at_least: 1\n      source: {}\
         \x20 - fit:\n      implementation: fixture\n      w: 2\n      b: 0\n      tolerance: 0.5\n      source: {}",
        m("description", 2),
        m("implementation-description", 6),
        m("implementation-description", 6),
        block(&short_markup(server, "stderr"), 8),
        m("hint", 6),
        m("check-stderr", 8),
        m("speedup-source", 8),
        m("fit-source", 8),
    );
    let path = dir.join("markup.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// environment.json with the machine's own strings (CPU model, host name, paths, the command
/// line …) replaced by markup, as a hand-edited or hostile file might hold them.
fn hostile_environment(run_dir: &Path, server: &str) {
    let path = run_dir.join("environment.json");
    let mut environment: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let text = serde_json::Value::String(markup(server, "environment"));
    for key in ["cpu_model", "hostname", "kernel", "os", "frequency_governor", "rustc", "python_version", "python_executable"] {
        environment[key] = text.clone();
    }
    for key in ["numpy_version", "numpy_blas", "git_commit", "started_utc", "ended_utc", "python_command"] {
        environment[key] = text.clone();
    }
    environment["command_line"] = serde_json::json!(["orchestrator", text]);
    std::fs::write(&path, serde_json::to_string_pretty(&environment).unwrap()).unwrap();
}

/// Runs the hostile scenario, then re-renders its report over the hostile environment.json;
/// returns the run directory.
fn hostile_run(dir: &Path, server: &str) -> PathBuf {
    let scenario = hostile_scenario(dir, server);
    let results = dir.join("results");
    let run = Command::new(ORCHESTRATOR)
        .arg("--root")
        .arg(root())
        .args(["run", scenario.to_str().unwrap(), "--results", results.to_str().unwrap()])
        .args(["--no-probes", "--warmup", "0", "--repetitions", "3"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let run_dir = results.join("latest").canonicalize().unwrap_or_else(|e| {
        panic!("no run directory ({e}): {}\n{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr))
    });
    hostile_environment(&run_dir, server);
    let report = Command::new(ORCHESTRATOR).arg("report").arg(&run_dir).stdin(Stdio::null()).output().unwrap();
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    run_dir
}

/// Every problem a Markdown reader (CommonMark with tables and strikethrough) finds in
/// `markdown`: HTML other than the report's anchors, a link out of the page, an image not from
/// charts/, and a remote address a viewer such as GitHub's would make a link of.
fn markdown_problems(markdown: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) if !is_anchor(&html) => problems.push(format!("HTML: {html}")),
            Event::Start(Tag::Link { dest_url, .. }) if !dest_url.starts_with('#') => problems.push(format!("link to {dest_url}")),
            Event::Start(Tag::Image { dest_url, .. }) if !dest_url.starts_with("charts/") => problems.push(format!("image {dest_url}")),
            _ => {}
        }
    }
    if markdown.replace("\\://", "").contains("://") {
        problems.push("a bare remote address".into());
    }
    problems
}

fn is_anchor(html: &str) -> bool {
    let plain = |id: &str| id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    html == "</a>" || html.strip_prefix("<a id=\"").and_then(|rest| rest.strip_suffix("\">")).is_some_and(plain)
}

/// Every tag of report.html's body that the report does not write itself: the body may hold
/// only the elements Markdown makes, anchors and links within the page, images from charts/ and
/// the marks' badges, with no other attribute. (Text is escaped, so every `<` starts a tag and no
/// attribute value holds a quote.)
fn html_problems(page: &str) -> Vec<String> {
    let (head, body) = page.split_at(page.find("<body>").expect("a body"));
    let mut problems: Vec<String> = ["<script", "<iframe", "<object", "<embed", "<link", "<base", "<form"]
        .iter()
        .filter(|tag| head.contains(*tag))
        .map(|tag| format!("{tag} in the head"))
        .collect();
    for tag in body.split('<').skip(1).map(|rest| &rest[..rest.find('>').unwrap_or(rest.len())]) {
        let tag = tag.trim_end_matches('/').trim();
        let (name, attributes) = tag.split_once(' ').unwrap_or((tag, ""));
        let attributes: Vec<(&str, &str)> = attributes
            .split('"')
            .collect::<Vec<_>>()
            .chunks(2)
            .filter(|pair| pair.len() == 2)
            .map(|pair| (pair[0].trim().trim_end_matches('='), pair[1]))
            .collect();
        let only = |allowed: &[&str]| attributes.iter().all(|(name, _)| allowed.contains(name));
        let allowed = match name.trim_start_matches('/') {
            "body" | "main" | "html" | "h1" | "h2" | "h3" | "h4" | "p" | "ul" | "ol" | "li" | "blockquote" | "table" | "thead"
            | "tbody" | "tr" | "th" | "td" | "em" | "code" | "pre" | "del" | "br" | "hr" => attributes.is_empty(),
            "strong" => only(&["class"]) && attributes.iter().all(|(_, value)| value.starts_with("mark ")),
            "a" => match attributes.as_slice() {
                [] => name == "/a",
                [("id", id)] => is_anchor(&format!("<a id=\"{id}\">")),
                [("href", link)] => link.starts_with('#'),
                _ => false,
            },
            "img" => {
                only(&["src", "alt", "title"]) && attributes.iter().any(|(name, value)| *name == "src" && value.starts_with("charts/"))
            }
            _ => false,
        };
        if !allowed {
            problems.push(format!("<{tag}>"));
        }
    }
    problems
}

#[test]
fn free_text_makes_no_markup_in_report_md_nor_report_html() {
    let dir = tempfile::Builder::new().prefix("hostile-markup-").tempdir().unwrap();
    let server = Server::start();
    let run_dir = hostile_run(dir.path(), &server.address);
    let markdown = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    let page = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    // Every field reached the report, as text.
    for field in FIELDS.iter().chain(&["environment"]) {
        assert!(page.contains(&format!("/{field}/html-image.png")), "{field} is not in report.html: {page}");
    }
    assert!(page.contains("points") && page.contains("/data-column/x.png"), "the data file is not named: {page}");
    assert_eq!(markdown_problems(&markdown), Vec::<String>::new(), "report.md makes markup:\n{markdown}");
    assert_eq!(html_problems(&page), Vec::<String>::new(), "report.html makes markup:\n{page}");
}

/// The browser's view: no script runs and no request reaches the test's server, from the page
/// as written and from the page without its Content-Security-Policy; a control page proves that
/// this browser, here, would have shown both.
#[test]
fn a_hostile_report_runs_no_script_and_fetches_nothing_in_a_browser() {
    let Some(chromium) = browser::chromium() else {
        eprintln!("SKIPPED a_hostile_report_runs_no_script_and_fetches_nothing_in_a_browser: no Chromium found (apt-get install chromium, or set CHROMIUM)");
        return;
    };
    let dir = tempfile::Builder::new().prefix("hostile-markup-").tempdir().unwrap();
    let server = Server::start();
    let run_dir = hostile_run(dir.path(), &server.address);
    let page = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    let without_policy = run_dir.join(".without-policy.html");
    let policy = page.lines().find(|line| line.contains("Content-Security-Policy"));
    std::fs::write(&without_policy, policy.map_or(page.clone(), |policy| page.replace(policy, ""))).unwrap();
    for (what, file) in [("report.html", run_dir.join("report.html")), ("report.html without its policy", without_policy)] {
        let (dom, stderr) = browser::dump_dom(&chromium, &file, (1280, 900));
        assert!(dom.contains("Rust vs Python/NumPy"), "{what} did not load: {stderr}\n{dom}");
        assert!(!dom.contains("pwned-by"), "a script ran in {what}: {dom}");
    }
    // The control: the same browser, a page that does run a script and fetch an image, both seen.
    let control = run_dir.join(".control.html");
    std::fs::write(
        &control,
        format!(
            "<!DOCTYPE html><title>control</title><img src=\"{}/control/image.png\">\
             <script>document.title=['pwned','by','control'].join('-')</script>",
            server.address
        ),
    )
    .unwrap();
    let (dom, stderr) = browser::dump_dom(&chromium, &control, (800, 600));
    assert!(dom.contains("pwned-by-control"), "the control's script did not run: {stderr}\n{dom}");
    // The server answers connections in the order they came, so once the control's request is in,
    // any request of the report pages (loaded before) is in too.
    let started = Instant::now();
    while !server.requests().iter().any(|r| r.contains("/control/")) && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let requests = server.requests();
    assert!(requests.iter().any(|r| r.starts_with("GET /control/image.png")), "the control's image was not fetched: {requests:?}");
    let others: Vec<&String> = requests.iter().filter(|r| !r.contains("/control/")).collect();
    assert!(others.is_empty(), "the report made requests: {others:?}");
}
