//! Ranked contests end to end, every party a separate `urna` process on loopback: two mixers
//! that are not trustees, voters ranking (with a write-in, a challenge and a revote), the
//! close, a forged mix the board refuses with its code, the mixers in turn (the second
//! waiting for the first), the trustees decrypting the mixed lists, the count with its rounds
//! and pairwise matrix in text, JSON and CSV, and `urna verify` with a finding per ranked
//! contest.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{fails, field, ok, register_and_open, spawn, urna, Roles, PASSPHRASE};
use urna_client::{BoardClient, ClientError};
use urna_crypto::sign::SigningKey;
use urna_election::entry::EntryKind;
use urna_election::payload::Payload;

const ORIGIN: &str = "ranked.urna.example/2026";

const TABLES: &str = r#"
[[contests]]
id = "mayor"
title = "Mayor"
titles = { zh-CN = "市长" }
kind = "plurality"
options = [{ id = "alice", name = "Alice", names = { zh-CN = "爱丽丝" } }, { id = "bob", name = "Bob" }]

[[contests]]
id = "chair"
title = "Chair"
titles = { zh-CN = "主席" }
kind = "ranked"
method = "irv"
write_ins = 1
write_in_len = 20
options = [{ id = "dan", name = "Dan" }, { id = "eve", name = "李明" }, { id = "fay", name = "Fay" }]

[[contests]]
id = "motto"
title = "Motto"
kind = "ranked"
method = "schulze"
options = [{ id = "x", name = "Ex" }, { id = "y", name = "Why" }, { id = "z", name = "Zed" }]

[[ballot_styles]]
id = "all"
contests = ["mayor", "chair", "motto"]
"#;

/// The mixer key in `path` (sealed with the test passphrase), as the test's forger needs it.
fn mixer_key(path: &str) -> SigningKey {
    let text = std::fs::read_to_string(path).unwrap();
    let seed = urna_crypto::keyfile::open(&text, PASSPHRASE.as_bytes()).unwrap();
    SigningKey::from_seed(&seed[..32].try_into().unwrap())
}

