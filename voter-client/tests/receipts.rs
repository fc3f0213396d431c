//! The voter client against real boards on loopback: casting, revoting, challenging, receipts
//! checked before and after the tally — and boards that lie after giving a receipt (one drops
//! the ballot, one shows a fork) are caught by the receipt check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_sim::kit;

use std::path::Path;

use urna_board::board::Board;
use urna_client::BoardClient;
use urna_election::entry::Entry;
use urna_voter::credential::Credential;
use urna_voter::receipt::{BallotReceipt, Judge, ReceiptError, Standing, Verdict};
use urna_voter::vote::{self, VoteError};

/// Serves a board from `dir` on a random loopback port; returns its URL.
fn serve(dir: &Path, k: &kit::Kit) -> String {
    let board = Board::open(dir, k.id(), k.board.clone()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        rt.block_on(async move {
            let router = urna_board::server::app(urna_board::server::start(board).0);
            axum::serve(listener, router).await.unwrap();
        })
    });
    format!("http://{addr}")
}

fn post_all(c: &BoardClient, k: &kit::Kit, entries: &[Entry]) {
    for e in entries {
        c.submit(e.bytes(), k.id(), &k.board.verifying_key())
            .unwrap();
    }
}

fn credential(k: &kit::Kit, v: usize) -> Credential {
    Credential {
        election_id: k.id().to_string(),
        key: k.voters[v].key.clone(),
    }
}

fn cast(
    c: &BoardClient,
    cred: &Credential,
    choices: &urna_election::ballot::Choices,
) -> BallotReceipt {
    let s = c.sync(None).unwrap();
    let p = vote::prepare(s.election(), cred, choices, &mut rand::rngs::OsRng).unwrap();
    let receipt = c.submit(p.entry.bytes(), &s.origin, &s.key).unwrap();
    let r = BallotReceipt {
        election_id: s.origin.clone(),
        board_key: s.key,
        entry: p.entry.bytes().to_vec(),
        receipt,
    };
    BallotReceipt::parse(&r.to_text()).unwrap()
}

fn check(c: &BoardClient, r: &BallotReceipt) -> Result<Standing, ReceiptError> {
    let s = c.sync(Some(&r.board_key)).unwrap();
    let standing = r.check(&s, |a, b| {
        c.check_consistency(a, b).map_err(|e| e.to_string())
    });
    // Without witnesses in the manifest, the verdict is decided on the board's whole log.
    if let Ok(st) = &standing {
        let checked = c.sync_checked(Some(&r.board_key)).unwrap();
        assert!(checked.witnessed.is_none());
        match r.judge(&checked).unwrap() {
            Verdict::Decided {
                standing, covered, ..
            } => assert_eq!((standing, covered), (*st, s.log.checkpoint.size)),
            v => panic!("{v:?}"),
        }
    }
    standing
}

