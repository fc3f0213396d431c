//! A snapshot of the rules' state (`specs/board.md` §4.1): one canonical byte string for an
//! [`Election`], so that a board restarting from its own log decodes the state at a size it
//! signed and replays only the entries after it, instead of every entry from the first.
//!
//! The encoding is a function of the state alone, and the state is a function of the log
//! prefix: every set is written sorted, every map by its key, nothing depends on hashing
//! order, allocation or how entries were batched. What another field or the manifest
//! determines (the layout, the manifest's hash, the election context's hash, the roll's sums by
//! style, the ballot box's counters) is not written but derived again on decoding, so a
//! snapshot cannot disagree with itself there. Decoding is strict — sorted keys strictly
//! increasing, every index in range, every point canonical, no trailing bytes — so a decoded
//! snapshot encodes back to the same bytes. Decoding trusts nothing about the bytes, but it
//! does not re-run the rules: a snapshot is only ever taken from a file whose signature, size
//! and root the board checked first (`specs/board.md` §4.1.2).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use thiserror::Error;
use urna_crypto::codec::{Decode, Encode, Reader};
use urna_crypto::elgamal::{Ciphertext, PublicKey};
use urna_crypto::errors::DecodeError;
use urna_crypto::group::Point;
use urna_crypto::share_enc::EncryptedShare;
use urna_crypto::{CompressedRistretto, RistrettoPoint};

use rayon::prelude::*;

use super::alphas::{split, Alphas, BUCKETS};
use super::ballot_box::{BallotBox, Tallied};
use super::ceremony::Ceremony;
use super::cow::{buckets, Chunked};
use super::layout::Layout;
use super::mix::{ContestMix, Decrypted, Mixing, Pending};
use super::roll::{Roll, Voter, Voters, NONE};
use super::tally::Tally;
use super::{BallotRecord, BallotStatus, CredentialId, Election, Phase};
use crate::context::ElectionContext;
use crate::count::RankedCount;
use crate::entry::TrackingCode;
use crate::manifest::Manifest;
use crate::payload::ElectionResult;
use crate::ranking::{Choice, Invalid};

/// The first bytes of every snapshot: `"urna-v1 state"`, then the format's version.
pub const SNAPSHOT_MAGIC: &[u8; 13] = b"urna-v1 state";
pub const SNAPSHOT_VERSION: u16 = 1;

/// Why bytes are not a snapshot this build can restore. Each cause has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SnapshotError {
    #[error("not a snapshot of the rules' state (wrong magic)")]
    Magic,
    #[error("snapshot format version {0}, this build reads version {SNAPSHOT_VERSION}")]
    Version(u16),
    #[error("snapshot malformed: {0}")]
    Decode(#[from] DecodeError),
    /// Well-formed bytes that are not the one encoding of any state (unsorted keys, a
    /// repeated key, a flag other than 0 or 1).
    #[error("snapshot not canonical: {0}")]
    NotCanonical(&'static str),
    /// Fields that no log prefix could produce together (an index out of range, a phase
    /// without its manifest).
    #[error("snapshot inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl SnapshotError {
    pub fn code(&self) -> &'static str {
        match self {
            SnapshotError::Magic => "snapshot-magic",
            SnapshotError::Version(_) => "snapshot-version",
            SnapshotError::Decode(_) => "snapshot-malformed",
            SnapshotError::NotCanonical(_) => "snapshot-not-canonical",
            SnapshotError::Inconsistent(_) => "snapshot-inconsistent",
        }
    }
}

type Result<T> = std::result::Result<T, SnapshotError>;

// ---------------------------------------------------------------- writing

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}
fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}
fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}
/// Every count and byte length is a u64: no limit to check on writing.
fn put_len(out: &mut Vec<u8>, n: usize) {
    put_u64(out, n as u64);
}
fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len());
    out.extend_from_slice(b);
}
fn put_flag(out: &mut Vec<u8>, b: bool) {
    out.push(u8::from(b));
}
fn put_u16s(out: &mut Vec<u8>, v: impl ExactSizeIterator<Item = u16>) {
    put_len(out, v.len());
    v.for_each(|x| put_u16(out, x));
}
fn put_points(out: &mut Vec<u8>, v: &[Point]) {
    put_len(out, v.len());
    v.iter().for_each(|p| p.encode(out));
}

