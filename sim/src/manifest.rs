//! Manifests for synthetic elections, built from typed parts rather than formatted text.
//!
//! The builder writes the manifest's TOML authoring form (`specs/examples/manifest.toml`) as
//! TOML values and reads it back through [`Manifest::from_toml`], so a synthetic manifest is
//! validated exactly as an authority's is, and the same builder gives the file a demo hands to
//! `urna authority setup`. Contests and ballot styles are authored content: they are taken as
//! TOML (the example manifest's by default) and carried over table by table.

use toml_edit::{value, ArrayOfTables, DocumentMut, Item, Table};
use urna_crypto::group::Point;
use urna_crypto::hex;
use urna_crypto::sign::VerifyingKey;
use urna_election::manifest::{Manifest, ManifestError, RevotePolicy};

/// The example manifest of `specs/`, whose contests and styles synthetic elections reuse.
pub const EXAMPLE: &str = include_str!("../../specs/examples/manifest.toml");

/// A trustee as the manifest names it.
#[derive(Debug, Clone)]
pub struct TrusteeEntry {
    pub name: String,
    pub signing_key: VerifyingKey,
    pub ceremony_key: Point,
}

/// A witness as the manifest names it.
#[derive(Debug, Clone)]
pub struct WitnessEntry {
    pub name: String,
    pub key: VerifyingKey,
    pub url: String,
    /// A validating node rather than a witness.
    pub node: bool,
}

/// A manifest under construction.
#[derive(Debug, Clone)]
pub struct ManifestBuilder {
    pub election_id: String,
    pub title: String,
    /// The title in other languages: (BCP 47 tag, text), as `titles` in the TOML.
    pub titles: Vec<(String, String)>,
    pub revote: RevotePolicy,
    pub threshold: u16,
    pub authority: VerifyingKey,
    pub registrar: VerifyingKey,
    pub board: VerifyingKey,
    pub trustees: Vec<TrusteeEntry>,
    pub witnesses: Vec<WitnessEntry>,
    /// `None`: the default quorum (a majority of the witnesses).
    pub witness_quorum: Option<u16>,
    /// TOML holding the `[[contests]]` and `[[ballot_styles]]` tables.
    pub contests: String,
}

impl ManifestBuilder {
    /// A manifest with the example's contests and styles, no trustees and no witnesses yet.
    pub fn new(
        election_id: &str,
        title: &str,
        authority: VerifyingKey,
        registrar: VerifyingKey,
        board: VerifyingKey,
    ) -> ManifestBuilder {
        ManifestBuilder {
            election_id: election_id.to_string(),
            title: title.to_string(),
            titles: Vec::new(),
            revote: RevotePolicy::LatestCounts,
            threshold: 1,
            authority,
            registrar,
            board,
            trustees: Vec::new(),
            witnesses: Vec::new(),
            witness_quorum: None,
            contests: EXAMPLE.to_string(),
        }
    }

    /// The election's title in another language.
    pub fn title_in(mut self, lang: &str, text: &str) -> Self {
        self.titles.push((lang.to_string(), text.to_string()));
        self
    }

    pub fn threshold(mut self, t: u16) -> Self {
        self.threshold = t;
        self
    }

    pub fn revote(mut self, r: RevotePolicy) -> Self {
        self.revote = r;
        self
    }

    /// Contests and styles from this TOML instead of the example's.
    pub fn contests(mut self, toml: &str) -> Self {
        self.contests = toml.to_string();
        self
    }

    pub fn trustee(mut self, name: &str, signing_key: VerifyingKey, ceremony_key: Point) -> Self {
        self.trustees.push(TrusteeEntry {
            name: name.to_string(),
            signing_key,
            ceremony_key,
        });
        self
    }

    pub fn witness(mut self, name: &str, key: VerifyingKey, url: &str) -> Self {
        self.witnesses.push(WitnessEntry {
            name: name.to_string(),
            key,
            url: url.to_string(),
            node: false,
        });
        self
    }

    /// A validating node (a member of the witness list with `role = "node"`).
    pub fn node(mut self, name: &str, key: VerifyingKey, url: &str) -> Self {
        self.witnesses.push(WitnessEntry {
            name: name.to_string(),
            key,
            url: url.to_string(),
            node: true,
        });
        self
    }

