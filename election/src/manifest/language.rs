//! Texts in several languages (`specs/election.md` §2.4): the election's, contests' and ballot
//! styles' titles and the options' names, each a default text plus translations keyed by BCP 47
//! language tag (RFC 5646), and the one rule every client uses to pick the text for a voter.
//!
//! Tags are checked for the RFC 5646 `langtag` syntax and written in its recommended case
//! (§2.1.1: `zh-Hans-CN`, `en-GB`, `sr-Latn`), so that one tag has one spelling: the
//! translations are sorted by tag bytes with no tag twice, and a manifest has one canonical
//! form. Which languages exist is not checked: no registry is consulted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Longest language tag accepted, in bytes (RFC 5646 §4.4.1: the length every implementation
/// must be able to hold).
pub const MAX_TAG_LEN: usize = 35;
/// Most translations one text may have.
pub const MAX_TRANSLATIONS: usize = 32;

/// One translation of a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    /// A BCP 47 language tag in its recommended case, e.g. `zh-CN`.
    pub lang: String,
    pub text: String,
}

/// A text's translations, sorted by tag (empty: only the default text exists). In the TOML
/// authoring form (and in JSON) a table `{ zh-CN = "…", fr = "…" }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Translations(pub Vec<Translation>);

impl Serialize for Translations {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|t| (&t.lang, &t.text)))
    }
}

impl<'de> Deserialize<'de> for Translations {
    /// From a table of tag → text: a TOML table cannot hold a key twice, and the map sorts it.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(d)?;
        Ok(Translations(
            map.into_iter()
                .map(|(lang, text)| Translation { lang, text })
                .collect(),
        ))
    }
}

impl Translations {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text for a voter reading `lang` (any case): [`pick`] with these translations.
    pub fn pick<'a>(&'a self, default: &'a str, lang: &str) -> &'a str {
        pick(default, self, lang)
    }
}

/// The text to show a reader of `lang` (a BCP 47 tag, ASCII case ignored): the translation
/// tagged exactly `lang`; else the first translation, in tag order, whose primary language
/// subtag is `lang`'s (so `zh` before `zh-Hant` for `zh-CN`); else the default text.
/// `specs/election.md` §2.4; every client picks by this rule.
pub fn pick<'a>(default: &'a str, translations: &'a Translations, lang: &str) -> &'a str {
    let primary = |t: &str| t.split('-').next().unwrap_or("").to_ascii_lowercase();
    let want = primary(lang);
    translations
        .0
        .iter()
        .find(|t| t.lang.eq_ignore_ascii_case(lang))
        .or_else(|| {
            translations
                .0
                .iter()
                .find(|t| !want.is_empty() && primary(&t.lang) == want)
        })
        .map_or(default, |t| t.text.as_str())
}

/// Why a language tag is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagProblem {
    /// Not RFC 5646 `langtag` (or `privateuse`) syntax, or longer than [`MAX_TAG_LEN`].
    Malformed,
    /// Well formed but not in the recommended case; the canonical spelling is given.
    Case,
}

/// The tag in RFC 5646 §2.1.1's recommended case: language, extended language, variants and
/// extensions lower case, the script title case, the region upper case. Which subtag is a
/// script or a region follows from its position and length, as the grammar has it.
pub fn canonical_case(tag: &str) -> String {
    let mut out = Vec::new();
    let mut in_singleton = false;
    for (i, sub) in tag.split('-').enumerate() {
        let lower = sub.to_ascii_lowercase();
        if i == 0 || in_singleton {
            in_singleton = in_singleton || lower.len() == 1;
            out.push(lower);
            continue;
        }
        if lower.len() == 1 {
            in_singleton = true;
            out.push(lower);
        } else if lower.len() == 4 && lower.bytes().all(|b| b.is_ascii_alphabetic()) {
            let mut s = lower;
            s[..1].make_ascii_uppercase();
            out.push(s);
        } else if lower.len() == 2 && lower.bytes().all(|b| b.is_ascii_alphabetic()) {
            out.push(lower.to_ascii_uppercase());
        } else {
            out.push(lower);
        }
    }
    out.join("-")
}

/// Checks the RFC 5646 syntax: `language[-extlang]*[-script][-region][-variant]*
/// [-extension]*[-privateuse]`, or `privateuse` alone (`x-…`); grandfathered tags are not
/// accepted. Then the case: the tag must equal [`canonical_case`] of itself.
pub fn check_tag(tag: &str) -> Result<(), TagProblem> {
    if tag.is_empty() || tag.len() > MAX_TAG_LEN || !well_formed(tag) {
        return Err(TagProblem::Malformed);
    }
    if canonical_case(tag) != tag {
        return Err(TagProblem::Case);
    }
    Ok(())
}

