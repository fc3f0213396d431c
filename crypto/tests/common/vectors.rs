//! The deterministic generator of `specs/vectors/`, shared by `examples/gen-vectors.rs` (which
//! writes the files) and `tests/vectors.rs` (which checks the committed files still match).
//!
//! Everything is drawn from ChaCha20 seeded with a fixed label per file, in a fixed order, so the
//! output is reproducible byte for byte.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use urna_crypto::codec::Encode;
use urna_crypto::elgamal::{Ciphertext, SecretKey};
use urna_crypto::group::{self, mul_g, Point};
use urna_crypto::hex;
use urna_crypto::secret::SecretScalar;
use urna_crypto::sigma::{ChaumPedersenProof, DisjunctiveProof, DleqStatement, SchnorrProof};
use urna_crypto::sign::SigningKey;
use urna_crypto::Scalar;

fn rng(label: &str) -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    let b = label.as_bytes();
    seed[..b.len().min(32)].copy_from_slice(&b[..b.len().min(32)]);
    ChaCha20Rng::from_seed(seed)
}

fn hx<T: Encode>(v: &T) -> String {
    hex::encode(&v.to_bytes())
}

fn seed_note(label: &str) -> Value {
    json!(format!(
        "ChaCha20 seeded with the ASCII bytes {label:?} zero-padded to 32 bytes"
    ))
}

pub fn group() -> Value {
    let hs: Vec<Value> = [
        ("test", &b""[..]),
        ("test", b"abc"),
        ("election", b"\x00\x01\x02"),
    ]
    .iter()
    .map(|(label, data)| {
        json!({
            "label": label,
            "data": hex::encode(data),
            "scalar": hex::encode(group::hash_to_scalar(label.as_bytes(), data).as_bytes()),
        })
    })
    .collect();
    let nums: Vec<Value> = ["pedersen-blinding", "test"]
        .iter()
        .map(|l| json!({"label": l, "point": hx(&Point::from_point(group::nums_generator(l.as_bytes())))}))
        .collect();
    json!({
        "description": "Generators (§2.4) and hash-to-scalar (§2.5).",
        "G": hx(&Point::from_point(*group::g())),
        "H": hx(&Point::from_point(*group::h())),
        "nums_generators": nums,
        "hash_to_scalar": hs,
    })
}

pub fn elgamal() -> Value {
    let mut r = rng("urna-v1 vectors elgamal");
    let sk = SecretKey::random(&mut r);
    let pk = sk.public_key().expect("non-identity key");
    let mut cts = Vec::new();
    let mut cases = Vec::new();
    for m in [0u64, 1, 2, 1000, (1 << 40) - 1] {
        let nonce = SecretScalar::random(&mut r);
        let ct = Ciphertext::encrypt(&pk, m, &nonce);
        cts.push((m, ct));
        cases.push(json!({
            "m": m,
            "r": hex::encode(nonce.expose().as_bytes()),
            "ciphertext": hx(&ct),
        }));
    }
    let weights = [3u64, 1, 7, 2, 1];
    let weighted: Vec<Ciphertext> = cts
        .iter()
        .zip(weights)
        .map(|((_, c), w)| c.scale(w))
        .collect();
    let (a, b) = Ciphertext::sum(&weighted);
    let total: u64 = cts.iter().zip(weights).map(|((m, _), w)| m * w).sum();
    json!({
        "description": "Exponential ElGamal (§4): Enc(m; r) = (r·G, m·G + r·K); a weighted homomorphic sum.",
        "seed": seed_note("urna-v1 vectors elgamal"),
        "k": hex::encode(sk.scalar().expose().as_bytes()),
        "K": hx(pk.point()),
        "encryptions": cases,
        "weighted_sum": {
            "weights": weights,
            "sum": hex::encode(&[Point::from_point(a).to_bytes(), Point::from_point(b).to_bytes()].concat()),
            "m": total,
            "M": hx(&Point::from_point(sk.decrypt_to_point(&Ciphertext::from_points(a, b)))),
        },
    })
}

