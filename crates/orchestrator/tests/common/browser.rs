//! Headless Chromium for the tests that look at report.html as a reader's browser shows it: found
//! on PATH (or $CHROMIUM), run with a new empty profile and none of its own network traffic; what
//! the page (and a probe script added to a copy of it) leaves in the DOM comes back by --dump-dom.
//! Every test that uses it says SKIPPED and passes where no Chromium is installed.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Chromium, from $CHROMIUM or PATH.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// How long Chromium may take over one page: a page that never settles (one that keeps
/// reloading itself, say) is killed with everything it started, and the test says so.
const BROWSER_LIMIT: Duration = Duration::from_secs(90);

/// The DOM of `page` once it has settled (scripts run, images loaded or failed, up to 15 s of
/// virtual time) in a `width` × `height` window, and Chromium's stderr.
pub fn dump_dom(browser: &Path, page: &Path, (width, height): (u32, u32)) -> (String, String) {
    let profile = tempfile::tempdir().expect("a profile directory");
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .args(["--virtual-time-budget=15000", "--dump-dom", &format!("--window-size={width},{height}")])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", browser.display()));
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    let started = Instant::now();
    let mut killed = false;
    while child.try_wait().expect("waiting for Chromium").is_none() {
        if started.elapsed() > BROWSER_LIMIT {
            // SAFETY: kill has no memory-safety preconditions; the group is Chromium's own.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stderr = stderr.join().unwrap_or_default();
    if killed {
        stderr.push_str(&format!("\n(Chromium had not finished with {} after {BROWSER_LIMIT:?}: killed)", page.display()));
    }
    (stdout.join().unwrap_or_default(), stderr)
}

/// `page` with `script` run at its end. The page's Content-Security-Policy, when it has one, is
/// kept and allows this script alone (by its hash): the probe sees the page under its own policy.
pub fn with_script(page: &str, script: &str) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()));
    let marker = "<meta http-equiv=\"Content-Security-Policy\" content=\"";
    let page = match page.find(marker) {
        Some(start) => {
            let end = start + marker.len() + page[start + marker.len()..].find('"').expect("the policy's closing quote");
            format!("{}; script-src 'sha256-{hash}'{}", &page[..end], &page[end..])
        }
        None => page.to_string(),
    };
    page.replace("</body>", &format!("<script>{script}</script></body>"))
}

/// A script defining `missingGlyphs()`: every distinct non-ASCII character of the page's text that
/// the browser draws as a missing glyph — pixel for pixel what it draws for a code point no font
/// has (U+0378, unassigned), in the font of the element that holds it. Throws when two such code
/// points are not drawn alike, as then this way of telling cannot work.
pub const MISSING_GLYPHS_PROBE: &str = r#"
function missingGlyphs() {
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const draw = (text, font) => {
    context.clearRect(0, 0, 64, 64);
    context.font = font;
    context.textBaseline = 'top';
    context.fillText(text, 8, 8);
    return context.getImageData(0, 0, 64, 64).data.join();
  };
  const seen = new Map();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode()); ) {
    if (node.parentElement.closest('script, style')) continue;
    const style = getComputedStyle(node.parentElement);
    const font = `${style.fontStyle} ${style.fontWeight} 32px ${style.fontFamily}`;
    for (const c of node.data) {
      if (c.codePointAt(0) > 127 && c.trim() !== '') seen.set(c + '\u0000' + font, [c, font]);
    }
  }
  const missing = new Set();
  for (const [c, font] of seen.values()) {
    const box = draw('\u0378', font);
    if (draw('\u0379', font) !== box) throw new Error('two missing glyphs drawn differently in ' + font);
    if (draw(c, font) === box) missing.add(`${c} U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
  }
  return [...missing];
}
"#;
