//! The frozen vectors in `specs/vectors/` still hold: the generator reproduces them byte for byte,
//! and every vector verifies (or is rejected with exactly its named error) when read from the
//! JSON alone.

#[path = "common/vectors.rs"]
mod vectors;

use std::path::PathBuf;

use serde_json::Value;
use urna_crypto::codec::Decode;
use urna_crypto::elgamal::{message_point, Ciphertext, PublicKey};
use urna_crypto::group::{self, Point};
use urna_crypto::hex;
use urna_crypto::secret::SecretScalar;
use urna_crypto::sigma::{ChaumPedersenProof, DisjunctiveProof, DleqStatement, SchnorrProof};
use urna_crypto::sign::{Signature, VerifyingKey};
use urna_crypto::Scalar;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn de<T: Decode>(v: &Value) -> T {
    T::from_bytes(&bytes(v)).unwrap()
}

#[test]
fn generator_reproduces_the_committed_files() {
    for (name, value) in vectors::all() {
        let committed = std::fs::read_to_string(dir().join(name)).unwrap();
        assert!(
            committed == vectors::render(&value),
            "specs/vectors/{name} differs from the generator: run \
             `cargo run -p urna-crypto --example gen-vectors` and review the diff"
        );
    }
}

#[test]
fn group_vectors() {
    let v = load("group.json");
    assert_eq!(de::<Point>(&v["G"]), Point::from_point(*group::g()));
    assert_eq!(de::<Point>(&v["H"]), Point::from_point(*group::h()));
    for n in v["nums_generators"].as_array().unwrap() {
        let label = n["label"].as_str().unwrap();
        assert_eq!(
            de::<Point>(&n["point"]),
            Point::from_point(group::nums_generator(label.as_bytes()))
        );
    }
    for h in v["hash_to_scalar"].as_array().unwrap() {
        let s = group::hash_to_scalar(h["label"].as_str().unwrap().as_bytes(), &bytes(&h["data"]));
        assert_eq!(de::<Scalar>(&h["scalar"]), s);
    }
}

