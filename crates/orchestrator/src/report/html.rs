//! report.html: report.md rendered by pulldown-cmark into one self-contained page — the same
//! text and the same PNGs (linked relatively, so the page opens from the run directory), a small
//! stylesheet inside, no script and nothing fetched from the network.

use pulldown_cmark::{html, Options, Parser};

/// The stylesheet: GitHub's measures (16 px text, cells padded 6 px × 13 px) in a content column
/// of at most 1000 px, so a table that fits here fits GitHub's rendering of report.md too.
/// A table wider than the column scrolls inside itself rather than widening the page.
const STYLESHEET: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: #1f2328;
  font: 16px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1032px; margin: 0 auto; padding: 16px 16px 48px; overflow-wrap: break-word; }
h1 { font-size: 1.5em; margin: 0.4em 0 0.3em; line-height: 1.25; }
h2 { font-size: 1.5em; margin: 1.6em 0 0.6em; padding-bottom: 0.3em; border-bottom: 1px solid #d1d9e0; }
h3 { font-size: 1.2em; margin: 1.4em 0 0.5em; }
p, ul, ol, blockquote, table { margin: 0 0 16px; }
ul, ol { padding-left: 2em; }
li + li { margin-top: 0.25em; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
code { font: 85% ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  background: #eff1f3; padding: 0.15em 0.35em; border-radius: 5px; }
blockquote { padding: 0 1em; color: #59636e; border-left: 0.25em solid #d1d9e0; }
table { border-collapse: collapse; border-spacing: 0; display: block; width: max-content;
  max-width: 100%; overflow-x: auto; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
th { font-weight: 600; background: #f6f8fa; }
tr:nth-child(2n) td { background: #f6f8fa; }
img { display: block; max-width: 100%; height: auto; margin: 8px 0; }
@media (max-width: 640px) {
  body { font-size: 15px; }
  main { padding: 8px 10px 32px; }
  h1 { font-size: 1.3em; }
  th, td { padding: 4px 8px; }
}
"#;

/// The whole page for `markdown` (report.md's text).
pub(crate) fn render(markdown: &str) -> String {
    let title = markdown.lines().find_map(|line| line.strip_prefix("# ")).unwrap_or("linreg-bench report");
    let mut body = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut body, Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLESHEET}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(title)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_images_and_anchors_become_html_without_scripts_or_remote_resources() {
        let page = render("# Title <x>\n\n<a id=\"here\"></a>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![chart](charts/seed-wall.png)\n");
        assert!(page.contains("<title>Title &lt;x&gt;</title>"), "{page}");
        assert!(page.contains("<table>") && page.contains("<td>1</td>"), "{page}");
        assert!(page.contains("<img src=\"charts/seed-wall.png\" alt=\"chart\""), "{page}");
        assert!(page.contains("<a id=\"here\"></a>"), "{page}");
        assert!(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"), "{page}");
    }
}