#[test]
fn cast_revote_challenge_and_receipts_before_and_after_the_tally() {
    let mut k = kit::Kit::new(61, kit::Config::default());
    let dir = tempfile::tempdir().unwrap();
    let url = serve(dir.path(), &k);
    let c = BoardClient::new(&url);
    let mut setup = vec![k.setup()];
    setup.extend(k.ceremony());
    setup.push(k.roll(0, 0..12));
    post_all(&c, &k, &setup);
    let cred = credential(&k, 0);
    let choices = k.random_choices(k.voters[0].style);
    let s = c.sync(None).unwrap();
    assert!(matches!(
        vote::prepare(s.election(), &cred, &choices, &mut rand::rngs::OsRng),
        Err(VoteError::NotOpenYet(_))
    ));
    post_all(&c, &k, &[k.open()]);
    let s = c.sync(None).unwrap();
    // A credential not on the roll, and one for another election.
    let stranger = Credential {
        election_id: k.id().into(),
        key: urna_crypto::sign::SigningKey::from_seed(&[7; 32]),
    };
    assert!(matches!(
        vote::prepare(s.election(), &stranger, &choices, &mut rand::rngs::OsRng),
        Err(VoteError::NotOnRoll)
    ));
    let elsewhere = Credential {
        election_id: "other.example/x".into(),
        key: k.voters[0].key.clone(),
    };
    assert!(matches!(
        vote::prepare(s.election(), &elsewhere, &choices, &mut rand::rngs::OsRng),
        Err(VoteError::OtherElection { .. })
    ));
    // Challenge: opens to the choices shown, is published, is never counted.
    let p = vote::prepare(s.election(), &cred, &choices, &mut rand::rngs::OsRng).unwrap();
    let audited = p.challenge(s.election(), &cred).unwrap();
    c.submit(audited.bytes(), &s.origin, &s.key).unwrap();
    let first = cast(&c, &cred, &choices);
    assert_eq!(check(&c, &first).unwrap(), Standing::Counted);
    let second = cast(&c, &cred, &k.random_choices(k.voters[0].style));
    assert_eq!(
        check(&c, &first).unwrap(),
        Standing::Superseded {
            by: second.receipt.index
        }
    );
    assert_eq!(
        vote::counted_ballot(c.sync(None).unwrap().election(), &cred),
        Some(second.receipt.index)
    );
    // A ballot prepared before an election change is detected as stale.
    let s = c.sync(None).unwrap();
    let p = vote::prepare(
        s.election(),
        &credential(&k, 1),
        &k.random_choices(k.voters[1].style),
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    assert!(p.still_valid_for(s.election()));
    post_all(&c, &k, &[k.close()]);
    let s = c.sync(None).unwrap();
    assert!(!p.still_valid_for(s.election()));
    assert!(matches!(
        vote::prepare(s.election(), &cred, &choices, &mut rand::rngs::OsRng),
        Err(VoteError::Closed(_))
    ));
    for i in [1u16, 2] {
        let e = k.decryption_share(i, s.election());
        post_all(&c, &k, &[e]);
    }
    let s = c.sync(None).unwrap();
    post_all(&c, &k, &[k.result(s.election())]);
    assert_eq!(check(&c, &second).unwrap(), Standing::Counted);
    second.verify_offline().unwrap();
}

#[test]
fn a_board_that_drops_a_ballot_or_forks_is_caught() {
    let mut k = kit::Kit::new(62, kit::Config::default());
    let honest_dir = tempfile::tempdir().unwrap();
    let url = serve(honest_dir.path(), &k);
    let c = BoardClient::new(&url);
    let mut setup = vec![k.setup()];
    setup.extend(k.ceremony());
    setup.push(k.roll(0, 0..12));
    setup.push(k.open());
    post_all(&c, &k, &setup);
    let r = cast(&c, &credential(&k, 3), &k.random_choices(k.voters[3].style));
    let later = cast(&c, &credential(&k, 4), &k.random_choices(k.voters[4].style));
    assert_eq!(check(&c, &r).unwrap(), Standing::Counted);

    // The same board key later serves a log without the ballot (re-built from the others).
    let dropped_dir = tempfile::tempdir().unwrap();
    let dropped = BoardClient::new(&serve(dropped_dir.path(), &k));
    post_all(&dropped, &k, &setup);
    dropped
        .submit(&later.entry, k.id(), &k.board.verifying_key())
        .unwrap();
    let more = cast(
        &dropped,
        &credential(&k, 5),
        &k.random_choices(k.voters[5].style),
    );
    assert!(more.receipt.index >= r.receipt.index);
    assert!(matches!(
        check(&dropped, &r),
        Err(ReceiptError::Inconsistent(_))
    ));

    // A fork: same size as the receipt's checkpoint, different contents.
    let fork_dir = tempfile::tempdir().unwrap();
    let fork = BoardClient::new(&serve(fork_dir.path(), &k));
    post_all(&fork, &k, &setup);
    let _other = cast(
        &fork,
        &credential(&k, 6),
        &k.random_choices(k.voters[6].style),
    );
    assert!(matches!(check(&fork, &r), Err(ReceiptError::Inconsistent(m)) if m.contains("forked")));

    // Offline, the receipt still proves what the board signed: evidence of its misbehaviour.
    r.verify_offline().unwrap();
}

/// The cast flow as the library runs it: a session finds the credential on the roll, a
/// challenge publishes an audited ballot, a cast returns a verified receipt naming the ballot
/// it replaces — and a ballot prepared before the polls closed is not sent after.
#[test]
fn a_session_casts_challenges_and_refuses_once_the_polls_close() {
    use urna_voter::cast::{CastError, Session};
    let mut k = kit::Kit::new(62, kit::Config::default());
    let dir = tempfile::tempdir().unwrap();
    let url = serve(dir.path(), &k);
    let c = BoardClient::new(&url);
    let mut setup = vec![k.setup()];
    setup.extend(k.ceremony());
    setup.push(k.roll(0, 0..12));
    setup.push(k.open());
    post_all(&c, &k, &setup);
    let stranger = Credential {
        election_id: k.id().to_string(),
        key: urna_crypto::sign::SigningKey::from_seed(&[9; 32]),
    };
    assert!(matches!(
        Session::open(&c, &stranger),
        Err(CastError::Vote(VoteError::NotOnRoll))
    ));
    let cred = credential(&k, 0);
    let session = Session::open(&c, &cred).unwrap();
    assert_eq!(
        (session.weight(), session.style()),
        (k.voters[0].weight, k.voters[0].style)
    );
    assert!(matches!(
        session.choices("no-such-contest=x"),
        Err(CastError::ChoicesSyntax(_))
    ));
    let choices = k.random_choices(k.voters[0].style);
    let prepared = session.prepare(&choices, &mut rand::rngs::OsRng).unwrap();
    session.challenge(prepared).unwrap();
    let first = session
        .cast(&session.prepare(&choices, &mut rand::rngs::OsRng).unwrap())
        .unwrap();
    assert_eq!(first.replaces, None);
    first
        .receipt
        .verify_offline()
        .expect("the receipt verifies offline");
    let session = Session::open(&c, &cred).unwrap();
    let again = session
        .cast(&session.prepare(&choices, &mut rand::rngs::OsRng).unwrap())
        .unwrap();
    assert_eq!(again.replaces, Some(first.receipt.receipt.index));
    // Prepared while voting was open, cast after the close: not sent.
    let session = Session::open(&c, &cred).unwrap();
    let late = session.prepare(&choices, &mut rand::rngs::OsRng).unwrap();
    post_all(&c, &k, &[k.close()]);
    assert!(matches!(
        session.cast(&late),
        Err(CastError::PhaseChanged(
            urna_election::state::Phase::Tallying
        ))
    ));
}