fn phase_tag(p: Phase) -> u8 {
    match p {
        Phase::AwaitingSetup => 0,
        Phase::KeyCeremony => 1,
        Phase::Registration => 2,
        Phase::Voting => 3,
        Phase::Tallying => 4,
        Phase::Finished => 5,
        Phase::CeremonyFailed => 6,
    }
}

fn phase_of(tag: u8) -> Option<Phase> {
    Some(match tag {
        0 => Phase::AwaitingSetup,
        1 => Phase::KeyCeremony,
        2 => Phase::Registration,
        3 => Phase::Voting,
        4 => Phase::Tallying,
        5 => Phase::Finished,
        6 => Phase::CeremonyFailed,
        _ => return None,
    })
}

impl Election {
    /// The canonical encoding of this state (`specs/board.md` §4.1.1). Two replicas that
    /// applied the same log prefix encode to the same bytes, however they batched it.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(SNAPSHOT_MAGIC);
        put_u16(&mut out, SNAPSHOT_VERSION);
        put_u64(&mut out, self.size);
        out.push(phase_tag(self.phase));
        put_flag(&mut out, self.manifest.is_some());
        if let Some(m) = &self.manifest {
            put_bytes(&mut out, &m.to_bytes());
        }
        let mut leaves: Vec<&[u8; 32]> = self.leaves.iter().collect();
        leaves.par_sort_unstable();
        put_len(&mut out, leaves.len());
        leaves.iter().for_each(|l| out.extend_from_slice(*l));
        self.ceremony.write(&mut out);
        self.roll.write(&mut out);
        self.ballot_box.write(&mut out);
        self.tally.write(&mut out);
        self.mixing.write(&mut out);
        out
    }

    /// The state a [`snapshot`](Election::snapshot) encodes, decoded strictly: the bytes
    /// must be exactly the snapshot of the state returned.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Election> {
        let mut r = Reader::new(bytes);
        if r.take(SNAPSHOT_MAGIC.len()).ok() != Some(&SNAPSHOT_MAGIC[..]) {
            return Err(SnapshotError::Magic);
        }
        let version = r.u16()?;
        if version != SNAPSHOT_VERSION {
            return Err(SnapshotError::Version(version));
        }
        let size = r.u64()?;
        let phase = phase_of(r.u8()?).ok_or(SnapshotError::NotCanonical("phase tag"))?;
        let manifest = match flag(&mut r)? {
            true => {
                let b = bytes_of(&mut r)?;
                Some(Arc::new(Manifest::from_bytes(b)?))
            }
            false => None,
        };
        if manifest.is_none() != (phase == Phase::AwaitingSetup) {
            return Err(SnapshotError::Inconsistent(
                "a manifest exactly after Setup",
            ));
        }
        let leaves = sorted_hashes(&mut r)?;
        if leaves.len() as u64 > size {
            return Err(SnapshotError::Inconsistent("more leaf hashes than entries"));
        }
        let (layout, manifest_hash) = match &manifest {
            Some(m) => (Layout::new(m), m.hash()),
            None => (Layout::default(), [0; 32]),
        };
        let ceremony = Ceremony::read(&mut r, manifest.as_deref(), &manifest_hash)?;
        let mut roll = Roll::read(&mut r, manifest.as_deref())?;
        let ballot_box = BallotBox::read(&mut r, &layout, size, &mut roll)?;
        let tally = Tally::read(&mut r)?;
        let mixing = Mixing::read(&mut r, manifest.as_deref())?;
        r.finish()?;
        Ok(Election {
            size,
            phase,
            manifest,
            manifest_hash,
            layout,
            leaves,
            ceremony,
            roll,
            ballot_box,
            tally,
            mixing,
            proofs_verified: 0,
        })
    }
}

// ---------------------------------------------------------------- reading

fn flag(r: &mut Reader<'_>) -> Result<bool> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(SnapshotError::NotCanonical("a flag is 0 or 1")),
    }
}

/// A count of elements of at least `min` bytes each, checked against what remains before
/// anything is allocated for it.
fn count(r: &mut Reader<'_>, min: usize) -> Result<usize> {
    let n = r.u64()?;
    match usize::try_from(n) {
        Ok(n) if n.saturating_mul(min.max(1)) <= r.remaining() => Ok(n),
        _ => Err(DecodeError::Truncated {
            needed: usize::try_from(n).unwrap_or(usize::MAX),
            remaining: r.remaining(),
        }
        .into()),
    }
}

