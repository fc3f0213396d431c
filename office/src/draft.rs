//! A manifest as a form holds it while the authority writes it: every field as typed (numbers
//! as text), contests and styles named by id. [`Draft::to_toml`] writes the TOML authoring form
//! (`specs/examples/manifest.toml`), so what a console posts is a file `urna authority setup`
//! would post too, and [`Draft::check`] reads it back through [`Manifest::from_toml`]: the
//! rules validate it, and each [`ManifestError`] is placed at the field it is about
//! ([`Problem::field`], a path such as `contests.2.options.1.id`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml_edit::{value, Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table};
use urna_election::manifest::{Manifest, ManifestError};

/// Texts in other languages: BCP 47 tag → text (empty texts are left out).
pub type Texts = BTreeMap<String, String>;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Draft {
    pub election_id: String,
    pub title: String,
    pub titles: Texts,
    pub opens: String,
    pub closes: String,
    /// `latest-counts` (default) or `forbidden`.
    pub revote: String,
    pub threshold: String,
    pub keys: Keys,
    pub trustees: Vec<TrusteeDraft>,
    /// Witnesses and validating nodes (`role = "node"`).
    pub witnesses: Vec<WitnessDraft>,
    /// Empty: the default quorum (a majority of the witnesses).
    pub witness_quorum: String,
    pub contests: Vec<ContestDraft>,
    pub ballot_styles: Vec<StyleDraft>,
    /// Empty: the default when a contest is ranked (the trustees, in order).
    pub mixers: Vec<MixerDraft>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Keys {
    pub authority: String,
    pub registrar: String,
    pub board: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrusteeDraft {
    pub name: String,
    pub signing_key: String,
    pub ceremony_key: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WitnessDraft {
    pub name: String,
    pub key: String,
    pub url: String,
    /// `witness` (or empty) or `node` (a validating node).
    pub role: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MixerDraft {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContestDraft {
    pub id: String,
    pub title: String,
    pub titles: Texts,
    /// `plurality`, `approval`, `score`, `referendum` or `ranked`.
    pub kind: String,
    /// Plurality: exactly one (`true`) or at most one.
    pub exactly: bool,
    /// Approval: min and max options; score: max points per option.
    pub min: String,
    pub max: String,
    /// Score: the points in all (empty: no budget).
    pub budget: String,
    /// Referendum: a blank option.
    pub blank: bool,
    /// Ranked: `irv`, `stv` or `schulze`, seats, ranks, write-ins and their length.
    pub method: String,
    pub seats: String,
    pub ranks: String,
    pub write_ins: String,
    pub write_in_len: String,
    pub options: Vec<OptionDraft>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OptionDraft {
    pub id: String,
    pub name: String,
    pub names: Texts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StyleDraft {
    pub id: String,
    pub title: String,
    pub titles: Texts,
    /// Contest ids.
    pub contests: Vec<String>,
}

/// What is wrong with a draft, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The field's path in the draft (`threshold`, `contests.2.options.1.id`,
    /// `trustees.0.signing_key`), or empty when it is about the manifest as a whole.
    pub field: String,
    /// Stable: the cause (`empty-text`, `duplicate-option`, `bad-threshold`, `bad-key`,
    /// `not-a-number`, …), for a console to say it in the reader's language.
    pub code: &'static str,
    /// The details the sentence needs (ids, numbers), by name.
    pub params: BTreeMap<&'static str, String>,
    /// The sentence in English, as the rules say it.
    pub message: String,
}

impl Problem {
    fn at(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            field: field.into(),
            code,
            params: BTreeMap::new(),
            message: message.into(),
        }
    }

    fn with(mut self, k: &'static str, v: impl ToString) -> Problem {
        self.params.insert(k, v.to_string());
        self
    }
}

/// A number field: empty is `None`; anything but a whole number in range is a problem there.
fn number(text: &str, field: &str) -> Result<Option<i64>, Problem> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<u32>() {
        Ok(n) => Ok(Some(i64::from(n))),
        Err(_) => Err(Problem::at(
            field,
            "not-a-number",
            format!("{t:?} is not a whole number"),
        )
        .with("value", t)),
    }
}

fn texts(t: &Texts) -> Option<InlineTable> {
    let mut table = InlineTable::new();
    for (lang, text) in t {
        if !text.trim().is_empty() {
            table.insert(lang, text.as_str().into());
        }
    }
    (!table.is_empty()).then_some(table)
}

impl Draft {
    /// The TOML authoring form. Number fields that are not numbers are problems at their
    /// field; everything else is for the rules to judge.
    pub fn to_toml(&self) -> Result<String, Problem> {
        // An empty list of tables is no table at all in TOML: say what the rules would.
        for (empty, field, code, what) in [
            (
                self.trustees.is_empty(),
                "trustees",
                "no-trustees",
                "the election has no trustees",
            ),
            (
                self.contests.is_empty(),
                "contests",
                "no-contests",
                "the election has no contests",
            ),
            (
                self.ballot_styles.is_empty(),
                "ballot_styles",
                "no-styles",
                "the election has no ballot styles",
            ),
        ] {
            if empty {
                return Err(Problem::at(field, code, what));
            }
        }
        let mut doc = DocumentMut::new();
        doc["election_id"] = value(self.election_id.trim());
        doc["title"] = value(self.title.as_str());
        if let Some(t) = texts(&self.titles) {
            doc["titles"] = value(t);
        }
        for (name, v) in [("opens", &self.opens), ("closes", &self.closes)] {
            if !v.trim().is_empty() {
                doc[name] = value(v.trim());
            }
        }
        if !self.revote.is_empty() {
            doc["revote"] = value(self.revote.as_str());
        }
        doc["threshold"] = value(number(&self.threshold, "threshold")?.ok_or_else(|| {
            Problem::at("threshold", "missing", "the threshold is required")
                .with("field", "threshold")
        })?);
        if let Some(q) = number(&self.witness_quorum, "witness_quorum")? {
            doc["witness_quorum"] = value(q);
        }
        let mut keys = Table::new();
        keys["authority"] = value(self.keys.authority.trim());
        keys["registrar"] = value(self.keys.registrar.trim());
        keys["board"] = value(self.keys.board.trim());
        doc["keys"] = Item::Table(keys);
        let mut trustees = ArrayOfTables::new();
        for t in &self.trustees {
            let mut row = Table::new();
            row["name"] = value(t.name.as_str());
            row["signing_key"] = value(t.signing_key.trim());
            row["ceremony_key"] = value(t.ceremony_key.trim());
            trustees.push(row);
        }
        doc["trustees"] = Item::ArrayOfTables(trustees);
        let mut witnesses = ArrayOfTables::new();
        for w in &self.witnesses {
            let mut row = Table::new();
            row["name"] = value(w.name.as_str());
            row["key"] = value(w.key.trim());
            row["url"] = value(w.url.trim());
            if !w.role.trim().is_empty() {
                row["role"] = value(w.role.trim());
            }
            witnesses.push(row);
        }
        doc["witnesses"] = Item::ArrayOfTables(witnesses);
        let mut contests = ArrayOfTables::new();
        for (i, c) in self.contests.iter().enumerate() {
            contests.push(self.contest_table(i, c)?);
        }
        doc["contests"] = Item::ArrayOfTables(contests);
        let mut styles = ArrayOfTables::new();
        for s in &self.ballot_styles {
            let mut row = Table::new();
            row["id"] = value(s.id.as_str());
            if !s.title.trim().is_empty() {
                row["title"] = value(s.title.as_str());
            }
            if let Some(t) = texts(&s.titles) {
                row["titles"] = value(t);
            }
            row["contests"] = value(s.contests.iter().map(String::as_str).collect::<Array>());
            styles.push(row);
        }
        doc["ballot_styles"] = Item::ArrayOfTables(styles);
        if !self.mixers.is_empty() {
            let mut mixers = ArrayOfTables::new();
            for x in &self.mixers {
                let mut row = Table::new();
                row["name"] = value(x.name.as_str());
                row["key"] = value(x.key.trim());
                mixers.push(row);
            }
            doc["mixers"] = Item::ArrayOfTables(mixers);
        }
        Ok(doc.to_string())
    }

    fn contest_table(&self, i: usize, c: &ContestDraft) -> Result<Table, Problem> {
        let mut row = Table::new();
        row["id"] = value(c.id.as_str());
        row["title"] = value(c.title.as_str());
        if let Some(t) = texts(&c.titles) {
            row["titles"] = value(t);
        }
        row["kind"] = value(c.kind.as_str());
        let num = |name: &str, text: &str| number(text, &format!("contests.{i}.{name}"));
        let put = |row: &mut Table, name: &str, text: &str| -> Result<(), Problem> {
            if let Some(n) = num(name, text)? {
                row[name] = value(n);
            }
            Ok(())
        };
        match c.kind.as_str() {
            "plurality" => row["exactly"] = value(c.exactly),
            "approval" => {
                put(&mut row, "min", &c.min)?;
                put(&mut row, "max", &c.max)?;
            }
            "score" => {
                put(&mut row, "max", &c.max)?;
                put(&mut row, "budget", &c.budget)?;
            }
            "referendum" => row["blank"] = value(c.blank),
            "ranked" => {
                if !c.method.is_empty() {
                    row["method"] = value(c.method.as_str());
                }
                put(&mut row, "seats", &c.seats)?;
                put(&mut row, "ranks", &c.ranks)?;
                put(&mut row, "write_ins", &c.write_ins)?;
                put(&mut row, "write_in_len", &c.write_in_len)?;
            }
            _ => {}
        }
        if c.kind != "referendum" {
            let mut options = Array::new();
            for o in &c.options {
                let mut t = InlineTable::new();
                t.insert("id", o.id.as_str().into());
                t.insert("name", o.name.as_str().into());
                if let Some(names) = texts(&o.names) {
                    t.insert("names", names.into());
                }
                options.push(t);
            }
            row["options"] = value(options);
        }
        Ok(row)
    }

    /// The manifest, validated by the rules; or the problem, placed at its field.
    pub fn check(&self) -> Result<Manifest, Problem> {
        let toml = self.to_toml()?;
        Manifest::from_toml(&toml).map_err(|e| self.place(&e))
    }

    fn contest_index(&self, id: &str) -> Option<usize> {
        self.contests.iter().position(|c| c.id == id)
    }

    fn style_index(&self, id: &str) -> Option<usize> {
        self.ballot_styles.iter().position(|s| s.id == id)
    }

    /// The second item with the same id (the one the rules call a duplicate).
    fn second<'a>(ids: impl Iterator<Item = &'a str>, id: &str) -> Option<usize> {
        ids.enumerate()
            .filter(|(_, x)| *x == id)
            .map(|(i, _)| i)
            .nth(1)
    }

    /// Where a key with this hex is written: its second place if it appears twice.
    fn key_field(&self, hex: &str) -> String {
        let mut places = vec![
            ("keys.authority".to_string(), self.keys.authority.trim()),
            ("keys.registrar".to_string(), self.keys.registrar.trim()),
            ("keys.board".to_string(), self.keys.board.trim()),
        ];
        for (i, t) in self.trustees.iter().enumerate() {
            places.push((format!("trustees.{i}.signing_key"), t.signing_key.trim()));
            places.push((format!("trustees.{i}.ceremony_key"), t.ceremony_key.trim()));
        }
        let found: Vec<&String> = places
            .iter()
            .filter(|(_, k)| k.eq_ignore_ascii_case(hex))
            .map(|(f, _)| f)
            .collect();
        found
            .get(1)
            .or(found.first())
            .map_or_else(|| "trustees".to_string(), |f| (*f).clone())
    }

    /// A field as the rules name it in a message (`trustee 1 name`, `contest "x" option "o"
    /// name in zh-CN`, `witness "w" key`, `keys.board`, …) as a path in the draft.
    fn named_field(&self, name: &str) -> String {
        let (name, lang) = match name.rsplit_once(" in ") {
            Some((n, l)) if !l.contains(' ') => (n, Some(l)),
            _ => (name, None),
        };
        let translated = |path: String, attr: &str, plural: &str| match lang {
            Some(l) => format!("{path}.{plural}.{l}"),
            None => format!("{path}.{attr}"),
        };
        let words = words(name);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let quoted = |s: &str| s.trim_matches('"').to_string();
        let pick = |s: &str, find: &dyn Fn(&str) -> Option<usize>| -> Option<usize> {
            if s.starts_with('"') {
                find(&quoted(s))
            } else {
                s.parse::<usize>().ok().and_then(|n| n.checked_sub(1))
            }
        };
        match words.as_slice() {
            ["title"] => translated(String::new(), "title", "titles")
                .trim_start_matches('.')
                .to_string(),
            ["election_id"] | ["opens"] | ["closes"] => name.to_string(),
            ["authority_key"] => "keys.authority".into(),
            ["registrar_key"] => "keys.registrar".into(),
            ["board_key"] => "keys.board".into(),
            [k] if k.starts_with("keys.") => (*k).to_string(),
            ["trustee", who, rest @ ..] => {
                let i = pick(who, &|n| self.trustees.iter().position(|t| t.name == n));
                match i {
                    Some(i) => format!("trustees.{i}.{}", rest.join("_")),
                    None => "trustees".into(),
                }
            }
            ["witness", who, rest @ ..] => {
                match pick(who, &|n| self.witnesses.iter().position(|w| w.name == n)) {
                    Some(i) => format!("witnesses.{i}.{}", rest.join("_")),
                    None => "witnesses".into(),
                }
            }
            ["mixer", who, rest @ ..] => {
                match pick(who, &|n| self.mixers.iter().position(|x| x.name == n)) {
                    Some(i) => format!("mixers.{i}.{}", rest.join("_")),
                    None => "mixers".into(),
                }
            }
            ["contest", who, "option", o, attr] => {
                let Some(i) = pick(who, &|n| self.contest_index(n)) else {
                    return "contests".into();
                };
                let options = &self.contests[i].options;
                match pick(o, &|n| options.iter().position(|x| x.id == n)) {
                    Some(j) => translated(format!("contests.{i}.options.{j}"), attr, "names"),
                    None => format!("contests.{i}.options"),
                }
            }
            ["contest", who, attr] => match pick(who, &|n| self.contest_index(n)) {
                Some(i) => translated(format!("contests.{i}"), attr, "titles"),
                None => "contests".into(),
            },
            ["ballot", "style", who, attr] => match pick(who, &|n| self.style_index(n)) {
                Some(i) => translated(format!("ballot_styles.{i}"), attr, "titles"),
                None => "ballot_styles".into(),
            },
            _ => String::new(),
        }
    }

    /// A translations problem belongs to the field's `titles`/`names` as a whole.
    fn translations_field(&self, name: &str) -> String {
        let path = self.named_field(name);
        match path.rsplit_once('.') {
            Some((head, "title")) => format!("{head}.titles"),
            Some((head, "name")) => format!("{head}.names"),
            None if path == "title" => "titles".into(),
            _ => path,
        }
    }

    fn contest_field(&self, id: &str, attr: &str) -> String {
        match self.contest_index(id) {
            Some(i) => format!("contests.{i}.{attr}"),
            None => "contests".into(),
        }
    }

    fn style_field(&self, id: &str, attr: &str) -> String {
        match self.style_index(id) {
            Some(i) => format!("ballot_styles.{i}.{attr}"),
            None => "ballot_styles".into(),
        }
    }

    /// The problem a [`ManifestError`] is, at the field it is about.
    pub fn place(&self, e: &ManifestError) -> Problem {
        use ManifestError as E;
        let message = e.to_string();
        let p = |field: String, code: &'static str| Problem::at(field, code, message.clone());
        match e {
            E::Toml(_) => p(String::new(), "toml"),
            E::BadElectionId(_) => p("election_id".into(), "bad-election-id"),
            E::BadWitnessQuorum { quorum, n } => p("witness_quorum".into(), "bad-witness-quorum")
                .with("quorum", quorum)
                .with("n", n),
            E::EmptyText { field } => p(self.named_field(field), "empty-text"),
            E::TooLong { field, max, .. } => {
                p(self.named_field(field), "too-long").with("max", max)
            }
            E::TooMany { what, max, .. } => {
                p(what.replace("ballot styles", "ballot_styles"), "too-many").with("max", max)
            }
            E::DuplicateContest(id) => {
                let i = Self::second(self.contests.iter().map(|c| c.id.as_str()), id);
                p(
                    i.map_or("contests".into(), |i| format!("contests.{i}.id")),
                    "duplicate-contest",
                )
                .with("id", id)
            }
            E::DuplicateOption { contest, option } => {
                let field = self.contest_index(contest).map_or("contests".into(), |i| {
                    let ids = self.contests[i].options.iter().map(|o| o.id.as_str());
                    Self::second(ids, option).map_or(format!("contests.{i}.options"), |j| {
                        format!("contests.{i}.options.{j}.id")
                    })
                });
                p(field, "duplicate-option").with("id", option)
            }
            E::DuplicateStyle(id) => {
                let i = Self::second(self.ballot_styles.iter().map(|s| s.id.as_str()), id);
                p(
                    i.map_or("ballot_styles".into(), |i| format!("ballot_styles.{i}.id")),
                    "duplicate-style",
                )
                .with("id", id)
            }
            E::UnknownContest { style, contest } => {
                p(self.style_field(style, "contests"), "unknown-contest").with("id", contest)
            }
            E::RepeatedContest { style, contest } => {
                p(self.style_field(style, "contests"), "repeated-contest").with("id", contest)
            }
            E::EmptyStyle(id) => p(self.style_field(id, "contests"), "empty-style"),
            E::NoStyles => p("ballot_styles".into(), "no-styles"),
            E::NoContests => p("contests".into(), "no-contests"),
            E::EmptyContest(id) => p(self.contest_field(id, "options"), "empty-contest"),
            E::TooManyOptions { contest, max, .. } => {
                p(self.contest_field(contest, "options"), "too-many-options").with("max", max)
            }
            E::MaxBelowMin { contest, min, max } => {
                p(self.contest_field(contest, "max"), "max-below-min")
                    .with("min", min)
                    .with("max", max)
            }
            E::MaxAboveOptions {
                contest,
                max,
                options,
            } => p(self.contest_field(contest, "max"), "max-above-options")
                .with("max", max)
                .with("options", options),
            E::BadScoreMax { contest, .. } => {
                p(self.contest_field(contest, "max"), "bad-score-max")
            }
            E::BadBudget { contest, .. } => p(self.contest_field(contest, "budget"), "bad-budget"),
            E::ReferendumOptions(id) => p(self.contest_field(id, "options"), "referendum-options"),
            E::NoTrustees => p("trustees".into(), "no-trustees"),
            E::TooManyTrustees { .. } => p("trustees".into(), "too-many-trustees"),
            E::BadThreshold { t, n } => p("threshold".into(), "bad-threshold")
                .with("t", t)
                .with("n", n),
            E::DuplicateKey(k) => match k.strip_prefix("witness ") {
                Some(name) => {
                    let i = Self::second(self.witnesses.iter().map(|w| w.name.as_str()), name)
                        .or_else(|| self.witnesses.iter().position(|w| w.name == name));
                    p(
                        i.map_or("witnesses".into(), |i| format!("witnesses.{i}.key")),
                        "duplicate-key",
                    )
                }
                None => p(self.key_field(k), "duplicate-key"),
            },
            E::BadKey { what, reason } => {
                p(self.named_field(what), "bad-key").with("reason", reason)
            }
            E::KeyNotPrimeOrder { field } => p(self.named_field(field), "key-not-prime-order"),
            E::BadLanguageTag { field, tag } => {
                p(self.translations_field(field), "bad-language-tag").with("tag", tag)
            }
            E::LanguageTagCase {
                field,
                tag,
                canonical,
            } => p(self.translations_field(field), "language-tag-case")
                .with("tag", tag)
                .with("canonical", canonical),
            E::UnsortedLanguages { field, tag } => {
                p(self.translations_field(field), "unsorted-languages").with("tag", tag)
            }
            E::TooManyTranslations { field, max, .. } => {
                p(self.translations_field(field), "too-many-translations").with("max", max)
            }
            E::TranslationsWithoutTitle(id) => {
                p(self.style_field(id, "title"), "translations-without-title")
            }
            E::BadRevote(_) => p("revote".into(), "bad-revote"),
            E::BadKind(kind) => {
                let i = self.contests.iter().position(|c| &c.kind == kind);
                p(
                    i.map_or("contests".into(), |i| format!("contests.{i}.kind")),
                    "bad-kind",
                )
            }
            E::UnusedField { contest, field, .. } => {
                p(self.contest_field(contest, field), "unused-field")
            }
            E::MissingField { contest, field, .. } => {
                p(self.contest_field(contest, field), "missing-field")
            }
            E::BadRanked { contest, reason } => {
                let attr = ["write_in_len", "write_ins", "seats", "ranks", "method"]
                    .into_iter()
                    .find(|a| reason.contains(a) || (*a == "method" && reason.contains("IRV")))
                    .unwrap_or(if reason.contains("write-ins") {
                        "write_ins"
                    } else {
                        "options"
                    });
                p(self.contest_field(contest, attr), "bad-ranked").with("reason", reason)
            }
            E::BadMethod(m) => {
                let i = self.contests.iter().position(|c| &c.method == m);
                p(
                    i.map_or("contests".into(), |i| format!("contests.{i}.method")),
                    "bad-method",
                )
            }
            E::Mixers(why) => p("mixers".into(), "mixers").with("reason", why),
        }
    }
}

/// A field's name split into words, a quoted name (which may hold spaces) kept as one word
/// with its quotes.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in name.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                cur.push(ch);
            }
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(ch),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The ballots as voters will see them in one language: each style's contests with their
/// titles, rules and options' names, as the rules pick the language (§2.4).
#[derive(Debug, Clone, Serialize)]
pub struct BallotPreview {
    /// The BCP 47 tag; empty for the manifest's own texts.
    pub lang: String,
    pub title: String,
    pub styles: Vec<StylePreview>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StylePreview {
    pub id: String,
    pub title: String,
    pub contests: Vec<ContestPreview>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContestPreview {
    pub id: String,
    pub title: String,
    /// The contest's kind and limits, as in the manifest's JSON (`{"kind": "approval",
    /// "min": 0, "max": 2}`).
    pub rule: serde_json::Value,
    /// (option id, name in this language).
    pub options: Vec<(String, String)>,
}

/// Every language the manifest has a text in, the manifest's own texts first (as `""`).
pub fn languages(m: &Manifest) -> Vec<String> {
    let mut tags = std::collections::BTreeSet::new();
    let mut add = |t: &urna_election::manifest::Translations| {
        for x in &t.0 {
            tags.insert(x.lang.clone());
        }
    };
    add(&m.titles);
    for c in &m.contests {
        add(&c.titles);
        for o in &c.options {
            add(&o.names);
        }
    }
    for s in &m.ballot_styles {
        add(&s.titles);
    }
    std::iter::once(String::new()).chain(tags).collect()
}

/// The ballots in every language of the manifest.
pub fn preview(m: &Manifest) -> Vec<BallotPreview> {
    languages(m)
        .into_iter()
        .map(|lang| BallotPreview {
            title: m.title_in(&lang).to_string(),
            styles: m
                .ballot_styles
                .iter()
                .map(|s| StylePreview {
                    id: s.id.clone(),
                    title: s.title_in(&lang).to_string(),
                    contests: s
                        .contests
                        .iter()
                        .filter_map(|i| m.contests.get(usize::from(*i)))
                        .map(|c| ContestPreview {
                            id: c.id.clone(),
                            title: c.title_in(&lang).to_string(),
                            rule: serde_json::to_value(c.kind).unwrap_or_default(),
                            options: c
                                .options
                                .iter()
                                .map(|o| (o.id.clone(), o.name_in(&lang).to_string()))
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            lang,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn hexkey(i: u8) -> String {
        urna_crypto::hex::encode(
            urna_crypto::sign::SigningKey::from_seed(&[i; 32])
                .verifying_key()
                .as_bytes(),
        )
    }

    fn ceremony(x: u64) -> String {
        urna_crypto::hex::encode(
            urna_crypto::group::Point::from_point(urna_crypto::group::mul_g(
                &urna_crypto::Scalar::from(x),
            ))
            .as_bytes(),
        )
    }

    fn good() -> Draft {
        let texts = |zh: &str| Texts::from([("zh-CN".to_string(), zh.to_string())]);
        Draft {
            election_id: "vote.example.org/draft".into(),
            title: "A \"quoted\" election".into(),
            titles: texts("选举"),
            threshold: "2".into(),
            keys: Keys {
                authority: hexkey(1),
                registrar: hexkey(2),
                board: hexkey(3),
            },
            trustees: (0..3)
                .map(|i| TrusteeDraft {
                    name: format!("Trustee {i}"),
                    signing_key: hexkey(10 + i),
                    ceremony_key: ceremony(u64::from(i) + 7),
                })
                .collect(),
            contests: vec![
                ContestDraft {
                    id: "mayor".into(),
                    title: "Mayor".into(),
                    titles: texts("市长"),
                    kind: "plurality".into(),
                    exactly: true,
                    options: ["a", "b"]
                        .iter()
                        .map(|id| OptionDraft {
                            id: (*id).into(),
                            name: id.to_uppercase(),
                            names: Texts::new(),
                        })
                        .collect(),
                    ..ContestDraft::default()
                },
                ContestDraft {
                    id: "m".into(),
                    title: "Measure".into(),
                    kind: "referendum".into(),
                    blank: true,
                    ..ContestDraft::default()
                },
            ],
            ballot_styles: vec![StyleDraft {
                id: "all".into(),
                title: "Everyone".into(),
                titles: texts("所有人"),
                contests: vec!["mayor".into(), "m".into()],
            }],
            ..Draft::default()
        }
    }

    #[test]
    fn a_good_draft_is_the_manifest_its_toml_says() {
        let mut d = good();
        d.witnesses = vec![
            WitnessDraft {
                name: "w.example".into(),
                key: hexkey(30),
                url: "https://w.example".into(),
                role: String::new(),
            },
            WitnessDraft {
                name: "node.example".into(),
                key: hexkey(31),
                url: "https://node.example".into(),
                role: "node".into(),
            },
        ];
        let m = d.check().unwrap();
        assert!(!m.witnesses[0].is_node() && m.witnesses[1].is_node());
        assert_eq!(m.title, "A \"quoted\" election");
        assert_eq!(m.title_in("zh-CN"), "选举");
        assert_eq!(m.contests[1].options.len(), 3);
        assert_eq!(Manifest::from_toml(&d.to_toml().unwrap()).unwrap(), m);
        let p = preview(&m);
        assert_eq!(
            p.iter().map(|b| b.lang.as_str()).collect::<Vec<_>>(),
            ["", "zh-CN"]
        );
        assert_eq!(p[1].title, "选举");
        assert_eq!(p[1].styles[0].contests[0].title, "市长");
        assert_eq!(p[1].styles[0].contests[0].rule["kind"], "plurality");
        assert_eq!(p[0].styles[0].contests[1].options.len(), 3);
    }

    /// Each bad input is placed at its field, with its cause.
    #[test]
    fn problems_are_placed_at_their_fields() {
        type Case = (
            &'static str,
            Box<dyn Fn(&mut Draft)>,
            &'static str,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (
                "empty contest",
                Box::new(|d| d.contests[0].options.truncate(1)),
                "contests.0.options",
                "empty-contest",
            ),
            (
                "duplicate option id",
                Box::new(|d| d.contests[0].options[1].id = "a".into()),
                "contests.0.options.1.id",
                "duplicate-option",
            ),
            (
                "threshold above the trustees",
                Box::new(|d| d.threshold = "4".into()),
                "threshold",
                "bad-threshold",
            ),
            (
                "malformed trustee key",
                Box::new(|d| d.trustees[1].signing_key = "12zz".into()),
                "trustees.1.signing_key",
                "bad-key",
            ),
            (
                "malformed ceremony key",
                Box::new(|d| d.trustees[2].ceremony_key = hexkey(9)),
                "trustees.2.ceremony_key",
                "bad-key",
            ),
            (
                "threshold not a number",
                Box::new(|d| d.threshold = "two".into()),
                "threshold",
                "not-a-number",
            ),
            (
                "empty option name",
                Box::new(|d| d.contests[0].options[1].name = String::new()),
                "contests.0.options.1.name",
                "empty-text",
            ),
            (
                "bad language tag",
                Box::new(|d| {
                    d.contests[0].titles.insert("zh_CN".into(), "市长".into());
                }),
                "contests.0.titles",
                "bad-language-tag",
            ),
            (
                "empty title in a language",
                Box::new(|d| d.ballot_styles[0].title = String::new()),
                "ballot_styles.0.title",
                "translations-without-title",
            ),
            (
                "style naming no contest",
                Box::new(|d| d.ballot_styles[0].contests = vec!["nope".into()]),
                "ballot_styles.0.contests",
                "unknown-contest",
            ),
            (
                "duplicate contest",
                Box::new(|d| d.contests[1].id = "mayor".into()),
                "contests.1.id",
                "duplicate-contest",
            ),
            (
                "duplicate trustee key",
                Box::new(|d| d.trustees[2].signing_key = d.trustees[0].signing_key.clone()),
                "trustees.2.signing_key",
                "duplicate-key",
            ),
            (
                "approval max above options",
                Box::new(|d| {
                    d.contests[0].kind = "approval".into();
                    d.contests[0].max = "3".into();
                }),
                "contests.0.max",
                "max-above-options",
            ),
            (
                "witness quorum",
                Box::new(|d| d.witness_quorum = "2".into()),
                "witness_quorum",
                "bad-witness-quorum",
            ),
            (
                "bad election id",
                Box::new(|d| d.election_id = "https://Vote".into()),
                "election_id",
                "bad-election-id",
            ),
            (
                "no contest",
                Box::new(|d| d.contests.clear()),
                "contests",
                "no-contests",
            ),
            (
                "no trustee",
                Box::new(|d| d.trustees.clear()),
                "trustees",
                "no-trustees",
            ),
            (
                "IRV with seats",
                Box::new(|d| {
                    d.contests[0].kind = "ranked".into();
                    d.contests[0].method = "irv".into();
                    d.contests[0].seats = "2".into();
                    d.contests[0].options.push(OptionDraft {
                        id: "c".into(),
                        name: "C".into(),
                        names: Texts::new(),
                    });
                }),
                "contests.0.method",
                "bad-ranked",
            ),
        ];
        for (what, change, field, code) in cases {
            let mut d = good();
            change(&mut d);
            let p = d.check().expect_err(what);
            assert_eq!((p.field.as_str(), p.code), (field, code), "{what}: {p:?}");
        }
    }
}