fn well_formed(tag: &str) -> bool {
    let subs: Vec<&str> = tag.split('-').collect();
    let alpha = |s: &str| s.bytes().all(|b| b.is_ascii_alphabetic());
    let digit = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if subs.iter().any(|s| !alnum(s) || s.len() > 8) {
        return false;
    }
    let private = |rest: &[&str]| rest.len() >= 2 && rest[0].eq_ignore_ascii_case("x");
    if private(&subs) {
        return true;
    }
    let mut i = 0;
    let lang = subs[0];
    if !alpha(lang) || !matches!(lang.len(), 2 | 3 | 5..=8) {
        return false;
    }
    i += 1;
    if lang.len() <= 3 {
        let mut ext = 0;
        while ext < 3 && i < subs.len() && subs[i].len() == 3 && alpha(subs[i]) {
            ext += 1;
            i += 1;
        }
    }
    if i < subs.len() && subs[i].len() == 4 && alpha(subs[i]) {
        i += 1;
    }
    let region = |s: &str| s.len() == 2 && alpha(s) || s.len() == 3 && digit(s);
    if i < subs.len() && region(subs[i]) {
        i += 1;
    }
    let variant = |s: &str| (5..=8).contains(&s.len()) || s.len() == 4 && digit(&s[..1]);
    let mut variants = Vec::new();
    while i < subs.len() && variant(subs[i]) {
        let v = subs[i].to_ascii_lowercase();
        if variants.contains(&v) {
            return false;
        }
        variants.push(v);
        i += 1;
    }
    let mut singletons = Vec::new();
    while i < subs.len() && subs[i].len() == 1 && !subs[i].eq_ignore_ascii_case("x") {
        let s = subs[i].to_ascii_lowercase();
        if singletons.contains(&s) {
            return false;
        }
        singletons.push(s);
        i += 1;
        let start = i;
        while i < subs.len() && subs[i].len() >= 2 {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == subs.len() || private(&subs[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(pairs: &[(&str, &str)]) -> Translations {
        Translations(
            pairs
                .iter()
                .map(|(l, t)| Translation {
                    lang: (*l).into(),
                    text: (*t).into(),
                })
                .collect(),
        )
    }

    #[test]
    fn tags() {
        for ok in [
            "en",
            "zh-CN",
            "zh-Hans",
            "zh-Hans-CN",
            "es-419",
            "sr-Latn-RS",
            "de-CH-1901",
            "en-a-bbb-x-ccc",
            "x-whatever",
            "zh-yue-HK",
            "sl-rozaj-biske",
        ] {
            assert_eq!(check_tag(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "e",
            "en-",
            "-en",
            "en--GB",
            "1en",
            "en-GB-GB-GB",
            "toolongtag",
            "de-1901-1901",
            "en-a-b",
            "en-a-bbb-a-ccc",
            "en_GB",
            "中文",
            "en-x",
            "abcdefghijklmnopqrstuvwxyz-abcdefgh-ij",
        ] {
            assert_eq!(check_tag(bad), Err(TagProblem::Malformed), "{bad}");
        }
        assert_eq!(check_tag("zh-cn"), Err(TagProblem::Case));
        assert_eq!(canonical_case("ZH-hans-cn"), "zh-Hans-CN");
        assert_eq!(canonical_case("en-A-bbb-X-Ccc"), "en-a-bbb-x-ccc");
        assert_eq!(canonical_case("sl-ROZAJ"), "sl-rozaj");
    }

    #[test]
    fn picking() {
        let t = tr(&[("fr", "Maire"), ("zh", "市长"), ("zh-Hant", "市長")]);
        assert_eq!(t.pick("Mayor", "fr-CA"), "Maire");
        assert_eq!(t.pick("Mayor", "zh-CN"), "市长");
        assert_eq!(t.pick("Mayor", "ZH-hant"), "市長");
        assert_eq!(t.pick("Mayor", "de"), "Mayor");
        assert_eq!(t.pick("Mayor", ""), "Mayor");
        let only_hant = tr(&[("zh-Hant", "市長")]);
        assert_eq!(only_hant.pick("Mayor", "zh-CN"), "市長");
        assert_eq!(Translations::default().pick("Mayor", "zh-CN"), "Mayor");
    }
}
