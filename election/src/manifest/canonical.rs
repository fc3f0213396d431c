//! The canonical binary form of a manifest (`specs/election.md` §2.3): what a `Setup` entry
//! carries, and what the manifest hash — bound by every proof through the election context —
//! is computed over. Decoding is strict; [`Manifest::decode_unvalidated`] parses without the
//! rules so the state machine can name the rule a manifest breaks.

use sha2::{Digest, Sha256};
use urna_crypto::codec::{Decode, Encode, Reader, Writer};
use urna_crypto::errors::DecodeError;
use urna_crypto::group::Point;
use urna_crypto::sign::VerifyingKey;

use super::ranked::{read_mixers, read_rules, write_mixers, write_rules};
use super::{
    BallotStyle, Contest, ContestKind, ContestOption, Manifest, ManifestError, RevotePolicy, Role,
    Translation, Translations, Trustee, Witness, MAX_TRUSTEES,
};

impl Manifest {
    /// `SHA-256("urna-v1 manifest" ‖ canonical bytes)` (of [`Encode`]'s bytes, for a manifest
    /// without a canonical form).
    pub fn hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"urna-v1 manifest");
        h.update(self.to_bytes());
        h.finalize().into()
    }
}

const MANIFEST_MAGIC: &[u8; 8] = b"urna-m01";

fn put_bool(out: &mut Vec<u8>, b: bool) {
    out.put_u8(u8::from(b));
}

fn get_bool(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::Invalid("boolean must be 0 or 1")),
    }
}