#[test]
fn a_ranked_election_mixed_by_two_mixers_with_separate_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let roles = Roles::init(tmp.path(), ORIGIN, 3);
    let mut mixers = String::new();
    for name in ["Ada", "Bo"] {
        let out = ok(&[
            "mixer",
            "init",
            "--key",
            &d(&format!("{name}.key")),
            "--name",
            name,
        ]);
        mixers.push_str(&format!(
            "\n[[mixers]]\nname = \"{name}\"\nkey = \"{}\"\n",
            field(&out, "key =").trim_matches('"')
        ));
    }
    let manifest = roles.manifest(ORIGIN, "threshold = 2", &format!("{mixers}{TABLES}"));
    let board = roles.serve(tmp.path(), ORIGIN, &manifest);
    let url = board.url.clone();
    support::ceremony(tmp.path(), &url, 3);
    register_and_open(
        tmp.path(),
        &url,
        "voter_id,weight,style\nann,1,all\nben,1,all\ncai,1,all\ndee,1,all\neli,1,all\n",
    );
    let cred = |v: &str| d(&format!("creds/{v}.credential"));
    let vote = |v: &str, choices: &str| {
        ok(&[
            "vote",
            "--board",
            &url,
            "--credential",
            &cred(v),
            "--choices",
            choices,
            "--receipt",
            &d(&format!("{v}.receipt")),
        ])
    };
    // A ranking that cannot be a ballot is refused before anything is encrypted.
    let refused = fails(&[
        "vote",
        "--board",
        &url,
        "--credential",
        &cred("ann"),
        "--choices",
        "mayor=alice;chair=dan>dan",
    ]);
    assert!(refused.contains("Dan is ranked twice"), "{refused}");
    // Ann audits a ballot first: the challenge opens to her ranking, and nothing is cast.
    let challenged = ok(&[
        "vote",
        "--board",
        &url,
        "--credential",
        &cred("ann"),
        "--choices",
        "mayor=alice;chair=dan>eve;motto=x>y>z",
        "--challenge",
    ]);
    assert!(challenged.contains("challenged"), "{challenged}");
    vote("ann", "mayor=alice;chair=dan>eve;motto=x>y>z");
    vote("ben", "mayor=bob;chair=eve>dan;motto=y>x");
    vote("cai", "mayor=bob;chair=fay>eve;motto=y>z>x");
    vote("dee", "mayor=alice;chair=write-in:Zoë Ng>dan;motto=x");
    // Eli first ranks Fay, then changes her mind: only the later ballot is mixed.
    vote("eli", "mayor=bob;chair=fay;motto=z");
    // Her second ballot on a terminal: a ranking that cannot be a ballot is asked again at
    // once, the rankings are summed up and changeable, and a challenge keeps them.
    let interactive = format!(
        "{} vote --board {url} --credential {} --receipt {}",
        support::URNA,
        cred("eli"),
        d("eli.receipt")
    );
    let answers = "bob\neve,eve\neve\nx>y>z>x\ny,x\nchange 2\neve > write-in:\neve\nok\nchallenge\nok\ncast\n";
    if let Some(screen) = support::on_a_terminal(&interactive, answers) {
        for said in [
            "Chair — rank the candidates in order of preference, first choice first",
            "李明 is ranked twice; rank each candidate once. Please answer again.",
            "Ex is ranked twice; rank each candidate once. Please answer again.",
            "a write-in needs a name",
            "2. Chair: 1. 李明",
            "3. Motto: 1. Why  2. Ex",
            "your choices are kept",
            "cast: entry",
        ] {
            assert!(screen.contains(said), "{said:?} not shown:\n{screen}");
        }
        assert!(!screen.contains("Error"), "{screen}");
    } else {
        vote("eli", "mayor=bob;chair=eve;motto=y>x");
    }
    // Ann votes again, the same, on a terminal whose locale is Chinese: the titles, the
    // instructions, a refused ranking and the summary are in Chinese.
    let chinese = format!(
        "LANG=zh_CN.UTF-8 {} vote --board {url} --credential {} --receipt {}",
        support::URNA,
        cred("ann"),
        d("ann.receipt")
    );
    if let Some(screen) =
        support::on_a_terminal(&chinese, "alice\ndan>dan\ndan>eve\nx>y>z\nok\ncast\n")
    {
        for said in [
            "[1/3] 市长 — 选择 1 项",
            "爱丽丝",
            "[2/3] 主席 — 按偏好顺序排列候选人",
            "Dan 排了两次；每位候选人只能排一次。请重新回答。",
            "您的选择：",
            "1. 市长: 爱丽丝",
            "2. 主席: 1. Dan  2. 李明",
            "已投出：记录第",
        ] {
            assert!(screen.contains(said), "{said:?} not shown:\n{screen}");
        }
    } else {
        vote("ann", "mayor=alice;chair=dan>eve;motto=x>y>z");
    }
    ok(&[
        "authority",
        "close",
        "--board",
        &url,
        "--key",
        &d("authority.key"),
    ]);

    // Before the mixers: the tally says what is missing, and posts nothing.
    let early = fails(&["tally", "--board", &url]);
    assert!(
        early.contains("not every ranked contest is decrypted yet"),
        "{early}"
    );

    // A mixer that cheats: its shuffle proof, altered and signed again, is refused with its
    // code; the rows it posted before are made again by its honest run.
    let client = BoardClient::new(&url);
    let s = client.sync(None).unwrap();
    let ada = mixer_key(&d("Ada.key"));
    let chair = 1u16;
    let mut forged =
        urna_election::mixnet::mix_vartime(s.election(), chair, &ada, &mut rand::rngs::OsRng)
            .unwrap();
    let last = forged.pop().unwrap();
    assert_eq!(last.kind(), EntryKind::MixProof);
    let Payload::MixProof(mut p) = Payload::decode(last.kind(), last.payload()).unwrap() else {
        panic!("not a MixProof")
    };
    p.s1 += urna_crypto::Scalar::ONE;
    let p = Payload::MixProof(p);
    let bad = urna_election::entry::Entry::sign(
        &s.origin,
        p.kind(),
        &urna_crypto::codec::Encode::to_bytes(&p),
        &ada,
    )
    .unwrap();
    for x in &forged {
        client.submit(x.bytes(), &s.origin, &s.key).unwrap();
    }
    match client.submit(bad.bytes(), &s.origin, &s.key) {
        Err(ClientError::Rejected { code, .. }) => assert_eq!(code, "invalid-shuffle"),
        other => panic!("a forged shuffle proof was not refused: {other:?}"),
    }

    // Bo (second in the chain) waits for Ada; the trustees wait for both.
    let bo = spawn(&["mixer", "mix", "--board", &url, "--key", &d("Bo.key")]);
    let t1 = spawn(&["trustee", "decrypt", "--board", &url, "--key", &d("t1.key")]);
    let out = urna(&["mixer", "mix", "--board", &url, "--key", &d("Ada.key")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for c in [bo, t1] {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t3.key")]);

    let text = ok(&["tally", "--board", &url]);
    // Chair: first preferences Dan 1, 李明 2, Fay 1, Zoë Ng 1, no majority: candidates are
    // excluded round by round (ties broken by the published lot).
    assert!(text.contains("round 1"), "{text}");
    assert!(text.contains("Chair  (ranked: instant-runoff"), "{text}");
    assert!(text.contains("Zoë Ng (write-in)"), "{text}");
    assert!(text.contains("first preferences"), "{text}");
    assert!(text.contains("pairwise"), "{text}");
    assert!(text.contains("ranking: "), "{text}");
    assert!(text.contains("elected: "), "{text}");

    let json: serde_json::Value =
        serde_json::from_str(&ok(&["tally", "--board", &url, "--json"])).unwrap();
    let chair_json = &json["contests"][1];
    assert_eq!(chair_json["kind"], "ranked");
    assert_eq!(chair_json["ranked"]["ballots"], 5);
    assert_eq!(chair_json["ranked"]["method"], "irv");
    let rounds = chair_json["ranked"]["rounds"].as_array().unwrap();
    assert_eq!(rounds[0]["tallies"], serde_json::json!([1, 2, 1, 1]));
    assert!(rounds.len() >= 2);
    let motto = &json["contests"][2]["ranked"]["pairwise"];
    // x over y: Ann, Dee (x ranked, y not); y over x: Ben, Cai, Eli.
    assert_eq!(
        (motto["d"][0][1].clone(), motto["d"][1][0].clone()),
        (2.into(), 3.into())
    );
    assert_eq!(json["contests"][2]["winners"], serde_json::json!(["y"]));
    assert_eq!(json["contests"][0]["winners"], serde_json::json!(["bob"]));

    let zh = ok(&["tally", "--board", &url, "--lang", "zh-CN"]);
    assert!(
        zh.contains("市长  (plurality") && zh.contains("爱丽丝"),
        "{zh}"
    );
    let csv = ok(&["tally", "--board", &url, "--csv"]);
    assert!(
        csv.contains("\nmotto,Motto,y,Why,3,,true,over:x\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\nmayor,Mayor,bob,Bob,3,60.0,true,\n"),
        "{csv}"
    );

    let report = ok(&["verify", "--board", &url, "--final"]);
    assert!(report.starts_with("VERIFIED"), "{report}");
    assert!(
        report.contains("✓ ranked contest mixed, decrypted and counted with proofs — chair: 5 ballots; mixed by 2 of 2 mixers (Ada, Bo)"),
        "{report}"
    );
    assert!(report.contains("round 1"), "{report}");
}
