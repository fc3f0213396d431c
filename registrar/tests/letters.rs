//! Credential letters: each holds its voter's credential as text and as a QR code that
//! decodes back to exactly that text, in both languages, and says a weight only when it is not 1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::SeedableRng;
use urna_election::manifest::Manifest;
use urna_registrar::letters::{qr_svg, render, Letter};
use urna_voter::credential::Credential;

const EXAMPLE: &str = include_str!("../../specs/examples/manifest.toml");

/// Decodes the QR code of an SVG `qr_svg` made: its unit squares rasterised, 8 pixels a module.
fn decode_svg(svg: &str) -> String {
    let view = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
    let size: usize = view.split(' ').next().unwrap().parse().unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut dark = vec![false; size * size];
    for square in d.split('M').filter(|s| !s.is_empty()) {
        let xy = square.strip_suffix("h1v1h-1z").unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        dark[y * size + x] = true;
    }
    const SCALE: usize = 8;
    let px = size * SCALE;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(px, px, |x, y| {
        if dark[(y / SCALE) * size + x / SCALE] {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

#[test]
fn a_letter_carries_the_credential_as_text_and_as_a_qr_code_that_decodes() {
    let mut m = Manifest::from_toml(EXAMPLE).unwrap();
    m.title = "市议会选举 <2026> & more".into();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    for (voter, weight) in [("ann", 1), ("李明", 3)] {
        let cred = Credential {
            election_id: m.election_id.clone(),
            key: urna_crypto::sign::SigningKey::generate(&mut rng),
        };
        let html = render(&Letter {
            manifest: &m,
            voter_id: voter,
            weight,
            style: 1,
            credential: &cred,
            board_url: "https://vote.example.org/",
        })
        .unwrap();
        let text = cred.to_text();
        assert!(html.contains(text.trim_end()), "the credential as text");
        assert!(
            html.contains("市议会选举 &lt;2026&gt; &amp; more"),
            "the title, escaped"
        );
        assert!(html.contains("https://vote.example.org/booth/"));
        assert!(html.contains("urna vote --board https://vote.example.org --credential"));
        assert!(html.contains("lang=\"en\"") && html.contains("lang=\"zh-CN\""));
        // The ballot style by its name in each page's language, never by its id.
        assert!(html.contains("您的投票凭证") && html.contains("Non-residents"));
        assert!(html.contains("非本市居民") && !html.contains("non-resident"));
        assert!(
            html.contains("<h1>2026 年示例市议会选举</h1>"),
            "the Chinese title"
        );
        assert!(html.contains("@media print") && html.contains("break-before: page"));
        assert_eq!(
            html.contains("counts 3 times"),
            weight == 3,
            "weight only if not 1"
        );
        assert_eq!(html.contains("计为 3 票"), weight == 3);
        let svg = &html[html.find("<svg").unwrap()..];
        let svg = &svg[..svg.find("</svg>").unwrap() + 6];
        assert_eq!(
            decode_svg(svg),
            *text,
            "the QR code decodes to the credential"
        );
        // Both language pages carry the same code.
        assert_eq!(html.matches(svg).count(), 2);
    }
}

#[test]
fn qr_of_any_text_round_trips() {
    for t in [
        "x",
        "urna-credential-v1\nelection a/b\nkey 00\n",
        &"9".repeat(300),
    ] {
        assert_eq!(decode_svg(&qr_svg(t).unwrap()), t);
    }
}