    /// The TOML authoring form: the typed parts written as TOML values, then the authored
    /// contests and styles as they were written (comments and layout kept).
    pub fn to_toml(&self) -> Result<String, ManifestError> {
        let bad = |e: toml_edit::TomlError| ManifestError::Toml(e.to_string());
        let key = |k: &VerifyingKey| value(hex::encode(k.as_bytes()));
        let mut head = DocumentMut::new();
        head["election_id"] = value(self.election_id.as_str());
        head["title"] = value(self.title.as_str());
        if !self.titles.is_empty() {
            let mut titles = toml_edit::InlineTable::new();
            for (lang, text) in &self.titles {
                titles.insert(lang, text.as_str().into());
            }
            head["titles"] = value(titles);
        }
        head["revote"] = value(match self.revote {
            RevotePolicy::LatestCounts => "latest-counts",
            RevotePolicy::Forbidden => "forbidden",
        });
        head["threshold"] = value(i64::from(self.threshold));
        if let Some(q) = self.witness_quorum {
            head["witness_quorum"] = value(i64::from(q));
        }
        let mut keys = Table::new();
        keys["authority"] = key(&self.authority);
        keys["registrar"] = key(&self.registrar);
        keys["board"] = key(&self.board);
        head["keys"] = Item::Table(keys);
        let mut trustees = ArrayOfTables::new();
        for tr in &self.trustees {
            let mut t = Table::new();
            t["name"] = value(tr.name.as_str());
            t["signing_key"] = key(&tr.signing_key);
            t["ceremony_key"] = value(hex::encode(tr.ceremony_key.as_bytes()));
            trustees.push(t);
        }
        head["trustees"] = Item::ArrayOfTables(trustees);
        if !self.witnesses.is_empty() {
            let mut witnesses = ArrayOfTables::new();
            for w in &self.witnesses {
                let mut t = Table::new();
                t["name"] = value(w.name.as_str());
                t["key"] = key(&w.key);
                t["url"] = value(w.url.as_str());
                if w.node {
                    t["role"] = value("node");
                }
                witnesses.push(t);
            }
            head["witnesses"] = Item::ArrayOfTables(witnesses);
        }
        let mut authored: DocumentMut = self.contests.parse().map_err(bad)?;
        let other: Vec<String> = authored
            .iter()
            .map(|(k, _)| k.to_string())
            .filter(|k| k != "contests" && k != "ballot_styles")
            .collect();
        for k in other {
            authored.remove(&k);
        }
        Ok(format!("{head}\n{}", authored.to_string().trim_start()))
    }

    /// The manifest, validated as [`Manifest::from_toml`] validates an authority's.
    pub fn build(&self) -> Result<Manifest, ManifestError> {
        Manifest::from_toml(&self.to_toml()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use urna_crypto::sign::SigningKey;

    #[test]
    fn a_built_manifest_reads_back_as_authored() {
        let k = |i: u8| SigningKey::from_seed(&[i; 32]).verifying_key();
        let ceremony =
            |x: u64| Point::from_point(urna_crypto::group::mul_g(&urna_crypto::Scalar::from(x)));
        let b = ManifestBuilder::new(
            "vote.example.org/x",
            "Ein \"Titel\" — 标题",
            k(1),
            k(2),
            k(3),
        )
        .threshold(2)
        .trustee("T1", k(4), ceremony(7))
        .trustee("T2", k(5), ceremony(8))
        .witness("w1.example", k(6), "http://127.0.0.1:1");
        let m = b.build().unwrap();
        assert_eq!(m.title, "Ein \"Titel\" — 标题");
        assert_eq!(m.threshold, 2);
        assert_eq!(m.board_key, k(3));
        assert_eq!(m.trustees[1].signing_key, k(5));
        assert_eq!(m.witnesses[0].url, "http://127.0.0.1:1");
        assert_eq!(m.witness_quorum, 1);
        let example = Manifest::from_toml(EXAMPLE).unwrap();
        assert_eq!(m.contests, example.contests);
        assert_eq!(m.ballot_styles, example.ballot_styles);
    }
}
