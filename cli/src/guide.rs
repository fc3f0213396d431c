//! Telling people what to do: the board's address as they type it, and for each command that
//! depends on the election's phase, what the phase means for it and what comes next.

use crate::outcome::Usage;

/// `--board`: the board's base URL. Catches the two slips people make: no scheme, and the
/// booth's address (`<board>/booth/`) in place of the board's.
pub fn board_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(format!(
            "add http:// (or https://): the board's address is a URL, e.g. http://{s}"
        ));
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "the board is reached over http:// or https://, not {scheme}://"
        ));
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err("the URL has no host".into());
    }
    let base = s
        .split(['?', '#'])
        .next()
        .unwrap_or(s)
        .trim_end_matches('/');
    if let Some(i) = base.find("/booth") {
        let tail = &base[i + "/booth".len()..];
        if tail.is_empty() || tail.starts_with('/') {
            return Err(format!(
                "this is the booth's address; the board is {}",
                &base[..i]
            ));
        }
    }
    Ok(base.to_string())
}

/// What each phase allows, and what to say when it does not: `urna-office`'s, which the
/// consoles use too.
pub use urna_office::phase::{allow_at, Act};

/// An input file that is not what it should be is a usage error.
pub fn bad_input(what: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(Usage(what.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_urls() {
        assert_eq!(
            board_url("http://127.0.0.1:8080/").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        assert!(board_url("127.0.0.1:18080")
            .unwrap_err()
            .starts_with("add http://"));
        assert_eq!(
            board_url("http://vote.example/booth/").unwrap_err(),
            "this is the booth's address; the board is http://vote.example"
        );
        assert!(board_url("http://vote.example/booth/#lang=zh").is_err());
        assert!(board_url("http://vote.example/boothy").is_ok());
        assert!(board_url("ftp://x").is_err());
    }
}