fn bytes_of<'a>(r: &mut Reader<'a>) -> Result<&'a [u8]> {
    let n = count(r, 1)?;
    Ok(r.take(n)?)
}

fn u16s(r: &mut Reader<'_>) -> Result<Vec<u16>> {
    let n = count(r, 2)?;
    (0..n).map(|_| Ok(r.u16()?)).collect()
}

/// u16s strictly increasing (a set).
fn u16_set(r: &mut Reader<'_>) -> Result<BTreeSet<u16>> {
    let v = u16s(r)?;
    if !v.windows(2).all(|w| w[0] < w[1]) {
        return Err(SnapshotError::NotCanonical("a set of trustees in order"));
    }
    Ok(v.into_iter().collect())
}

fn points(r: &mut Reader<'_>) -> Result<Vec<Point>> {
    let n = count(r, 32)?;
    Ok(r.vec_of(n)?)
}

fn strictly_increasing<K: Ord>(keys: &[K], what: &'static str) -> Result<()> {
    match keys.windows(2).all(|w| w[0] < w[1]) {
        true => Ok(()),
        false => Err(SnapshotError::NotCanonical(what)),
    }
}

/// 32-byte hashes, strictly increasing: a set written sorted.
fn sorted_hashes(r: &mut Reader<'_>) -> Result<HashSet<[u8; 32]>> {
    let n = count(r, 32)?;
    let raw = r.take(n * 32)?;
    let v: Vec<[u8; 32]> = raw
        .chunks_exact(32)
        .map(|c| {
            let mut a = [0u8; 32];
            a.copy_from_slice(c);
            a
        })
        .collect();
    strictly_increasing(&v, "a set of hashes in order")?;
    Ok(v.into_iter().collect())
}

fn ristretto(bytes: &[u8; 32]) -> Result<RistrettoPoint> {
    CompressedRistretto(*bytes)
        .decompress()
        .ok_or(SnapshotError::Decode(DecodeError::InvalidPoint))
}

// ---------------------------------------------------------------- sub-states

impl Ceremony {
    fn write(&self, out: &mut Vec<u8>) {
        put_len(out, self.commitments.len());
        for (dealer, c) in &self.commitments {
            put_u16(out, *dealer);
            put_points(out, c);
        }
        put_len(out, self.shares.len());
        for (dealer, shares) in &self.shares {
            put_u16(out, *dealer);
            put_len(out, shares.len());
            for (to, s) in shares {
                put_u16(out, *to);
                s.encode(out);
            }
        }
        put_u16s(out, self.disqualified.iter().copied());
        put_u16s(out, self.confirmed.iter().copied());
        put_u16s(out, self.qualified.iter().copied());
        put_flag(out, self.context.is_some());
        if let Some(c) = &self.context {
            c.joint_key.point().encode(out);
            put_points(out, &c.verification_keys);
        }
    }

    fn read(r: &mut Reader<'_>, m: Option<&Manifest>, manifest_hash: &[u8; 32]) -> Result<Self> {
        let mut commitments = BTreeMap::new();
        let n = count(r, 2)?;
        for _ in 0..n {
            let dealer = r.u16()?;
            let c = points(r)?;
            if commitments
                .last_key_value()
                .is_some_and(|(k, _)| *k >= dealer)
            {
                return Err(SnapshotError::NotCanonical("commitments by dealer"));
            }
            commitments.insert(dealer, c);
        }
        let mut shares = BTreeMap::new();
        let n = count(r, 2)?;
        for _ in 0..n {
            let dealer = r.u16()?;
            let k = count(r, 2)?;
            let mut v = Vec::with_capacity(k);
            for _ in 0..k {
                let to = r.u16()?;
                v.push((to, EncryptedShare::decode(r)?));
            }
            if shares.last_key_value().is_some_and(|(k, _)| *k >= dealer) {
                return Err(SnapshotError::NotCanonical("shares by dealer"));
            }
            shares.insert(dealer, v);
        }
        let disqualified = u16_set(r)?;
        let confirmed = u16_set(r)?;
        let qualified = u16s(r)?;
        let context = match flag(r)? {
            false => None,
            true => {
                let key = PublicKey::new(Point::decode(r)?)
                    .map_err(|_| SnapshotError::Inconsistent("the joint key"))?;
                Some(ElectionContext::new(*manifest_hash, key, points(r)?))
            }
        };
        if m.is_none() && (!commitments.is_empty() || !qualified.is_empty() || context.is_some()) {
            return Err(SnapshotError::Inconsistent("a ceremony without a manifest"));
        }
        Ok(Ceremony {
            commitments,
            shares,
            disqualified,
            confirmed,
            qualified,
            context,
        })
    }
}

