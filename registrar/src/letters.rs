//! Credential letters: what the registrar prints and sends to each voter. One self-contained
//! HTML page per voter (no scripts, no external resources), in English and then in Simplified
//! Chinese on its own printed page, with the credential as text and as a QR code (SVG).

use std::fmt::Write as _;

use thiserror::Error;
use urna_election::manifest::Manifest;
use zeroize::Zeroizing;

use urna_voter::credential::Credential;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LetterError {
    #[error("the credential does not fit in a QR code: {0}")]
    Qr(String),
}

/// Everything one letter says.
pub struct Letter<'a> {
    pub manifest: &'a Manifest,
    pub voter_id: &'a str,
    pub weight: u32,
    pub style: u16,
    pub credential: &'a Credential,
    /// The board's public base URL; the booth is at `<board>/booth/`.
    pub board_url: &'a str,
}

/// The QR code of `text` as an SVG: one module per unit, a 4-module quiet zone, dark modules
/// as one path of unit squares (`M x y h1 v1 h-1 z`). Byte mode, error correction M.
pub fn qr_svg(text: &str) -> Result<String, LetterError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| LetterError::Qr(e.to_string()))?;
    let w = code.width();
    let colors = code.to_colors();
    let size = w + 8;
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let _ = write!(path, "M{} {}h1v1h-1z", i % w + 4, i / w + 4);
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code of the credential\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: 'Noto Sans', 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif; color: #000; background: #fff; margin: 0; }
.page { max-width: 180mm; margin: 0 auto; padding: 12mm 10mm; box-sizing: border-box; }
.page + .page { break-before: page; page-break-before: always; }
h1 { font-size: 20pt; margin: 0 0 4mm; }
h2 { font-size: 14pt; margin: 6mm 0 2mm; }
.who { font-size: 12pt; }
ol { padding-left: 6mm; } li { margin: 1.5mm 0; }
code, pre { font-family: 'DejaVu Sans Mono', 'Noto Sans Mono', monospace; }
.credential { display: flex; gap: 8mm; align-items: center; border: 0.6mm solid #000; padding: 5mm; margin: 4mm 0; break-inside: avoid; page-break-inside: avoid; }
.qr { width: 45mm; height: 45mm; flex: none; }
pre { font-size: 9pt; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.warning { border-left: 1.5mm solid #000; padding-left: 4mm; }
@page { size: A4; margin: 12mm; }
@media print { .page { padding: 0; max-width: none; } }
";

/// Words of one language.
struct Words {
    lang: &'static str,
    heading: &'static str,
    voter: &'static str,
    ballot: &'static str,
    weight: fn(u32) -> String,
    when: &'static str,
    opens: &'static str,
    closes: &'static str,
    how: &'static str,
    booth: &'static str,
    cli: &'static str,
    tracking: &'static str,
    credential: &'static str,
    secret: &'static str,
}

const EN: Words = Words {
    lang: "en",
    heading: "Your voting credential",
    voter: "Voter",
    ballot: "Ballot",
    weight: |w| {
        format!("Your ballot counts {w} times: the election office registered your vote with a weight of {w}, as the rules of this election provide.")
    },
    when: "When to vote",
    opens: "The polls open",
    closes: "The polls close",
    how: "How to vote",
    booth: "In a web browser, open <a href=\"{booth}\">{booth}</a> and load your credential: scan the QR code below, or type or paste the text beside it. Your device encrypts your choices before anything is sent.",
    cli: "Or with the urna program: save the text below in a file and run <code>urna vote --board {board} --credential FILE</code>.",
    tracking: "Note the tracking code you are shown when you vote. You can check later that your ballot is on the public board and counted, in the booth or with <code>urna receipt check</code>. You may vote again: only your latest ballot counts, unless the election forbids revoting.",
    credential: "Your credential",
    secret: "Keep this letter private. Anyone who has this credential can vote in your place. The election office does not keep a copy of it and will never ask you for it.",
};

const ZH: Words = Words {
    lang: "zh-CN",
    heading: "您的投票凭证",
    voter: "选民",
    ballot: "选票",
    weight: |w| format!("您的选票计为 {w} 票：根据本次选举的规则，选举办公室为您的投票登记了 {w} 倍的权重。"),
    when: "投票时间",
    opens: "开始投票",
    closes: "结束投票",
    how: "如何投票",
    booth: "在网页浏览器中打开 <a href=\"{booth}\">{booth}</a> 并载入您的凭证：扫描下方的二维码，或输入、粘贴旁边的文字。您的设备会先加密您的选择，然后才发送任何内容。",
    cli: "也可以使用 urna 程序：把下方的文字保存到一个文件中，然后运行 <code>urna vote --board {board} --credential 文件名</code>。",
    tracking: "投票时请记下显示的追踪码。之后您可以在投票页面或用 <code>urna receipt check</code> 核对您的选票已在公开公告板上并被计入。您可以重新投票：除非本次选举禁止重新投票，只有您最后一次投出的选票会被计入。",
    credential: "您的凭证",
    secret: "请妥善保管本信件，不要给他人看。任何拿到此凭证的人都可以冒充您投票。选举办公室不保留副本，也绝不会向您索要。",
};

/// The letter, as one HTML document. It holds the secret credential.
pub fn render(l: &Letter<'_>) -> Result<Zeroizing<String>, LetterError> {
    let text = l.credential.to_text();
    let qr = Zeroizing::new(qr_svg(&text)?);
    let board = escape(l.board_url.trim_end_matches('/'));
    let booth = format!("{board}/booth/");
    let title = escape(&l.manifest.title);
    // Each page names the election and the ballot style in its own language (§2.4).
    let title_in = |lang: &str| escape(l.manifest.title_in(lang));
    let style_in = |lang: &str| {
        l.manifest
            .ballot_styles
            .get(usize::from(l.style))
            .map(|s| escape(s.title_in(lang)))
            .unwrap_or_default()
    };
    let mut html = Zeroizing::new(format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title} — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(l.voter_id)
    ));
    for w in [&EN, &ZH] {
        let (title, style) = (title_in(w.lang), style_in(w.lang));
        let _ = write!(
            html,
            "<section class=\"page\" lang=\"{}\">\n<h1>{title}</h1>\n<h2>{}</h2>\n<p class=\"who\">{}: <strong>{}</strong><br>{}: {style}</p>\n",
            w.lang,
            w.heading,
            w.voter,
            escape(l.voter_id),
            w.ballot
        );
        if l.weight != 1 {
            let _ = writeln!(html, "<p>{}</p>", escape(&(w.weight)(l.weight)));
        }
        let (opens, closes) = (&l.manifest.opens, &l.manifest.closes);
        if opens.is_some() || closes.is_some() {
            let _ = write!(html, "<h2>{}</h2>\n<p>", w.when);
            if let Some(t) = opens {
                let _ = write!(html, "{}: <time>{}</time><br>", w.opens, escape(t));
            }
            if let Some(t) = closes {
                let _ = write!(html, "{}: <time>{}</time>", w.closes, escape(t));
            }
            html.push_str("</p>\n");
        }
        let _ = write!(
            html,
            "<h2>{}</h2>\n<ol>\n<li>{}</li>\n<li>{}</li>\n<li>{}</li>\n</ol>\n<h2>{}</h2>\n<div class=\"credential\">{}<pre>{}</pre></div>\n<p class=\"warning\">{}</p>\n</section>\n",
            w.how,
            w.booth.replace("{booth}", &booth),
            w.cli.replace("{board}", &board),
            w.tracking,
            w.credential,
            qr.as_str(),
            escape(&text),
            w.secret
        );
    }
    html.push_str("</body>\n</html>\n");
    Ok(html)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn each_page_names_the_election_and_style_in_its_language() {
        let text = include_str!("../../specs/examples/manifest.toml");
        let m = urna_election::manifest::Manifest::from_toml(text).unwrap();
        let zh_title = m.title_in("zh-CN").to_string();
        assert_ne!(
            zh_title, m.title,
            "the example manifest has a Chinese title"
        );
        let cred = urna_voter::credential::Credential {
            election_id: m.election_id.clone(),
            key: urna_crypto::sign::SigningKey::from_seed(&[1; 32]),
        };
        let html = render(&Letter {
            manifest: &m,
            voter_id: "v1",
            weight: 1,
            style: 0,
            credential: &cred,
            board_url: "http://board.example",
        })
        .unwrap();
        let zh = &html[html.find("lang=\"zh-CN\"").unwrap()..];
        let en =
            &html[html.find("lang=\"en\"\n").unwrap_or(0)..html.find("lang=\"zh-CN\"").unwrap()];
        assert!(
            zh.contains(&format!("<h1>{}</h1>", escape(&zh_title))),
            "{zh}"
        );
        assert!(
            en.contains(&format!("<h1>{}</h1>", escape(&m.title))),
            "{en}"
        );
        assert!(zh.contains(&escape(m.ballot_styles[0].title_in("zh-CN"))));
    }
}
