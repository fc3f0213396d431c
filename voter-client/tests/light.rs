//! The voter's light view (`specs/board.md` §5.2) against an honest board, and against a board
//! that tampers with it: every lie — a wrong inclusion proof, an omitted or forged entry, an
//! entry of another credential, a wrong checkpoint, a forked log — is a typed error naming it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::routing::get;
use serde_json::Value;
use urna_board::board::Board;
use urna_client::light::ViewError;
use urna_client::{BoardClient, ClientError};
use urna_election::entry::EntryKind;
use urna_election::state::{BallotStatus, Phase};
use urna_sim::kit;
use urna_voter::cast::Session;
use urna_voter::credential::Credential;

fn runtime_serve(router: axum::Router) -> String {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        rt.block_on(async move { axum::serve(listener, router).await.unwrap() })
    });
    format!("http://{addr}")
}

fn serve(dir: &Path, k: &kit::Kit) -> String {
    let board = Board::open(dir, k.id(), k.board.clone()).unwrap();
    runtime_serve(urna_board::server::app(urna_board::server::start(board).0))
}

/// A board that answers `/info` as the honest one and `/voter/…` with whatever it is told.
struct Liar {
    url: String,
    voter: Arc<Mutex<String>>,
    credential: urna_crypto::sign::VerifyingKey,
}

impl Liar {
    fn new(info: String, credential: urna_crypto::sign::VerifyingKey) -> Liar {
        let voter = Arc::new(Mutex::new(String::new()));
        let v = Arc::clone(&voter);
        let router = axum::Router::new()
            .route("/info", get(move || async move { info }))
            .route(
                "/voter/{c}",
                get(move || async move { v.lock().unwrap().clone() }),
            );
        Liar {
            url: runtime_serve(router),
            voter,
            credential,
        }
    }

    fn serves(&self, body: &Value) -> Result<(), ClientError> {
        *self.voter.lock().unwrap() = body.to_string();
        BoardClient::new(&self.url)
            .voter_view(&self.credential, None, None)
            .map(|_| ())
    }
}

fn credential(k: &kit::Kit, v: usize) -> Credential {
    Credential {
        election_id: k.id().to_string(),
        key: k.voters[v].key.clone(),
    }
}

fn raw_view(url: &str, cred: &Credential) -> Value {
    let body = ureq::get(&format!(
        "{url}/voter/{}",
        urna_crypto::hex::encode(cred.public().as_bytes())
    ))
    .call()
    .unwrap()
    .into_body()
    .read_to_string()
    .unwrap();
    serde_json::from_str(&body).unwrap()
}

fn view_error(r: Result<(), ClientError>) -> ViewError {
    match r {
        Err(ClientError::View(e)) => e,
        other => panic!("expected a view error, got {:?}", other.err()),
    }
}