impl Roll {
    /// The credentials with their weight and style; where each one's ballots are among the
    /// records is derived from the records on decoding ([`BallotBox::read`]).
    fn write(&self, out: &mut Vec<u8>) {
        put_u32(out, self.batches);
        // In the order the buckets hold them: by bucket (the key's first two bytes, little-
        // endian), then by key.
        put_len(out, self.voters.len);
        for (k, v) in self.voters.buckets.iter().flat_map(|b| b.iter()) {
            out.extend_from_slice(k);
            put_u32(out, v.weight);
            put_u16(out, v.style);
        }
    }

    fn read(r: &mut Reader<'_>, m: Option<&Manifest>) -> Result<Self> {
        let batches = r.u32()?;
        let n = count(r, 38)?;
        let mut voters = Voters::default();
        let mut style_weights = Vec::new();
        if batches > 0 {
            let m = m.ok_or(SnapshotError::Inconsistent("a roll without a manifest"))?;
            style_weights.resize(m.ballot_styles.len(), 0u64);
        }
        let mut last: Option<(usize, [u8; 32])> = None;
        for _ in 0..n {
            let k: [u8; 32] = r.array()?;
            let weight = r.u32()?;
            let style = r.u16()?;
            let key = (Voters::bucket(&k), k);
            if last.is_some_and(|l| l >= key) {
                return Err(SnapshotError::NotCanonical(
                    "the roll by bucket and credential",
                ));
            }
            last = Some(key);
            let w = style_weights
                .get_mut(usize::from(style))
                .ok_or(SnapshotError::Inconsistent("a voter's style"))?;
            if weight == 0 {
                return Err(SnapshotError::Inconsistent("a voter's weight"));
            }
            *w += u64::from(weight);
            voters.insert(
                k,
                Voter {
                    weight,
                    style,
                    counted: NONE,
                    last: NONE,
                },
            );
        }
        Ok(Roll {
            voters,
            disk: None,
            batches,
            style_weights,
        })
    }
}

fn status_write(out: &mut Vec<u8>, s: &BallotStatus) {
    match s {
        BallotStatus::Counted => out.push(0),
        BallotStatus::Superseded { by } => {
            out.push(1);
            put_u64(out, *by);
        }
        BallotStatus::Challenged => out.push(2),
    }
}

fn write_tallied(out: &mut Vec<u8>, t: &Tallied) {
    put_len(out, t.len());
    for (pos, ct) in t {
        put_len(out, *pos);
        out.extend_from_slice(ct);
    }
}

fn read_tallied(r: &mut Reader<'_>, layout: &Layout) -> Result<Tallied> {
    let n = count(r, 72)?;
    let mut t = Vec::with_capacity(n);
    for _ in 0..n {
        let pos = usize::try_from(r.u64()?)
            .ok()
            .filter(|&p| p < layout.len())
            .ok_or(SnapshotError::Inconsistent("a tally position"))?;
        t.push((pos, r.array::<64>()?));
    }
    Ok(t)
}

impl BallotBox {
    fn write(&self, out: &mut Vec<u8>) {
        // The prefixes in the order the buckets hold them: by bucket, then by value.
        put_len(out, self.alphas.len as usize);
        for (i, b) in self.alphas.buckets.iter().enumerate() {
            let i = (i as u16).to_le_bytes();
            for rest in b.iter() {
                // The prefix's 16 bytes: the bucket holds all but its second and third.
                out.push(rest[0]);
                out.extend_from_slice(&i);
                out.extend_from_slice(&rest[1..]);
            }
        }
        put_len(out, self.records.len());
        for rec in self.records.iter() {
            put_u64(out, rec.index);
            out.extend_from_slice(&rec.credential.0);
            out.extend_from_slice(&rec.tracking_code.0);
            status_write(out, &rec.status);
        }
        put_flag(out, self.keep);
        let mut held: Vec<(&u32, &Tallied)> = self.held.iter().collect();
        held.sort_unstable_by_key(|(k, _)| **k);
        put_len(out, held.len());
        for (record, t) in held {
            put_u32(out, *record);
            write_tallied(out, t);
        }
        put_len(out, self.ranked.len());
        for (record, rows) in &self.ranked {
            put_u32(out, *record);
            put_len(out, rows.len());
            for (k, row) in rows {
                put_len(out, *k);
                put_bytes(out, row);
            }
        }
        put_len(out, self.sums.len());
        for (w, sums) in &self.sums {
            put_u32(out, *w);
            put_len(out, sums.len());
            for (a, b) in sums {
                out.extend_from_slice(a.compress().as_bytes());
                out.extend_from_slice(b.compress().as_bytes());
            }
        }
        put_flag(out, self.unread.is_some());
        if let Some(i) = self.unread {
            put_u64(out, i);
        }
    }