/// Writes a `str8`, refusing — never truncating — a text longer than 255 bytes.
fn put_str8(
    out: &mut Vec<u8>,
    s: &str,
    field: impl FnOnce() -> String,
) -> Result<(), ManifestError> {
    let n = u8::try_from(s.len()).map_err(|_| too_long(field(), s.len(), u8::MAX.into()))?;
    out.put_u8(n);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Writes a `str16`, refusing a text longer than 65,535 bytes.
fn put_str16(
    out: &mut Vec<u8>,
    s: &str,
    field: impl FnOnce() -> String,
) -> Result<(), ManifestError> {
    let n = u16::try_from(s.len()).map_err(|_| too_long(field(), s.len(), u16::MAX.into()))?;
    out.put_u16(n);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn too_long(field: String, len: usize, max: usize) -> ManifestError {
    ManifestError::TooLong { field, len, max }
}

/// An item count in the given width, refusing a count that does not fit it.
fn count<T: TryFrom<usize>>(what: &'static str, n: usize, max: usize) -> Result<T, ManifestError> {
    T::try_from(n).map_err(|_| ManifestError::TooMany {
        what,
        count: n,
        max,
    })
}

/// An optional `str8`, where the empty string stands for "absent": `Some("")` has no encoding.
fn put_opt_str8(out: &mut Vec<u8>, s: &Option<String>, field: &str) -> Result<(), ManifestError> {
    match s.as_deref() {
        Some("") => Err(ManifestError::EmptyText {
            field: field.into(),
        }),
        other => put_str8(out, other.unwrap_or(""), || field.into()),
    }
}

/// `Translations = Translation entries<count u8>`, `Translation = str8 lang ‖ str16 text`,
/// written in the order given (validation requires it sorted).
fn put_translations(
    out: &mut Vec<u8>,
    t: &Translations,
    field: impl Fn() -> String,
) -> Result<(), ManifestError> {
    out.put_u8(count("translations", t.0.len(), u8::MAX.into())?);
    for tr in &t.0 {
        put_str8(out, &tr.lang, || format!("{} language tag", field()))?;
        put_str16(out, &tr.text, || format!("{} in {}", field(), tr.lang))?;
    }
    Ok(())
}

fn get_translations(r: &mut Reader<'_>) -> Result<Translations, DecodeError> {
    let n = r.u8()?;
    let mut v = Vec::with_capacity(n.into());
    for _ in 0..n {
        v.push(Translation {
            lang: get_str8(r)?,
            text: r.string_u16()?,
        });
    }
    Ok(Translations(v))
}

fn get_str8(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    String::from_utf8(r.bytes_u8()?.to_vec()).map_err(|_| DecodeError::InvalidUtf8)
}

fn get_opt_str8(r: &mut Reader<'_>) -> Result<Option<String>, DecodeError> {
    let s = get_str8(r)?;
    Ok((!s.is_empty()).then_some(s))
}

impl Manifest {
    /// The canonical bytes (§2.3), or the first field that has none: a text or a list longer
    /// than its length prefix allows (which [`Manifest::validate`] refuses too), or an optional
    /// text given as empty. A manifest that passed `validate`, or was decoded, always has them.
    pub fn to_canonical_bytes(&self) -> Result<Vec<u8>, ManifestError> {
        let mut out = Vec::new();
        self.write(&mut out)?;
        Ok(out)
    }

    fn write(&self, out: &mut Vec<u8>) -> Result<(), ManifestError> {
        out.extend_from_slice(MANIFEST_MAGIC);
        put_str8(out, &self.election_id, || "election_id".into())?;
        put_str16(out, &self.title, || "title".into())?;
        put_translations(out, &self.titles, || "title".into())?;
        self.authority_key.encode(out);
        self.registrar_key.encode(out);
        self.board_key.encode(out);
        out.put_u16(count("trustees", self.trustees.len(), u16::MAX.into())?);
        for (i, t) in self.trustees.iter().enumerate() {
            put_str8(out, &t.name, || format!("trustee {} name", i + 1))?;
            t.signing_key.encode(out);
            t.ceremony_key.encode(out);
        }
        out.put_u16(self.threshold);
        out.put_u8(self.revote.tag());
        out.put_u16(count("contests", self.contests.len(), u16::MAX.into())?);
        for (i, c) in self.contests.iter().enumerate() {
            put_str8(out, &c.id, || format!("contest {} id", i + 1))?;
            put_str16(out, &c.title, || format!("contest {:?} title", c.id))?;
            put_translations(out, &c.titles, || format!("contest {:?} title", c.id))?;
            match c.kind {
                ContestKind::Plurality { exactly } => {
                    out.put_u8(1);
                    put_bool(out, exactly);
                }
                ContestKind::Approval { min, max } => {
                    out.put_u8(2);
                    out.put_u16(min);
                    out.put_u16(max);
                }
                ContestKind::Score { max, budget } => {
                    out.put_u8(3);
                    out.put_u16(max);
                    out.put_u32(budget.unwrap_or(0));
                }
                ContestKind::Referendum { blank } => {
                    out.put_u8(4);
                    put_bool(out, blank);
                }
                ContestKind::Ranked(r) => {
                    out.put_u8(5);
                    write_rules(out, &r);
                }
            }
            out.put_u8(count("options", c.options.len(), u8::MAX.into())?);
            for (j, o) in c.options.iter().enumerate() {
                put_str8(out, &o.id, || {
                    format!("contest {:?} option {} id", c.id, j + 1)
                })?;
                let field = || format!("contest {:?} option {:?} name", c.id, o.id);
                put_str16(out, &o.name, field)?;
                put_translations(out, &o.names, field)?;
            }
        }
        out.put_u16(count(
            "ballot styles",
            self.ballot_styles.len(),
            u16::MAX.into(),
        )?);
        for (i, s) in self.ballot_styles.iter().enumerate() {
            put_str8(out, &s.id, || format!("ballot style {} id", i + 1))?;
            let field = || format!("ballot style {:?} title", s.id);
            match &s.title {
                Some(t) if t.is_empty() => return Err(ManifestError::EmptyText { field: field() }),
                t => put_str16(out, t.as_deref().unwrap_or(""), field)?,
            }
            put_translations(out, &s.titles, field)?;
            out.put_u16(count("style contests", s.contests.len(), u16::MAX.into())?);
            s.contests.iter().for_each(|i| out.put_u16(*i));
        }
        put_opt_str8(out, &self.opens, "opens")?;
        put_opt_str8(out, &self.closes, "closes")?;
        out.put_u8(count("witnesses", self.witnesses.len(), u8::MAX.into())?);
        for (i, w) in self.witnesses.iter().enumerate() {
            put_str8(out, &w.name, || format!("witness {} name", i + 1))?;
            w.key.encode(out);
            put_str8(out, &w.url, || format!("witness {:?} url", w.name))?;
            out.put_u8(w.role.tag());
        }
        out.put_u16(self.witness_quorum);
        write_mixers(out, self)
    }
}

/// The canonical form, for manifests that have one (see [`Manifest::to_canonical_bytes`]).
///
/// `Encode` cannot fail, and a manifest with a field too long for its length prefix has no
/// canonical form: for one, this writes the magic alone, bytes every decoder refuses, so the
/// mistake surfaces as a `malformed` Setup instead of as another, truncated manifest. Only a
/// manifest assembled field by field without [`Manifest::validate`] can get there.
impl Encode for Manifest {
    fn encode(&self, out: &mut Vec<u8>) {
        match self.to_canonical_bytes() {
            Ok(bytes) => out.extend_from_slice(&bytes),
            Err(_) => out.extend_from_slice(MANIFEST_MAGIC),
        }
    }
}

impl Decode for Manifest {
    /// Decodes and validates; a manifest that decodes is a valid manifest.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let m = Manifest::decode_unvalidated(r)?;
        m.validate()
            .map_err(|_| DecodeError::Invalid("manifest fails validation"))?;
        Ok(m)
    }
}

impl Manifest {
    /// Decodes the canonical form *without* the semantic checks of [`Manifest::validate`]
    /// (the bytes are still strictly parsed). For the state machine, which reports a
    /// well-formed but invalid manifest with its precise reason; call `validate` next.
    pub fn decode_unvalidated(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if &r.array::<8>()? != MANIFEST_MAGIC {
            return Err(DecodeError::Invalid("not a urna v1 manifest"));
        }
        let election_id = get_str8(r)?;
        let title = r.string_u16()?;
        let titles = get_translations(r)?;
        let authority_key = VerifyingKey::decode(r)?;
        let registrar_key = VerifyingKey::decode(r)?;
        let board_key = VerifyingKey::decode(r)?;
        let n = r.u16()? as usize;
        let mut trustees = Vec::with_capacity(n.min(MAX_TRUSTEES));
        for _ in 0..n {
            trustees.push(Trustee {
                name: get_str8(r)?,
                signing_key: VerifyingKey::decode(r)?,
                ceremony_key: Point::decode(r)?,
            });
        }
        let threshold = r.u16()?;
        let revote = match r.u8()? {
            1 => RevotePolicy::LatestCounts,
            2 => RevotePolicy::Forbidden,
            t => {
                return Err(DecodeError::UnknownTag {
                    what: "revote policy",
                    tag: t.into(),
                })
            }
        };
        let nc = r.u16()? as usize;
        let mut contests = Vec::new();
        for _ in 0..nc {
            let id = get_str8(r)?;
            let title = r.string_u16()?;
            let titles = get_translations(r)?;
            let kind = match r.u8()? {
                1 => ContestKind::Plurality {
                    exactly: get_bool(r)?,
                },
                2 => ContestKind::Approval {
                    min: r.u16()?,
                    max: r.u16()?,
                },
                3 => {
                    let max = r.u16()?;
                    let budget = r.u32()?;
                    ContestKind::Score {
                        max,
                        budget: (budget != 0).then_some(budget),
                    }
                }
                4 => ContestKind::Referendum {
                    blank: get_bool(r)?,
                },
                5 => ContestKind::Ranked(read_rules(r)?),
                t => {
                    return Err(DecodeError::UnknownTag {
                        what: "contest kind",
                        tag: t.into(),
                    })
                }
            };
            let no = r.u8()? as usize;
            let mut options = Vec::with_capacity(no);
            for _ in 0..no {
                options.push(ContestOption {
                    id: get_str8(r)?,
                    name: r.string_u16()?,
                    names: get_translations(r)?,
                });
            }
            contests.push(Contest {
                id,
                title,
                titles,
                kind,
                options,
            });
        }
        let ns = r.u16()? as usize;
        let mut ballot_styles = Vec::new();
        for _ in 0..ns {
            let id = get_str8(r)?;
            let title = r.string_u16()?;
            let title = (!title.is_empty()).then_some(title);
            let titles = get_translations(r)?;
            let k = r.u16()? as usize;
            let mut cs = Vec::with_capacity(k.min(r.remaining()));
            for _ in 0..k {
                cs.push(r.u16()?);
            }
            ballot_styles.push(BallotStyle {
                id,
                title,
                titles,
                contests: cs,
            });
        }
        let opens = get_opt_str8(r)?;
        let closes = get_opt_str8(r)?;
        let nw = r.u8()? as usize;
        let mut witnesses = Vec::with_capacity(nw);
        for _ in 0..nw {
            let (name, key, url) = (get_str8(r)?, VerifyingKey::decode(r)?, get_str8(r)?);
            let tag = r.u8()?;
            let role = Role::from_tag(tag).ok_or(DecodeError::UnknownTag {
                what: "witness role",
                tag: tag.into(),
            })?;
            witnesses.push(Witness {
                name,
                key,
                url,
                role,
            });
        }
        let witness_quorum = r.u16()?;
        let ranked = contests.iter().any(|c| c.ranked().is_some());
        let mixers = if ranked { read_mixers(r)? } else { Vec::new() };
        Ok(Manifest {
            election_id,
            title,
            titles,
            authority_key,
            registrar_key,
            board_key,
            trustees,
            threshold,
            revote,
            contests,
            ballot_styles,
            opens,
            closes,
            witnesses,
            witness_quorum,
            mixers,
        })
    }
}
