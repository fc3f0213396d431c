//! Trustees through the ledger: an honest ceremony, a dealer caught by a public complaint, a
//! false complaint refused, a failed ceremony, and decryption with absent and cheating trustees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_sim::kit;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_crypto::codec::Encode;
use urna_crypto::keyfile::Cost;
use urna_election::ballot::Choices;
use urna_election::entry::Entry;
use urna_election::payload::{ElectionResult, Payload};
use urna_election::rejection::Rejection;
use urna_election::state::{Election, Phase};
use urna_trustee::{Step, TrusteeError, TrusteeKey};

const CHEAP: Cost = Cost {
    memory_kib: 64,
    passes: 1,
    lanes: 1,
};

fn trustee_keys(k: &kit::Kit) -> Vec<TrusteeKey> {
    k.trustees
        .iter()
        .map(|t| TrusteeKey::from_parts(t.signing.clone(), t.ceremony.clone()))
        .collect()
}

/// Runs the listed trustees' steps round-robin until none has anything to post; each key goes
/// through a seal/open round trip whenever it asks to be saved, as the CLI does.
fn run(e: &mut Election, keys: &mut [TrusteeKey], who: &[u16], rng: &mut ChaCha20Rng) -> Vec<Step> {
    loop {
        let mut posted = false;
        let mut last = Vec::new();
        for &i in who {
            let k = &mut keys[usize::from(i - 1)];
            let step = k.ceremony_step(e, rng).unwrap();
            let save = matches!(
                step,
                Step::Post {
                    save_first: true,
                    ..
                } | Step::Complete {
                    save_first: true,
                    ..
                }
            );
            if save {
                let sealed = k.seal(b"pass", CHEAP, rng).unwrap();
                *k = TrusteeKey::open(&sealed, b"pass").unwrap();
            }
            if let Step::Post { entry, .. } = &step {
                e.apply(entry).unwrap();
                posted = true;
            }
            last.push(step);
        }
        if !posted {
            return last;
        }
    }
}

/// Each listed trustee takes exactly one step, which must be an entry to post.
fn one_step_each(e: &mut Election, keys: &mut [TrusteeKey], who: &[u16], rng: &mut ChaCha20Rng) {
    for &i in who {
        let Step::Post { entry, .. } = keys[usize::from(i - 1)].ceremony_step(e, rng).unwrap()
        else {
            panic!("trustee {i} had nothing to post")
        };
        e.apply(&entry).unwrap();
    }
}

fn plain_config(trustees: u16, threshold: u16) -> kit::Config {
    kit::Config {
        trustees,
        threshold,
        ..kit::Config::default()
    }
}

#[test]
fn honest_ceremony_completes_and_survives_a_restart() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let k = kit::Kit::new(1, plain_config(5, 3));
    let mut e = Election::new();
    e.apply(&k.setup()).unwrap();
    let mut keys = trustee_keys(&k);
    // Trustee 1 posts its commitments, then "crashes": its key file is re-read from disk.
    let Step::Post {
        entry,
        save_first: true,
        ..
    } = keys[0].ceremony_step(&e, &mut rng).unwrap()
    else {
        panic!("first step must be the commitment, sealed first")
    };
    let sealed = keys[0].seal(b"pw", CHEAP, &mut rng).unwrap();
    e.apply(&entry).unwrap();
    keys[0] = TrusteeKey::open(&sealed, b"pw").unwrap();
    let steps = run(&mut e, &mut keys, &[1, 2, 3, 4, 5], &mut rng);
    assert_eq!(e.phase(), Phase::Registration);
    let joint = *e.context().unwrap().joint_key.point();
    for s in steps {
        assert!(matches!(s, Step::Complete { joint_key, .. } if joint_key == joint));
    }
    assert!(keys.iter().all(TrusteeKey::has_share));
    // A key file that lost its polynomial cannot silently post a second, different commitment.
    let mut amnesiac = TrusteeKey::from_parts(
        k.trustees[1].signing.clone(),
        k.trustees[1].ceremony.clone(),
    );
    let mut e2 = Election::new();
    e2.apply(&k.setup()).unwrap();
    let mut ks = trustee_keys(&k);
    let Step::Post { entry, .. } = ks[1].ceremony_step(&e2, &mut rng).unwrap() else {
        panic!()
    };
    e2.apply(&entry).unwrap();
    assert!(matches!(
        amnesiac.ceremony_step(&e2, &mut rng),
        Err(TrusteeError::ConflictingCommitment)
    ));
    // Wrong passphrase is a clear error.
    assert!(matches!(
        TrusteeKey::open(&keys[0].seal(b"a", CHEAP, &mut rng).unwrap(), b"b"),
        Err(TrusteeError::Seal(_))
    ));
}

