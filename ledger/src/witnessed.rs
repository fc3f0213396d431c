//! What the witnesses a manifest names vouch for, as a client finds it (specs/board.md §6.2):
//! the manifest's cosignature policy, where a witness serves the checkpoint it last cosigned,
//! each witness's answer, and the newest checkpoint their quorum covers. Pure data and rules:
//! asking the witnesses over HTTP is the client's job, judging what they said the verifier's.

use urna_crypto::sign::VerifyingKey;
use urna_election::manifest::Manifest;

use crate::note::Checkpoint;

/// The path, under a witness's URL, of its latest cosigned checkpoint of the log `origin`:
/// `/checkpoint/<origin>` with every byte outside RFC 3986's unreserved characters and `/`
/// percent-encoded.
pub fn checkpoint_path(origin: &str) -> String {
    let mut p = String::from("/checkpoint/");
    for b in origin.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            p.push(char::from(b));
        } else {
            p.push_str(&format!("%{b:02X}"));
        }
    }
    p
}

/// The witness policy a manifest sets: (name, key) of each witness, and the quorum.
pub fn witness_policy(m: &Manifest) -> (Vec<(String, VerifyingKey)>, usize) {
    (
        m.witnesses
            .iter()
            .map(|w| (w.name.clone(), w.key))
            .collect(),
        usize::from(m.witness_quorum),
    )
}

/// The largest size the witnesses' latest cosigned checkpoints show their quorum covers: the
/// `quorum`-th largest of those sizes (each witness at or above it has cosigned a checkpoint
/// extending that prefix, once each is checked to be a prefix of one log), if enough answered.
pub fn quorum_cover(sizes: &[u64], quorum: usize) -> Option<u64> {
    let mut sorted = sizes.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    quorum.checked_sub(1).and_then(|i| sorted.get(i)).copied()
}

/// The names of the policy's witnesses whose valid cosignature `note` carries (none if the note
/// is rejected under the policy).
pub fn named_cosigners(note: &str, policy: &[(String, VerifyingKey)]) -> Vec<String> {
    crate::note::cosigners(note, policy)
        .map(|c| c.into_iter().map(|(i, _)| policy[i].0.clone()).collect())
        .unwrap_or_default()
}

/// What one witness the manifest names says it last cosigned of the log.
#[derive(Debug, Clone)]
pub struct WitnessAnswer {
    pub name: String,
    /// Its latest cosigned checkpoint and the note (board-signed, carrying this witness's valid
    /// cosignature); `Ok(None)` if it has cosigned nothing of this log yet; `Err` if it could not
    /// be asked or its answer does not check out.
    pub latest: Result<Option<(Checkpoint, String)>, String>,
}

/// The newest checkpoint covered by the witness quorum, as a client found it.
#[derive(Debug, Clone)]
pub struct Covered {
    pub checkpoint: Checkpoint,
    /// A board-signed note of this checkpoint carrying every cosignature gathered for it.
    pub note: String,
    /// The witnesses whose valid cosignature `note` carries.
    pub cosigners: Vec<String>,
    /// The witnesses vouching for it: those that cosigned it or a checkpoint extending it.
    pub vouchers: Vec<String>,
}

/// What the witnesses the manifest names say of the log, and how the board's view compares.
#[derive(Debug, Clone)]
pub struct WitnessView {
    /// Witnesses the manifest names, and how many must vouch.
    pub named: usize,
    pub quorum: usize,
    pub answers: Vec<WitnessAnswer>,
    /// The board's `/checkpoint/cosigned` and its note, checked (policy met, a prefix of the
    /// log).
    pub board_cosigned: Option<(Checkpoint, String)>,
    /// Whether the board's cosigned checkpoint lay beyond the log downloaded.
    pub board_cosigned_beyond: bool,
    /// The size the witnesses' own answers show covered: the `quorum`-th largest of their
    /// latest cosigned sizes, if at least `quorum` answered.
    pub witnesses_cover: Option<u64>,
    /// The newest checkpoint the quorum covers: the board's cosigned one, unless the witnesses
    /// cover more.
    pub covered: Option<Covered>,
}

impl WitnessView {
    /// `(size the witnesses' quorum covers, size of the board's cosigned checkpoint)` when the
    /// board shows an older cosigned checkpoint (or none) than what the witnesses cosigned.
    pub fn withholding(&self) -> Option<(u64, Option<u64>)> {
        let w = self.witnesses_cover?;
        let b = self.board_cosigned.as_ref().map(|(c, _)| c.size);
        (!self.board_cosigned_beyond && b.map_or(true, |b| b < w)).then_some((w, b))
    }

    /// The witnesses that could not be asked, or whose answer did not check out, with why.
    pub fn unanswered(&self) -> Vec<(&str, &str)> {
        self.answers
            .iter()
            .filter_map(|a| {
                a.latest
                    .as_ref()
                    .err()
                    .map(|e| (a.name.as_str(), e.as_str()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::quorum_cover;

    #[test]
    fn the_quorum_covers_the_quorum_th_largest_size_the_witnesses_cosigned() {
        // Witnesses at 12, 11 and 10 with a quorum of 2: the first 11 entries are vouched for
        // by two (the witness at 12 cosigned an extension of them).
        assert_eq!(quorum_cover(&[10, 12, 11], 2), Some(11));
        assert_eq!(quorum_cover(&[10, 12], 2), Some(10));
        assert_eq!(quorum_cover(&[12], 2), None);
        assert_eq!(quorum_cover(&[7, 7, 7], 3), Some(7));
        assert_eq!(quorum_cover(&[7], 0), None);
    }
}