    /// Decodes the ballot box, and links the roll's voters to their records (`counted`,
    /// `last`) and each record to its credential's one before, as admitting them did.
    fn read(r: &mut Reader<'_>, layout: &Layout, size: u64, roll: &mut Roll) -> Result<Self> {
        let n = count(r, 16)?;
        let mut alphas = Alphas::default();
        if n > 0 {
            alphas.buckets = buckets(BUCKETS);
        }
        let mut last: Option<(usize, [u8; 14])> = None;
        for _ in 0..n {
            let key = split(u128::from_le_bytes(r.array()?));
            if last.is_some_and(|l| l >= key) {
                return Err(SnapshotError::NotCanonical(
                    "α prefixes by bucket and bytes",
                ));
            }
            last = Some(key);
            if let Some(b) = alphas.buckets.get_mut(key.0) {
                Arc::make_mut(b).push(key.1);
            }
        }
        alphas.len = n as u64;
        let n = count(r, 73)?;
        if u32::try_from(n).map_or(true, |n| n == NONE) {
            return Err(SnapshotError::Inconsistent(
                "more records than a u32 numbers",
            ));
        }
        let mut records = Chunked::with_capacity(n);
        let mut prev = Chunked::with_capacity(n);
        let (mut ballots, mut counted, mut superseded, mut challenged) = (0u64, 0u64, 0u64, 0u64);
        for i in 0..n {
            let index = r.u64()?;
            let key: [u8; 32] = r.array()?;
            let code: [u8; 32] = r.array()?;
            let status = match r.u8()? {
                0 => BallotStatus::Counted,
                1 => BallotStatus::Superseded { by: r.u64()? },
                2 => BallotStatus::Challenged,
                _ => return Err(SnapshotError::NotCanonical("a ballot's status tag")),
            };
            if index >= size
                || records
                    .last()
                    .is_some_and(|x: &BallotRecord| x.index >= index)
            {
                return Err(SnapshotError::Inconsistent("ballot records in log order"));
            }
            let voter = roll
                .voters
                .get_mut(&key)
                .ok_or(SnapshotError::Inconsistent(
                    "a ballot of a credential off the roll",
                ))?;
            match status {
                BallotStatus::Challenged => challenged += 1,
                BallotStatus::Superseded { by } => {
                    if by <= index || by >= size {
                        return Err(SnapshotError::Inconsistent("a superseding ballot's index"));
                    }
                    superseded += 1;
                    ballots += 1;
                }
                BallotStatus::Counted => {
                    if voter.counted != NONE {
                        return Err(SnapshotError::Inconsistent(
                            "one counted ballot per credential",
                        ));
                    }
                    voter.counted = i as u32;
                    counted += 1;
                    ballots += 1;
                }
            }
            prev.push(voter.last);
            voter.last = i as u32;
            records.push(BallotRecord {
                index,
                credential: CredentialId(key),
                tracking_code: TrackingCode(code),
                status,
            });
        }
        let keep = flag(r)?;
        let n = count(r, 12)?;
        let mut held = HashMap::with_capacity(n);
        let mut last: Option<u32> = None;
        for _ in 0..n {
            let record = r.u32()?;
            if last.is_some_and(|l| l >= record) {
                return Err(SnapshotError::NotCanonical("held ciphertexts by record"));
            }
            last = Some(record);
            if records.get(record as usize).map(|x| x.status) != Some(BallotStatus::Counted) {
                return Err(SnapshotError::Inconsistent(
                    "held ciphertexts of a counted ballot",
                ));
            }
            held.insert(record, read_tallied(r, layout)?);
        }
        let n = count(r, 12)?;
        let mut ranked = BTreeMap::new();
        for _ in 0..n {
            let record = r.u32()?;
            if ranked.last_key_value().is_some_and(|(l, _)| *l >= record) {
                return Err(SnapshotError::NotCanonical("ranked rows by record"));
            }
            if records.get(record as usize).map(|x| x.status) != Some(BallotStatus::Counted) {
                return Err(SnapshotError::Inconsistent(
                    "ranked rows of a counted ballot",
                ));
            }
            let k = count(r, 16)?;
            let mut rows = Vec::with_capacity(k);
            for _ in 0..k {
                let c = usize::try_from(r.u64()?)
                    .ok()
                    .filter(|&c| c < layout.ranked().len())
                    .ok_or(SnapshotError::Inconsistent("a ranked contest"))?;
                rows.push((c, bytes_of(r)?.to_vec()));
            }
            ranked.insert(record, rows);
        }
        let n = count(r, 12)?;
        let mut sums = BTreeMap::new();
        for _ in 0..n {
            let w = r.u32()?;
            if sums.last_key_value().is_some_and(|(k, _)| *k >= w) {
                return Err(SnapshotError::NotCanonical("sums by weight"));
            }
            let p = count(r, 64)?;
            if p != layout.len() {
                return Err(SnapshotError::Inconsistent("one sum per tally position"));
            }
            let mut v = Vec::with_capacity(p);
            for _ in 0..p {
                v.push((ristretto(&r.array()?)?, ristretto(&r.array()?)?));
            }
            sums.insert(w, v);
        }
        let unread = match flag(r)? {
            true => Some(r.u64()?),
            false => None,
        };
        Ok(BallotBox {
            alphas,
            records,
            prev,
            disk: None,
            keep,
            held,
            ranked,
            sums,
            ballots,
            counted,
            superseded,
            challenged,
            unread,
        })
    }
}