#[test]
fn the_light_view_holds_what_a_voter_needs_and_every_lie_is_named() {
    let mut k = kit::Kit::new(71, kit::Config::default());
    let dir = tempfile::tempdir().unwrap();
    let url = serve(dir.path(), &k);
    let c = BoardClient::new(&url);
    let vk = k.board.verifying_key();
    let mut setup = vec![k.setup()];
    setup.extend(k.ceremony());
    setup.push(k.roll(0, 0..6));
    setup.push(k.roll(1, 6..12));
    for e in &setup {
        c.submit(e.bytes(), k.id(), &vk).unwrap();
    }
    let (me, other) = (credential(&k, 7), credential(&k, 2));
    // Before the poll opens: the view is there, the phase says so.
    let before = c.voter_view(&me.public(), None, None).unwrap();
    assert_eq!(before.phase(), Phase::Registration);
    assert_eq!(
        before.voter(),
        Some((k.voters[7].weight, k.voters[7].style))
    );
    c.submit(k.open().bytes(), k.id(), &vk).unwrap();
    // Casting through the light session: a challenge, two ballots, another voter's ballot.
    let mut receipts = Vec::new();
    for (cred, times) in [(&me, 2), (&other, 1)] {
        let s = Session::open(&c, cred).unwrap();
        let v = s.view().expect("a light session");
        assert!(v.context().is_some());
        let ch = k.random_choices(s.style());
        s.challenge(s.prepare(&ch, &mut rand::rngs::OsRng).unwrap())
            .unwrap();
        for _ in 0..times {
            let s = Session::open(&c, cred).unwrap();
            let st = s.style();
            let choices = k.random_choices(st);
            let cast = s
                .cast(&s.prepare(&choices, &mut rand::rngs::OsRng).unwrap())
                .unwrap();
            cast.receipt.verify_offline().unwrap();
            receipts.push(cast.receipt);
        }
    }
    let view = c
        .voter_view(&me.public(), None, Some(&before.checkpoint))
        .unwrap();
    assert_eq!(view.phase(), Phase::Voting);
    let kinds: Vec<EntryKind> = view.ballots().iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::ChallengedBallot,
            EntryKind::Ballot,
            EntryKind::Ballot
        ]
    );
    let b = view.ballots();
    assert_eq!(view.standing(b[0].index), Some(BallotStatus::Challenged));
    assert_eq!(
        view.standing(b[1].index),
        Some(BallotStatus::Superseded { by: b[2].index })
    );
    assert_eq!(view.standing(b[2].index), Some(BallotStatus::Counted));
    assert_eq!(view.counted_ballot(), Some(b[2].index));
    // The same as the full replay gives: the session's facts, and every standing.
    let (light, replayed) = (
        Session::open(&c, &me).unwrap(),
        Session::open_full(&c, &me).unwrap(),
    );
    assert!(light.view().is_some() && replayed.election().is_some());
    assert_eq!(
        (
            light.weight(),
            light.style(),
            light.phase(),
            light.counted_ballot()
        ),
        (
            replayed.weight(),
            replayed.style(),
            replayed.phase(),
            replayed.counted_ballot()
        )
    );
    assert_eq!(light.checkpoint(), replayed.checkpoint());
    let full = c.sync(None).unwrap();
    for x in b {
        let replayed = full
            .election()
            .ballots()
            .iter()
            .find(|r| r.index == x.index)
            .unwrap();
        assert_eq!(Some(replayed.status), view.standing(x.index));
    }

    // A board lying about the view.
    let info = ureq::get(&format!("{url}/info"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    let liar = Liar::new(info, me.public());
    let honest = raw_view(&url, &me);
    liar.serves(&honest).unwrap();
    let tamper = |f: &dyn Fn(&mut Value)| {
        let mut v = honest.clone();
        f(&mut v);
        view_error(liar.serves(&v))
    };
    // A wrong inclusion proof.
    let e = tamper(&|v| {
        let h = v["credential"][1]["proof"][0].as_str().unwrap().to_string();
        let flipped = if h.starts_with('0') { "1" } else { "0" };
        v["credential"][1]["proof"][0] = Value::from(format!("{flipped}{}", &h[1..]));
    });
    assert!(matches!(e, ViewError::Inclusion { .. }), "{e}");
    // A forged entry: its bytes changed, its proof kept.
    let e = tamper(&|v| {
        let h = v["credential"][2]["entry"].as_str().unwrap().to_string();
        let n = h.len();
        let last = if h.ends_with('0') { "1" } else { "0" };
        v["credential"][2]["entry"] = Value::from(format!("{}{last}", &h[..n - 1]));
    });
    assert!(matches!(e, ViewError::Inclusion { .. }), "{e}");
    // Omitted entries: the Setup, or the last ceremony entry.
    let e = tamper(&|v| {
        v["election"].as_array_mut().unwrap().remove(0);
    });
    assert_eq!(e, ViewError::NoSetup);
    let e = tamper(&|v| {
        let list = v["election"].as_array_mut().unwrap();
        let at = list.len() - 2;
        list.remove(at);
    });
    assert!(
        matches!(
            e,
            ViewError::WrongPhase {
                kind: EntryKind::OpenVoting,
                ..
            }
        ),
        "{e}"
    );
    // Another credential's ballot (a real entry with a real proof) passed off as this one's.
    let theirs = raw_view(&url, &other);
    let e = tamper(&|v| {
        let mut list = v["credential"].as_array().unwrap().clone();
        list.push(theirs["credential"][2].clone());
        list.sort_by_key(|x| x["index"].as_u64().unwrap());
        v["credential"] = Value::from(list);
    });
    assert!(
        matches!(
            e,
            ViewError::OtherCredential {
                kind: EntryKind::Ballot,
                ..
            }
        ),
        "{e}"
    );
    // Another credential's roll entry in place of this one's.
    let e = tamper(&|v| {
        v["credential"][0] = theirs["credential"][0].clone();
    });
    assert!(
        matches!(
            e,
            ViewError::OtherCredential {
                kind: EntryKind::VoterRoll,
                ..
            }
        ),
        "{e}"
    );
    // A ballot among the election's entries; entries out of order.
    let e = tamper(&|v| {
        let ballot = v["credential"][2].clone();
        v["election"].as_array_mut().unwrap().push(ballot);
    });
    assert!(matches!(e, ViewError::NotForEveryVoter { .. }), "{e}");
    let e = tamper(&|v| {
        v["election"].as_array_mut().unwrap().swap(1, 2);
    });
    assert!(matches!(e, ViewError::OutOfOrder { .. }), "{e}");
    assert_eq!(e.code(), "out-of-order");
    // Wrong checkpoints: a size that is not the signed one; an older signed checkpoint under
    // the current proofs; one signed by another key.
    let e = tamper(&|v| v["size"] = Value::from(v["size"].as_u64().unwrap() + 1));
    assert!(matches!(e, ViewError::WrongSize { .. }), "{e}");
    let e = tamper(&|v| {
        v["checkpoint"] = Value::from(before.note.clone());
        v["size"] = Value::from(before.checkpoint.size);
    });
    assert!(
        matches!(
            e,
            ViewError::PastCheckpoint { .. } | ViewError::Inclusion { .. }
        ),
        "{e}"
    );
    let mut forged = honest.clone();
    let cp =
        urna_ledger::note::Checkpoint::open(honest["checkpoint"].as_str().unwrap(), k.id(), &vk)
            .unwrap();
    forged["checkpoint"] =
        Value::from(cp.sign(&urna_crypto::sign::SigningKey::from_seed(&[5; 32])));
    assert!(matches!(liar.serves(&forged), Err(ClientError::Note(_))));

    // A fork: another log under the same key is not an extension of the view the voter saw.
    let fork_dir = tempfile::tempdir().unwrap();
    let fork = BoardClient::new(&serve(fork_dir.path(), &k));
    for e in &setup {
        fork.submit(e.bytes(), k.id(), &vk).unwrap();
    }
    fork.submit(k.open().bytes(), k.id(), &vk).unwrap();
    for _ in 0..5 {
        let s = Session::open(&fork, &other).unwrap();
        let st = s.style();
        s.cast(
            &s.prepare(&k.random_choices(st), &mut rand::rngs::OsRng)
                .unwrap(),
        )
        .unwrap();
    }
    assert!(matches!(
        fork.voter_view(&me.public(), None, Some(&view.checkpoint)),
        Err(ClientError::Misbehaved(_))
    ));

    // `urna receipt check` without the log: each receipt judged on its credential's view, read
    // with the receipt's checkpoint as the one to extend.
    use urna_voter::receipt::{judge_light, ReceiptError, Verdict};
    let judge = |client: &BoardClient, r: &urna_voter::receipt::BallotReceipt| {
        let cp = r.verify_offline().unwrap();
        let author = *urna_election::entry::Entry::decode(r.entry.clone())
            .unwrap()
            .author();
        let (v, witnessed) = client.voter_view_witnessed(&author, None, Some(&cp))?;
        assert!(witnessed.is_none(), "the kit's manifest names no witnesses");
        Ok::<_, ClientError>(judge_light(r, &v, witnessed.as_ref()))
    };
    let size = view.checkpoint.size;
    let want = |standing| Verdict::Decided {
        standing,
        covered: size,
        closed: false,
    };
    assert_eq!(
        judge(&c, &receipts[0]).unwrap().unwrap(),
        want(BallotStatus::Superseded { by: b[2].index })
    );
    assert_eq!(
        judge(&c, &receipts[1]).unwrap().unwrap(),
        want(BallotStatus::Counted)
    );
    // The light verdicts are the full replay's.
    for r in &receipts[..2] {
        use urna_voter::receipt::Judge;
        let checked = c.sync_checked(None).unwrap();
        assert_eq!(r.judge(&checked).unwrap(), judge(&c, r).unwrap().unwrap());
    }
    // A receipt judged on a view that does not hold its ballot (another credential's): missing.
    let (theirs_view, _) = c.voter_view_witnessed(&other.public(), None, None).unwrap();
    assert!(matches!(
        judge_light(&receipts[0], &theirs_view, None),
        Err(ReceiptError::Missing(_))
    ));
    // A receipt the forked board gave: the honest board's view does not extend its checkpoint.
    let s = Session::open(&fork, &me).unwrap();
    let st = s.style();
    let forked = s
        .cast(
            &s.prepare(&k.random_choices(st), &mut rand::rngs::OsRng)
                .unwrap(),
        )
        .unwrap()
        .receipt;
    assert!(matches!(
        judge(&c, &forked),
        Err(ClientError::Misbehaved(_))
    ));
    // And the honest board's receipts checked against the fork: refused the same way.
    assert!(matches!(
        judge(&fork, &receipts[1]),
        Err(ClientError::Misbehaved(_))
    ));
}