pub fn sigma() -> Value {
    let mut r = rng("urna-v1 vectors sigma");
    let ctx = b"urna test vectors: context bytes";

    let x = SecretScalar::random(&mut r);
    let big_x = Point::from_point(mul_g(x.expose()));
    let schnorr = SchnorrProof::prove(&x, &big_x, ctx, &mut r);

    let u = Point::from_point(group::nums_generator(b"test"));
    let y = Point::from_point(x.expose() * u.point());
    let st = DleqStatement {
        u: &u,
        x: &big_x,
        y: &y,
    };
    let cp = ChaumPedersenProof::prove(&x, st, ctx, &mut r);

    let sk = SecretKey::random(&mut r);
    let pk = sk.public_key().expect("non-identity key");
    let mut disj = Vec::new();
    for (m, l) in [(0u64, 1u64), (1, 1), (2, 3), (0, 3)] {
        let (ct, nonce) = Ciphertext::encrypt_random(&pk, m, &mut r);
        let p = DisjunctiveProof::prove(&pk, &ct, m, &nonce, l, ctx, &mut r).expect("m ≤ L");
        disj.push(json!({"L": l, "m": m, "ciphertext": hx(&ct), "proof": hx(&p)}));
    }
    json!({
        "description": "Sigma proofs (§5). Every proof verifies under ctx; m is informative only.",
        "seed": seed_note("urna-v1 vectors sigma"),
        "ctx": hex::encode(ctx),
        "schnorr": {"X": hx(&big_x), "proof": hx(&schnorr)},
        "chaum_pedersen": {"U": hx(&u), "X": hx(&big_x), "Y": hx(&y), "proof": hx(&cp)},
        "disjunctive": {"K": hx(pk.point()), "cases": disj},
    })
}

pub fn signature() -> Value {
    let mut r = rng("urna-v1 vectors signature");
    let sk = SigningKey::generate(&mut r);
    let msg = b"urna test message";
    json!({
        "description": "Ed25519 (§10), strict verification.",
        "seed": seed_note("urna-v1 vectors signature"),
        "secret_seed": hex::encode(sk.seed()),
        "public": hx(&sk.verifying_key()),
        "message": hex::encode(msg),
        "signature": hx(&sk.sign(msg)),
    })
}