impl Tally {
    fn write(&self, out: &mut Vec<u8>) {
        put_flag(out, self.encrypted.is_some());
        if let Some(e) = &self.encrypted {
            put_len(out, e.len());
            e.iter().for_each(|c| c.encode(out));
        }
        put_len(out, self.shares.len());
        for (t, pts) in &self.shares {
            put_u16(out, *t);
            put_points(out, pts);
        }
        put_flag(out, self.result.is_some());
        if let Some(res) = &self.result {
            put_len(out, res.counts.len());
            for c in &res.counts {
                put_len(out, c.len());
                c.iter().for_each(|x| put_u64(out, *x));
            }
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let encrypted = match flag(r)? {
            false => None,
            true => {
                let n = count(r, 64)?;
                Some(r.vec_of::<Ciphertext>(n)?)
            }
        };
        let n = count(r, 10)?;
        let mut shares = Vec::with_capacity(n);
        for _ in 0..n {
            let t = r.u16()?;
            shares.push((t, points(r)?));
        }
        let result = match flag(r)? {
            false => None,
            true => {
                let n = count(r, 8)?;
                let mut counts = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = count(r, 8)?;
                    counts.push(
                        (0..k)
                            .map(|_| r.u64())
                            .collect::<std::result::Result<_, _>>()?,
                    );
                }
                Some(ElectionResult { counts })
            }
        };
        if encrypted.is_none() && (!shares.is_empty() || result.is_some()) {
            return Err(SnapshotError::Inconsistent("shares before the tally"));
        }
        Ok(Tally {
            encrypted,
            shares,
            result,
        })
    }
}

fn write_row(out: &mut Vec<u8>, row: &std::result::Result<Vec<Choice>, Invalid>) {
    match row {
        Ok(choices) => {
            out.push(0);
            put_len(out, choices.len());
            for c in choices {
                match c {
                    Choice::Option(o) => {
                        out.push(0);
                        out.push(*o);
                    }
                    Choice::WriteIn(s) => {
                        out.push(1);
                        put_bytes(out, s.as_bytes());
                    }
                }
            }
        }
        Err(i) => {
            out.push(1);
            out.push(i.tag());
        }
    }
}

fn read_row(r: &mut Reader<'_>) -> Result<std::result::Result<Vec<Choice>, Invalid>> {
    match r.u8()? {
        0 => {
            let n = count(r, 2)?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(match r.u8()? {
                    0 => Choice::Option(r.u8()?),
                    1 => Choice::WriteIn(
                        String::from_utf8(bytes_of(r)?.to_vec())
                            .map_err(|_| DecodeError::InvalidUtf8)?,
                    ),
                    _ => return Err(SnapshotError::NotCanonical("a choice's tag")),
                });
            }
            Ok(Ok(v))
        }
        1 => Ok(Err(Invalid::from_tag(r.u8()?)
            .ok_or(SnapshotError::NotCanonical("an invalid row's tag"))?)),
        _ => Err(SnapshotError::NotCanonical("a row's tag")),
    }
}