#[test]
fn a_bad_share_is_caught_by_a_public_complaint_and_a_false_one_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut k = kit::Kit::new(2, plain_config(5, 3));
    let mut e = Election::new();
    e.apply(&k.setup()).unwrap();
    let mut keys = trustee_keys(&k);
    // Trustee 2 is dishonest: it deals with the kit's polynomial and sends trustee 4 a bad share.
    e.apply(&k.commitment(2)).unwrap();
    let honest = [1u16, 3, 4, 5];
    one_step_each(&mut e, &mut keys, &honest, &mut rng);
    e.apply(&k.shares(2, Some(4))).unwrap();
    // A false complaint by trustee 3 against honest trustee 1 is refused.
    one_step_each(&mut e, &mut keys, &honest, &mut rng);
    let false_complaint = k.complaint(3, 1, &e);
    assert!(matches!(
        e.apply(&false_complaint),
        Err(Rejection::FalseComplaint { .. })
    ));
    let steps = run(&mut e, &mut keys, &honest, &mut rng);
    assert_eq!(e.phase(), Phase::Registration);
    assert_eq!(e.qualified_trustees(), &[1, 3, 4, 5]);
    assert!(steps.iter().all(|s| matches!(s, Step::Complete { .. })));
    assert!(matches!(
        keys[1].ceremony_step(&e, &mut rng),
        Err(TrusteeError::Disqualified) | Err(TrusteeError::ConflictingCommitment)
    ));
}

#[test]
fn too_few_honest_trustees_fail_the_ceremony() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut k = kit::Kit::new(3, plain_config(3, 3));
    let mut e = Election::new();
    e.apply(&k.setup()).unwrap();
    let mut keys = trustee_keys(&k);
    e.apply(&k.commitment(3)).unwrap();
    one_step_each(&mut e, &mut keys, &[1u16, 2], &mut rng);
    e.apply(&k.shares(3, Some(1))).unwrap();
    let steps = run(&mut e, &mut keys, &[1, 2], &mut rng);
    assert_eq!(e.phase(), Phase::CeremonyFailed);
    assert!(steps
        .iter()
        .all(|s| matches!(s, Step::Failed(m) if m.contains("fewer than 3"))));
}

#[test]
fn decryption_with_absent_and_cheating_trustees() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    // Weighted voters over the example manifest (plurality, approval, score, referendum).
    let cfg = kit::Config {
        trustees: 5,
        threshold: 3,
        voters: (0..20)
            .map(|i| (1 + (i % 4) as u32, (i % 3 == 2) as u16))
            .collect(),
        ..kit::Config::default()
    };
    let mut k = kit::Kit::new(4, cfg);
    let mut e = Election::new();
    e.apply(&k.setup()).unwrap();
    let mut keys = trustee_keys(&k);
    run(&mut e, &mut keys, &[1, 2, 3, 4, 5], &mut rng);
    e.apply(&k.roll(0, 0..20)).unwrap();
    e.apply(&k.open()).unwrap();
    let ctx = e.context().unwrap().clone();
    let mut cast: Vec<(u32, u16, Choices)> = Vec::new();
    for v in 0..20 {
        let c = k.random_choices(k.voters[v].style);
        e.apply(&k.ballot(v, &c, &ctx)).unwrap();
        cast.push((k.voters[v].weight, k.voters[v].style, c));
    }
    // Too early: decryption needs the polls closed.
    assert!(matches!(
        keys[0].decryption_share(&e, &mut rng),
        Err(TrusteeError::WrongPhase(Phase::Voting))
    ));
    e.apply(&k.close()).unwrap();
    // Trustees 4 and 5 are absent. Trustee 2 first tries a share with one point altered.
    let honest2 = keys[1].decryption_share(&e, &mut rng).unwrap();
    let Payload::DecryptionShare(mut bad) =
        Payload::decode(honest2.kind(), honest2.payload()).unwrap()
    else {
        panic!()
    };
    bad.shares[1].0 = bad.shares[0].0;
    let p = Payload::DecryptionShare(bad);
    let forged = Entry::sign(k.id(), p.kind(), &p.to_bytes(), keys[1].signing_key()).unwrap();
    assert!(matches!(
        e.apply(&forged),
        Err(Rejection::InvalidDecryptionShare { .. })
    ));
    e.apply(&keys[0].decryption_share(&e, &mut rng).unwrap())
        .unwrap();
    assert!(matches!(
        urna_tally::result::compute(&e),
        Err(urna_tally::result::TallyError::Combine(_))
    ));
    e.apply(&honest2).unwrap();
    e.apply(&keys[2].decryption_share(&e, &mut rng).unwrap())
        .unwrap();
    let result = urna_tally::result::compute(&e).unwrap();
    assert_eq!(
        result,
        ElectionResult {
            counts: kit::clear_tally(&k.manifest, &cast)
        }
    );
    let p = Payload::Result(result);
    e.apply(&Entry::sign(k.id(), p.kind(), &p.to_bytes(), &k.authority).unwrap())
        .unwrap();
    assert_eq!(e.phase(), Phase::Finished);
}