#[test]
fn elgamal_vectors() {
    let v = load("elgamal.json");
    let k: Scalar = de(&v["k"]);
    let pk: PublicKey = de(&v["K"]);
    assert_eq!(*pk.point(), Point::from_point(group::mul_g(&k)));
    let mut cts = Vec::new();
    for e in v["encryptions"].as_array().unwrap() {
        let m = e["m"].as_u64().unwrap();
        let r = SecretScalar::new(de(&e["r"]));
        let ct: Ciphertext = de(&e["ciphertext"]);
        assert_eq!(Ciphertext::encrypt(&pk, m, &r), ct);
        assert_eq!(ct.beta.point() - k * ct.alpha.point(), message_point(m));
        cts.push(ct);
    }
    let ws = &v["weighted_sum"];
    let weights: Vec<u64> = ws["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_u64().unwrap())
        .collect();
    let scaled: Vec<Ciphertext> = cts.iter().zip(&weights).map(|(c, w)| c.scale(*w)).collect();
    let (a, b) = Ciphertext::sum(&scaled);
    let sum_bytes = bytes(&ws["sum"]);
    let mut r = urna_crypto::codec::Reader::new(&sum_bytes);
    let sum = Ciphertext::decode_allow_identity(&mut r).unwrap();
    assert_eq!(sum, Ciphertext::from_points(a, b));
    assert_eq!(
        de::<Point>(&ws["M"]),
        Point::from_point(message_point(ws["m"].as_u64().unwrap()))
    );
}

#[test]
fn sigma_vectors() {
    let v = load("sigma.json");
    let ctx = bytes(&v["ctx"]);
    let s = &v["schnorr"];
    de::<SchnorrProof>(&s["proof"])
        .verify(&de(&s["X"]), &ctx)
        .unwrap();
    let c = &v["chaum_pedersen"];
    let (u, x, y): (Point, Point, Point) = (de(&c["U"]), de(&c["X"]), de(&c["Y"]));
    de::<ChaumPedersenProof>(&c["proof"])
        .verify(
            DleqStatement {
                u: &u,
                x: &x,
                y: &y,
            },
            &ctx,
        )
        .unwrap();
    let d = &v["disjunctive"];
    let pk: PublicKey = de(&d["K"]);
    for case in d["cases"].as_array().unwrap() {
        let l = case["L"].as_u64().unwrap();
        de::<DisjunctiveProof>(&case["proof"])
            .verify(&pk, &de(&case["ciphertext"]), l, &ctx)
            .unwrap();
    }
}

#[test]
fn signature_vectors() {
    let v = load("signature.json");
    let vk: VerifyingKey = de(&v["public"]);
    let sk = urna_crypto::sign::SigningKey::from_seed(
        &hex::decode_array(v["secret_seed"].as_str().unwrap()).unwrap(),
    );
    assert_eq!(sk.verifying_key(), vk);
    vk.verify(&bytes(&v["message"]), &de::<Signature>(&v["signature"]))
        .unwrap();
}

/// Runs one corpus case and returns the error code it produced (or "accepted").
fn run_case(op: &str, input: &Value) -> String {
    fn code<T>(r: Result<T, impl Into<Code>>) -> Result<T, String> {
        r.map_err(|e| e.into().0)
    }
    let result: Result<(), String> = (|| match op {
        "decode:Point" => code(Point::from_bytes(&bytes(input))).map(drop),
        "decode:Scalar" => code(Scalar::from_bytes(&bytes(input))).map(drop),
        "decode:Ciphertext" => code(Ciphertext::from_bytes(&bytes(input))).map(drop),
        "verify:disjunctive" => {
            let pk: PublicKey = code(PublicKey::from_bytes(&bytes(&input["K"])))?;
            let ct: Ciphertext = code(Ciphertext::from_bytes(&bytes(&input["ciphertext"])))?;
            let p = code(DisjunctiveProof::from_bytes(&bytes(&input["proof"])))?;
            code(p.verify(
                &pk,
                &ct,
                input["L"].as_u64().unwrap(),
                &bytes(&input["ctx"]),
            ))
        }
        "verify:chaum_pedersen" => {
            let u = code(Point::from_bytes(&bytes(&input["U"])))?;
            let x = code(Point::from_bytes(&bytes(&input["X"])))?;
            let y = code(Point::from_bytes(&bytes(&input["Y"])))?;
            let p = code(ChaumPedersenProof::from_bytes(&bytes(&input["proof"])))?;
            code(p.verify(
                DleqStatement {
                    u: &u,
                    x: &x,
                    y: &y,
                },
                &bytes(&input["ctx"]),
            ))
        }
        "verify:schnorr" => {
            // The statement may be deliberately degenerate: decode it leniently.
            let x_bytes = bytes(&input["X"]);
            let mut r = urna_crypto::codec::Reader::new(&x_bytes);
            let x = code(Point::decode_allow_identity(&mut r))?;
            let p = code(SchnorrProof::from_bytes(&bytes(&input["proof"])))?;
            code(p.verify(&x, &bytes(&input["ctx"])))
        }
        "verify:ed25519" => {
            let vk = code(VerifyingKey::from_bytes(&bytes(&input["public"])))?;
            let sig = code(Signature::from_bytes(&bytes(&input["signature"])))?;
            code(vk.verify(&bytes(&input["message"]), &sig))
        }
        other => panic!("unknown corpus op {other}"),
    })();
    match result {
        Ok(()) => "accepted".into(),
        Err(c) => c,
    }
}

struct Code(String);
impl From<urna_crypto::errors::DecodeError> for Code {
    fn from(e: urna_crypto::errors::DecodeError) -> Self {
        Code(e.code().into())
    }
}
impl From<urna_crypto::errors::VerifyError> for Code {
    fn from(e: urna_crypto::errors::VerifyError) -> Self {
        Code(e.code().into())
    }
}

#[test]
fn rejection_corpus_fails_for_the_named_reason() {
    let v = load("reject/crypto.json");
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let got = run_case(case["op"].as_str().unwrap(), &case["input"]);
        assert_eq!(got, case["error"].as_str().unwrap(), "case {name:?}");
    }
}