impl Mixing {
    fn write(&self, out: &mut Vec<u8>) {
        put_len(out, self.contests.len());
        for cm in &self.contests {
            put_u16(out, cm.contest);
            put_len(out, cm.rows);
            put_bytes(out, &cm.list);
            put_len(out, cm.mixes);
            let p = &cm.pending;
            put_len(out, p.rows);
            put_bytes(out, &p.outputs);
            put_bytes(out, &p.c);
            put_bytes(out, &p.d);
            put_bytes(out, &p.s);
            put_len(out, p.leaves.len());
            p.leaves.iter().for_each(|l| out.extend_from_slice(l));
            put_len(out, cm.shares.len());
            for (t, s) in &cm.shares {
                put_u16(out, *t);
                put_bytes(out, s);
            }
            put_u16s(out, cm.decrypted_by.iter().copied());
            put_flag(out, cm.decrypted.is_some());
            if let Some(d) = &cm.decrypted {
                put_bytes(out, &d.bytes);
                put_len(out, d.rows.len());
                d.rows.iter().for_each(|row| write_row(out, row));
            }
            put_len(out, cm.posted);
        }
    }

    fn read(r: &mut Reader<'_>, m: Option<&Manifest>) -> Result<Self> {
        let n = count(r, 2)?;
        let ranked: Vec<_> = m.map(|m| m.ranked_contests().collect()).unwrap_or_default();
        if n != 0 && n != ranked.len() {
            return Err(SnapshotError::Inconsistent("one mix per ranked contest"));
        }
        let mut contests = Vec::with_capacity(n);
        for &(contest, c, rules) in ranked.iter().take(n) {
            if r.u16()? != contest {
                return Err(SnapshotError::Inconsistent("the ranked contests in order"));
            }
            let rows = count(r, 0)?;
            let list = bytes_of(r)?.to_vec();
            let mixes = count(r, 0)?;
            let p_rows = count(r, 0)?;
            let outputs = bytes_of(r)?.to_vec();
            let (pc, pd, ps) = (
                bytes_of(r)?.to_vec(),
                bytes_of(r)?.to_vec(),
                bytes_of(r)?.to_vec(),
            );
            let k = count(r, 32)?;
            let leaves = (0..k)
                .map(|_| Ok(r.array::<32>()?))
                .collect::<Result<Vec<_>>>()?;
            let k = count(r, 10)?;
            let mut shares = BTreeMap::new();
            for _ in 0..k {
                let t = r.u16()?;
                if shares.last_key_value().is_some_and(|(x, _)| *x >= t) {
                    return Err(SnapshotError::NotCanonical("mix shares by trustee"));
                }
                shares.insert(t, Arc::new(bytes_of(r)?.to_vec()));
            }
            let decrypted_by = u16s(r)?;
            let decrypted = match flag(r)? {
                false => None,
                true => {
                    let bytes = bytes_of(r)?.to_vec();
                    let count_ = RankedCount::from_bytes(&bytes)?;
                    let k = count(r, 2)?;
                    let rows = (0..k).map(|_| read_row(r)).collect::<Result<Vec<_>>>()?;
                    Some(Arc::new(Decrypted {
                        rows,
                        count: count_,
                        bytes,
                    }))
                }
            };
            let posted = count(r, 0)?;
            let w = 64 * rules.width();
            if list.len() != rows * w
                || outputs.len() != p_rows * w
                || p_rows > rows
                || decrypted.as_ref().is_some_and(|d| posted > d.bytes.len())
                || (decrypted.is_none() && posted > 0)
            {
                return Err(SnapshotError::Inconsistent("a mix's lengths"));
            }
            contests.push(ContestMix {
                contest,
                rules: *rules,
                options: c.options.len(),
                rows,
                list: Arc::new(list),
                mixes,
                pending: Arc::new(Pending {
                    rows: p_rows,
                    outputs,
                    c: pc,
                    d: pd,
                    s: ps,
                    leaves,
                }),
                shares,
                decrypted_by,
                decrypted,
                posted,
            });
        }
        Ok(Mixing { contests })
    }
}