/// The rejection corpus: each case names the error code it must produce.
pub fn reject() -> Value {
    let mut r = rng("urna-v1 vectors reject");
    let ctx = b"urna reject corpus";
    let mut cases = Vec::new();
    let mut case = |name: &str, op: &str, input: Value, error: &str| {
        cases.push(json!({"name": name, "op": op, "input": input, "error": error}));
    };

    let g_hex = hx(&Point::from_point(*group::g()));
    case(
        "point: identity",
        "decode:Point",
        json!(hex::encode(&[0u8; 32])),
        "identity-point",
    );
    let mut p_bytes = [0xffu8; 32];
    p_bytes[0] = 0xed;
    p_bytes[31] = 0x7f;
    case(
        "point: field element p (non-canonical)",
        "decode:Point",
        json!(hex::encode(&p_bytes)),
        "invalid-point",
    );
    let mut one = [0u8; 32];
    one[0] = 1;
    case(
        "point: s = 1 is negative",
        "decode:Point",
        json!(hex::encode(&one)),
        "invalid-point",
    );
    case(
        "point: 31 bytes",
        "decode:Point",
        json!(&g_hex[..62]),
        "truncated",
    );
    case(
        "point: trailing byte",
        "decode:Point",
        json!(format!("{g_hex}00")),
        "trailing-bytes",
    );
    let l_bytes = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
    case(
        "scalar: ℓ",
        "decode:Scalar",
        json!(l_bytes),
        "non-canonical-scalar",
    );
    case(
        "scalar: 2^256 − 1",
        "decode:Scalar",
        json!("ff".repeat(32)),
        "non-canonical-scalar",
    );

    let sk = SecretKey::random(&mut r);
    let pk = sk.public_key().expect("non-identity key");
    let (ct, nonce) = Ciphertext::encrypt_random(&pk, 1, &mut r);
    let ct_hex = hx(&ct);
    case(
        "ciphertext: alpha is the identity",
        "decode:Ciphertext",
        json!(format!("{}{}", "00".repeat(32), &ct_hex[64..])),
        "identity-point",
    );
    let proof = DisjunctiveProof::prove(&pk, &ct, 1, &nonce, 1, ctx, &mut r).expect("m ≤ L");
    let proof_hex = hx(&proof);
    let stmt = |ct: &str, proof: &str, l: u64, ctx: &[u8]| json!({"K": hx(pk.point()), "ciphertext": ct, "L": l, "ctx": hex::encode(ctx), "proof": proof});
    case(
        "disjunctive: valid proof under another context",
        "verify:disjunctive",
        stmt(&ct_hex, &proof_hex, 1, b"another election"),
        "proof-invalid",
    );
    let swapped = format!("{}{}", &ct_hex[64..], &ct_hex[..64]);
    case(
        "disjunctive: swapped ciphertext components",
        "verify:disjunctive",
        stmt(&swapped, &proof_hex, 1, ctx),
        "proof-invalid",
    );
    case(
        "disjunctive: proof for L = 1 checked against L = 2",
        "verify:disjunctive",
        stmt(&ct_hex, &proof_hex, 2, ctx),
        "shape-mismatch",
    );
    let (two, _) = Ciphertext::encrypt_random(&pk, 2, &mut r);
    case(
        "disjunctive: Enc(2) with a 0/1 proof made for another ciphertext",
        "verify:disjunctive",
        stmt(&hx(&two), &proof_hex, 1, ctx),
        "proof-invalid",
    );
    case(
        "disjunctive: one branch only",
        "verify:disjunctive",
        stmt(
            &ct_hex,
            &format!("01{}", &proof_hex[2..2 + 192 + 64]),
            0,
            ctx,
        ),
        "invalid",
    );
    case(
        "disjunctive: truncated",
        "verify:disjunctive",
        stmt(&ct_hex, &proof_hex[..proof_hex.len() - 2], 1, ctx),
        "truncated",
    );
    let mut id_a = proof_hex.clone();
    id_a.replace_range(2..66, &"00".repeat(32));
    case(
        "disjunctive: commitment A_0 is the identity",
        "verify:disjunctive",
        stmt(&ct_hex, &id_a, 1, ctx),
        "identity-point",
    );

    let x = SecretScalar::random(&mut r);
    let big_x = Point::from_point(mul_g(x.expose()));
    let u = Point::from_point(group::nums_generator(b"test"));
    let y_wrong = Point::from_point((x.expose() + Scalar::ONE) * u.point());
    let st = DleqStatement {
        u: &u,
        x: &big_x,
        y: &y_wrong,
    };
    let cp = ChaumPedersenProof::prove(&x, st, ctx, &mut r);
    case(
        "chaum-pedersen: Y = (x+1)·U",
        "verify:chaum_pedersen",
        json!({"U": hx(&u), "X": hx(&big_x), "Y": hx(&y_wrong), "ctx": hex::encode(ctx), "proof": hx(&cp)}),
        "proof-invalid",
    );
    let s = SchnorrProof::prove(&x, &big_x, ctx, &mut r);
    case(
        "schnorr: another context",
        "verify:schnorr",
        json!({"X": hx(&big_x), "ctx": hex::encode(b"other"), "proof": hx(&s)}),
        "proof-invalid",
    );
    case(
        "schnorr: statement X is the identity",
        "verify:schnorr",
        json!({"X": "00".repeat(32), "ctx": hex::encode(ctx), "proof": hx(&s)}),
        "identity-commitment",
    );

    let sig_key = SigningKey::generate(&mut r);
    let sig = sig_key.sign(b"message");
    let vk = hx(&sig_key.verifying_key());
    case(
        "ed25519: other message",
        "verify:ed25519",
        json!({"public": vk, "message": hex::encode(b"messagE"), "signature": hx(&sig)}),
        "bad-signature",
    );
    let mut big_s = sig.to_bytes();
    big_s[32..].copy_from_slice(&hex::decode(l_bytes).expect("hex"));
    case(
        "ed25519: s = ℓ (non-canonical)",
        "verify:ed25519",
        json!({"public": vk, "message": hex::encode(b"message"), "signature": hex::encode(&big_s)}),
        "bad-signature",
    );
    case(
        "ed25519: small-order public key",
        "verify:ed25519",
        json!({"public": hex::encode(&one), "message": hex::encode(b"message"), "signature": hx(&sig)}),
        "invalid",
    );

    json!({
        "description": "Rejection corpus (§11): each case must fail with exactly the named error code.",
        "seed": seed_note("urna-v1 vectors reject"),
        "cases": cases,
    })
}

/// Every vector file: (path relative to `specs/vectors/`, contents).
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("group.json", group()),
        ("elgamal.json", elgamal()),
        ("sigma.json", sigma()),
        ("signature.json", signature()),
        ("reject/crypto.json", reject()),
    ]
}

pub fn render(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialise");
    s.push('\n');
    s
}
