//! The deterministic generator of `specs/vectors/`, shared by `examples/gen-vectors.rs` (which
//! writes the files) and `tests/vectors.rs` (which checks the committed files still match).
//!
//! Everything is drawn from ChaCha20 seeded with a fixed label per file, in a fixed order, so the
//! output is reproducible byte for byte.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use urna_crypto::codec::Encode;
use urna_crypto::elgamal::{Ciphertext, PublicKey, SecretKey};
use urna_crypto::embed::{embed, extract, EMBED_BYTES};
use urna_crypto::group::{self, mul_g, Point};
use urna_crypto::hex;
use urna_crypto::range::EncryptedRangeProof;
use urna_crypto::secret::SecretScalar;
use urna_crypto::share_enc;
use urna_crypto::shuffle::{self, Rows, ShuffleGenerators, ShuffleProof, ShuffleStatement};
use urna_crypto::sigma::{
    ChaumPedersenProof, DisjunctiveProof, DleqBatchProof, DleqStatement, LinearProof,
    PlaintextKnowledgeProof, SchnorrProof,
};
use urna_crypto::sign::SigningKey;
use urna_crypto::threshold::{self, Polynomial};
use urna_crypto::transcript::{proof_transcript, TranscriptProtocol};
use urna_crypto::{RistrettoPoint, Scalar};

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
    let v = SecretScalar::new(Scalar::from(5u64));
    let (ct, nonce) = Ciphertext::encrypt_random(&pk, 5, &mut r);
    let gamma = SecretScalar::random(&mut r);
    let com = Point::from_point(mul_g(v.expose()) + gamma.expose() * group::h());
    let lin = LinearProof::prove(&pk, &ct, &com, &v, &nonce, &gamma, ctx, &mut r);
    json!({
        "description": "Sigma proofs (§5). Every proof verifies under ctx; m is informative only.",
        "seed": seed_note("urna-v1 vectors sigma"),
        "ctx": hex::encode(ctx),
        "schnorr": {"X": hx(&big_x), "proof": hx(&schnorr)},
        "chaum_pedersen": {"U": hx(&u), "X": hx(&big_x), "Y": hx(&y), "proof": hx(&cp)},
        "disjunctive": {"K": hx(pk.point()), "cases": disj},
        "linear": {"K": hx(pk.point()), "ciphertext": hx(&ct), "V": hx(&com), "proof": hx(&lin)},
    })
}

pub fn range() -> Value {
    let mut r = rng("urna-v1 vectors range");
    let ctx = b"urna test vectors: range context";
    let sk = SecretKey::random(&mut r);
    let pk = sk.public_key().expect("non-identity key");
    let mut cases = Vec::new();
    // One case per bit size n = 8, 16, 32, 64; the second pads 6 values to m = 8.
    for (i, (values, maxima)) in [
        (vec![7u64], vec![10u64]),
        (vec![0, 3, 1000], vec![1000, 1000, 1000]),
        (vec![300, 0], vec![300, 70_000]),
        (vec![(1 << 40) - 1], vec![1 << 40]),
    ]
    .into_iter()
    .enumerate()
    {
        let nonces: Vec<SecretScalar> = values
            .iter()
            .map(|_| SecretScalar::random(&mut r))
            .collect();
        let cts: Vec<Ciphertext> = values
            .iter()
            .zip(&nonces)
            .map(|(v, n)| Ciphertext::encrypt(&pk, *v, n))
            .collect();
        let p = EncryptedRangeProof::prove(&pk, &cts, &values, &nonces, &maxima, ctx, &mut r)
            .expect("values within bounds");
        cases.push(json!({
            "values": values,
            "maxima": maxima,
            "ciphertexts": cts.iter().map(hx).collect::<Vec<_>>(),
            "proof": hx(&p),
            "trace": range_trace(&pk, &cts, &maxima, ctx, &p, i == 0),
        }));
    }
    let generators: Vec<Value> = (0..2u32)
        .map(|j| {
            let first = |x: u8| -> Vec<String> {
                generator_chain(x, j, 2)
                    .iter()
                    .map(|p| hx(&Point::from_point(*p)))
                    .collect()
            };
            json!({"party": j, "G": first(b'G'), "H": first(b'H')})
        })
        .collect();
    json!({
        "description": "Range proofs (§6): each proof verifies under ctx, K, the ciphertexts and the maxima; values are informative only; trace holds what a verifier computes on the way (§6.4, §6.5).",
        "seed": seed_note("urna-v1 vectors range"),
        "ctx": hex::encode(ctx),
        "K": hx(pk.point()),
        "generators": generators,
        "cases": cases,
    })
}

/// The first `count` points of party `j`'s chain `x` (`b'G'` or `b'H'`), `specs/crypto.md` §6.3.
pub fn generator_chain(x: u8, j: u32, count: usize) -> Vec<RistrettoPoint> {
    use sha3::digest::{ExtendableOutput, Update, XofReader};
    let mut shake = sha3::Shake256::default();
    shake.update(b"GeneratorsChain");
    shake.update(&[x]);
    shake.update(&j.to_le_bytes());
    let mut reader = shake.finalize_xof();
    (0..count)
        .map(|_| {
            let mut wide = [0u8; 64];
            reader.read(&mut wide);
            RistrettoPoint::from_uniform_bytes(&wide)
        })
        .collect()
}

fn scalar_hex(s: &Scalar) -> Value {
    json!(hex::encode(s.as_bytes()))
}

/// What a verifier computes on the way to a range proof's equations (`specs/crypto.md` §6.4 and
/// §6.5), replayed from the proof's bytes: the aggregated commitments, every challenge, `δ(y,z)`
/// and, if `with_s`, the inner-product vector `s`.
fn range_trace(
    pk: &PublicKey,
    cts: &[Ciphertext],
    maxima: &[u64],
    ctx: &[u8],
    proof: &EncryptedRangeProof,
    with_s: bool,
) -> Value {
    let k = cts.len();
    let n = urna_crypto::range::bit_size(maxima);
    let m = (2 * k).next_power_of_two();
    let lg = (n * m).trailing_zeros() as usize;
    let bytes = proof.to_bytes();
    // u16 k, k commitments, k links of 192 bytes, u16 length; then the bulletproof (§6.2).
    let bp = &bytes[2 + 224 * k + 2..];
    let field = |i: usize| &bp[32 * i..32 * i + 32];

    let mut t = proof_transcript(b"range-v1", ctx);
    t.append_point(b"K", pk.point());
    t.append_u64(b"k", k as u64);
    for ((ct, max), v) in cts.iter().zip(maxima).zip(&proof.commitments) {
        t.append_point(b"alpha", &ct.alpha);
        t.append_point(b"beta", &ct.beta);
        t.append_u64(b"max", *max);
        t.append_point(b"V", v);
    }
    let mut aggregated: Vec<Point> = proof
        .commitments
        .iter()
        .zip(maxima)
        .flat_map(|(v, max)| {
            [
                *v,
                Point::from_point(mul_g(&Scalar::from(*max)) - v.point()),
            ]
        })
        .collect();
    aggregated.resize(m, Point::identity());
    t.append_message(b"dom-sep", b"rangeproof v1");
    t.append_u64(b"n", n as u64);
    t.append_u64(b"m", m as u64);
    for v in &aggregated {
        t.append_point(b"V", v);
    }
    t.append_message(b"A", field(0));
    t.append_message(b"S", field(1));
    let y = t.challenge_scalar(b"y");
    let z = t.challenge_scalar(b"z");
    t.append_message(b"T_1", field(2));
    t.append_message(b"T_2", field(3));
    let x = t.challenge_scalar(b"x");
    t.append_message(b"t_x", field(4));
    t.append_message(b"t_x_blinding", field(5));
    t.append_message(b"e_blinding", field(6));
    let w = t.challenge_scalar(b"w");
    t.append_message(b"dom-sep", b"ipp v1");
    t.append_u64(b"n", (n * m) as u64);
    let u: Vec<Scalar> = (0..lg)
        .map(|j| {
            t.append_message(b"L", field(7 + 2 * j));
            t.append_message(b"R", field(8 + 2 * j));
            t.challenge_scalar(b"u")
        })
        .collect();

    let powers = |b: Scalar, count: usize| -> Vec<Scalar> {
        std::iter::successors(Some(Scalar::ONE), |p| Some(p * b))
            .take(count)
            .collect()
    };
    let sum_y: Scalar = powers(y, n * m).iter().sum();
    let sum_z: Scalar = powers(z, m).iter().sum();
    let two_n_minus_1 = Scalar::from(u64::MAX >> (64 - n));
    let delta = (z - z * z) * sum_y - z * z * z * two_n_minus_1 * sum_z;
    let mut s = vec![u.iter().map(Scalar::invert).product::<Scalar>()];
    for i in 1..n * m {
        let top = i.ilog2() as usize;
        s.push(s[i - (1 << top)] * u[lg - 1 - top] * u[lg - 1 - top]);
    }

    let mut trace = json!({
        "n": n,
        "m": m,
        "aggregated_commitments": aggregated.iter().map(hx).collect::<Vec<_>>(),
        "y": scalar_hex(&y),
        "z": scalar_hex(&z),
        "x": scalar_hex(&x),
        "w": scalar_hex(&w),
        "u": u.iter().map(scalar_hex).collect::<Vec<_>>(),
        "delta": scalar_hex(&delta),
    });
    if with_s {
        trace["s"] = s.iter().map(scalar_hex).collect();
    }
    trace
}

pub fn threshold() -> Value {
    let mut r = rng("urna-v1 vectors threshold");
    let ctx = b"urna test vectors: ceremony context";
    let (t, n) = (2usize, 3u16);
    let polys: Vec<Polynomial> = (0..n)
        .map(|_| Polynomial::random(t, &mut r).expect("t ≥ 1"))
        .collect();
    let ceremony: Vec<SecretScalar> = (0..n).map(|_| SecretScalar::random(&mut r)).collect();
    let ceremony_keys: Vec<Point> = ceremony
        .iter()
        .map(|x| Point::from_point(mul_g(x.expose())))
        .collect();
    let commitments: Vec<Vec<Point>> = polys.iter().map(Polynomial::commitments).collect();
    let mut dealers = Vec::new();
    for (i, (p, c)) in polys.iter().zip(&commitments).enumerate() {
        let dealer = i as u16 + 1;
        let proofs = p.prove_coefficients(c, dealer, ctx, &mut r);
        let mut shares = Vec::new();
        for j in 1..=n {
            let s = p.evaluate(j).expect("index ≥ 1");
            let enc = share_enc::encrypt_share(
                &s,
                &ceremony_keys[usize::from(j - 1)],
                dealer,
                j,
                ctx,
                &mut r,
            )
            .expect("encryption");
            shares.push(json!({"recipient": j, "share": hex::encode(s.expose().as_bytes()), "encrypted": hx(&enc)}));
        }
        dealers.push(json!({
            "dealer": dealer,
            "commitments": c.iter().map(hx).collect::<Vec<_>>(),
            "coefficient_proofs": proofs.iter().map(hx).collect::<Vec<_>>(),
            "shares": shares,
        }));
    }
    let dealt: Vec<&[Point]> = commitments.iter().map(Vec::as_slice).collect();
    let joint = threshold::joint_public_key(&dealt);
    let vks: Vec<Point> = (1..=n)
        .map(|j| threshold::verification_key(&dealt, j))
        .collect();
    let key_shares: Vec<SecretScalar> = (1..=n)
        .map(|j| {
            SecretScalar::new(
                polys
                    .iter()
                    .map(|p| *p.evaluate(j).expect("index ≥ 1").expose())
                    .sum(),
            )
        })
        .collect();
    let pk = urna_crypto::elgamal::PublicKey::new(joint).expect("non-identity joint key");
    let (ct, _) = Ciphertext::encrypt_random(&pk, 42, &mut r);
    let dec_ctx = b"urna test vectors: decryption context";
    let partials: Vec<Value> = (0..usize::from(n))
        .map(|j| {
            let (d, proof) =
                threshold::partial_decrypt(&key_shares[j], &vks[j], &ct.alpha, dec_ctx, &mut r);
            json!({"index": j + 1, "D": hx(&d), "proof": hx(&proof)})
        })
        .collect();
    let lagrange: Vec<Value> = [[1u64, 2], [1, 3], [2, 3]]
        .iter()
        .map(|set| {
            let l = threshold::lagrange_at_zero(set).expect("distinct indices");
            json!({"set": set, "lambda": l.iter().map(|x| hex::encode(x.as_bytes())).collect::<Vec<_>>()})
        })
        .collect();
    // Recipient 1 complains (falsely) about dealer 2's good share: the reveal shows it is valid.
    let enc = share_enc::encrypt_share(
        &polys[1].evaluate(1).expect("index ≥ 1"),
        &ceremony_keys[0],
        2,
        1,
        ctx,
        &mut r,
    )
    .expect("encryption");
    let rev = share_enc::reveal(&enc, &ceremony[0], &ceremony_keys[0], 2, 1, ctx, &mut r);
    json!({
        "description": "Threshold primitives and share encryption (§8): a 2-of-3 key generation, key material, partial decryptions of Enc(42), Lagrange coefficients, a complaint decided as ShareValid.",
        "seed": seed_note("urna-v1 vectors threshold"),
        "t": t,
        "n": n,
        "ctx": hex::encode(ctx),
        "ceremony_secrets": ceremony.iter().map(|x| hex::encode(x.expose().as_bytes())).collect::<Vec<_>>(),
        "ceremony_keys": ceremony_keys.iter().map(hx).collect::<Vec<_>>(),
        "dealers": dealers,
        "joint_key": hx(&joint),
        "verification_keys": vks.iter().map(hx).collect::<Vec<_>>(),
        "lagrange": lagrange,
        "decryption": {
            "ctx": hex::encode(dec_ctx),
            "ciphertext": hx(&ct),
            "m": 42,
            "partials": partials,
        },
        "complaint": {
            "dealer": 2,
            "recipient": 1,
            "encrypted": hx(&enc),
            "reveal": hx(&rev),
            "verdict": "share-valid",
        },
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

    let rctx = b"urna reject corpus: range";
    let nonces = vec![SecretScalar::random(&mut r)];
    let cts = vec![Ciphertext::encrypt(&pk, 11, &nonces[0])];
    let rp = EncryptedRangeProof::prove(&pk, &cts, &[11], &nonces, &[11], rctx, &mut r)
        .expect("in range");
    let range_stmt = |maxima: &[u64], ctx: &[u8], proof: &str| json!({"K": hx(pk.point()), "ciphertexts": [hx(&cts[0])], "maxima": maxima, "ctx": hex::encode(ctx), "proof": proof});
    case(
        "range: Enc(11) proven in [0, 11], checked against [0, 10]",
        "verify:range",
        range_stmt(&[10], rctx, &hx(&rp)),
        "proof-invalid",
    );
    case(
        "range: another context",
        "verify:range",
        range_stmt(&[11], b"another election", &hx(&rp)),
        "proof-invalid",
    );
    case(
        "range: proof for 8-bit bounds checked against a 16-bit bound",
        "verify:range",
        range_stmt(&[300], rctx, &hx(&rp)),
        "shape-mismatch",
    );
    let rp_hex = hx(&rp);
    let mut bad_a = rp_hex.clone();
    let a_at = 2 * (2 + 32 + 192 + 2);
    bad_a.replace_range(a_at..a_at + 64, &"ff".repeat(32));
    case(
        "range: bulletproof point A is not a point",
        "verify:range",
        range_stmt(&[11], rctx, &bad_a),
        "invalid-point",
    );
    // The identity decodes inside a bulletproof and fails at verification (specs/crypto.md §6.4).
    let mut id_a = rp_hex.clone();
    id_a.replace_range(a_at..a_at + 64, &"00".repeat(32));
    case(
        "range: bulletproof point A is the identity",
        "verify:range",
        range_stmt(&[11], rctx, &id_a),
        "proof-invalid",
    );
    // t_x is the fifth 32-byte field of the bulletproof; 2^256 − 1 is not a canonical scalar.
    let mut big_tx = rp_hex.clone();
    big_tx.replace_range(a_at + 4 * 64..a_at + 5 * 64, &"ff".repeat(32));
    case(
        "range: bulletproof scalar t_x is not canonical",
        "verify:range",
        range_stmt(&[11], rctx, &big_tx),
        "non-canonical-scalar",
    );
    case(
        "range: bulletproof truncated by one point",
        "verify:range",
        range_stmt(&[11], rctx, &{
            let mut t = rp_hex[..rp_hex.len() - 64].to_string();
            let len = (rp_hex.len() / 2 - (2 + 32 + 192 + 2)) - 32;
            t.replace_range(
                2 * (2 + 32 + 192)..2 * (2 + 32 + 192) + 4,
                &format!("{len:04x}"),
            );
            t
        }),
        "invalid",
    );

    let (_, keys) = threshold::deal_in_memory(2, 3, &mut r).expect("2 of 3");
    let alpha = Point::from_point(mul_g(&Scalar::from(99u64)));
    let wrong = SecretScalar::new(keys[0].0.expose() + Scalar::ONE);
    let (d, pd) = threshold::partial_decrypt(&wrong, &keys[0].1, &alpha, ctx, &mut r);
    case(
        "partial decryption: made with a wrong share",
        "verify:partial_decryption",
        json!({"VK": hx(&keys[0].1), "alpha": hx(&alpha), "D": hx(&d), "ctx": hex::encode(ctx), "proof": hx(&pd)}),
        "proof-invalid",
    );
    let (d, pd) = threshold::partial_decrypt(&keys[0].0, &keys[0].1, &alpha, ctx, &mut r);
    case(
        "partial decryption: valid share checked against another trustee's key",
        "verify:partial_decryption",
        json!({"VK": hx(&keys[1].1), "alpha": hx(&alpha), "D": hx(&d), "ctx": hex::encode(ctx), "proof": hx(&pd)}),
        "proof-invalid",
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

/// One shuffle of `rows × width` fresh encryptions, proved; everything an independent verifier
/// needs, and the intermediate values it can compare.
fn shuffle_case(
    r: &mut ChaCha20Rng,
    pk: &PublicKey,
    gens: &ShuffleGenerators,
    rows: usize,
    width: usize,
    ctx: &[u8],
    mixer: &[u8],
) -> (Value, Vec<Ciphertext>, Vec<Ciphertext>, ShuffleProof) {
    let inputs: Vec<Ciphertext> = (0..rows * width)
        .map(|m| Ciphertext::encrypt_random(pk, m as u64, r).0)
        .collect();
    let in_rows = Rows::new(&inputs, width).expect("width divides");
    let (outputs, witness) = shuffle::shuffle(pk, in_rows, r).expect("shuffle");
    let st = ShuffleStatement {
        pk,
        inputs: in_rows,
        outputs: Rows::new(&outputs, width).expect("width divides"),
    };
    let proof = ShuffleProof::prove_vartime(gens, &st, &witness, mixer, ctx, r).expect("proof");
    let ch = proof.challenges(gens, &st, mixer, ctx).expect("shape");
    let scalars = |v: &[Scalar]| {
        v.iter()
            .map(|x| hex::encode(x.as_bytes()))
            .collect::<Vec<_>>()
    };
    let case = json!({
        "rows": rows,
        "width": width,
        "ctx": hex::encode(ctx),
        "mixer": hex::encode(mixer),
        "inputs": inputs.iter().map(hx).collect::<Vec<_>>(),
        "outputs": outputs.iter().map(hx).collect::<Vec<_>>(),
        "permutation": witness.permutation().as_slice(),
        "randomness": witness.randomness().iter().map(|x| hex::encode(x.expose().as_bytes())).collect::<Vec<_>>(),
        "u": scalars(&ch.u),
        "x": scalars(&ch.x),
        "c": hex::encode(ch.c.as_bytes()),
        "proof": hx(&proof),
    });
    (case, inputs, outputs, proof)
}

const SHUFFLE_SEED: &[u8] = b"urna test vectors: shuffle generators";

pub fn shuffle() -> Value {
    let mut r = rng("urna-v1 vectors shuffle");
    let pk = SecretKey::random(&mut r)
        .public_key()
        .expect("non-identity key");
    let gens = ShuffleGenerators::derive(SHUFFLE_SEED, 5).expect("small seed");
    let pt = |p: &urna_crypto::RistrettoPoint| hx(&Point::from_point(*p));
    let mut f_i = vec![pt(gens.chain_base())];
    f_i.extend(gens.message().iter().map(pt));
    let cases: Vec<Value> = [(1, 1, &b"mixer A"[..]), (4, 2, b""), (5, 1, b"mixer B")]
        .iter()
        .map(|&(rows, width, mixer)| {
            shuffle_case(
                &mut r,
                &pk,
                &gens,
                rows,
                width,
                b"urna test vectors: shuffle context",
                mixer,
            )
            .0
        })
        .collect();
    json!({
        "description": "Verifiable shuffle (§12). Each proof verifies under K, the generator seed, ctx, mixer, inputs and outputs; permutation, randomness, u, x and c are informative (output i re-encrypts input row permutation[i] with randomness[i·w + k]).",
        "seed": seed_note("urna-v1 vectors shuffle"),
        "K": hx(pk.point()),
        "generators": {
            "seed": hex::encode(SHUFFLE_SEED),
            "F": pt(gens.blinding()),
            "F_i": f_i,
        },
        "cases": cases,
    })
}

/// The shuffle's rejection corpus: a file of its own, because `web/test/reject.test.js` runs
/// `reject/crypto.json` and has no shuffle verifier.
pub fn reject_shuffle() -> Value {
    let mut r = rng("urna-v1 vectors reject shuffle");
    let pk = SecretKey::random(&mut r)
        .public_key()
        .expect("non-identity key");
    let gens = ShuffleGenerators::derive(SHUFFLE_SEED, 3).expect("small seed");
    let ctx = b"urna reject corpus: shuffle";
    let mixer = b"mixer";
    let (_, inputs, outputs, proof) = shuffle_case(&mut r, &pk, &gens, 3, 1, ctx, mixer);
    let p = hx(&proof);
    let hexes = |cts: &[Ciphertext]| cts.iter().map(hx).collect::<Vec<_>>();
    let stmt = |seed: &[u8],
                ctx: &[u8],
                mixer: &[u8],
                width: usize,
                ins: Vec<String>,
                outs: Vec<String>,
                proof: &str| {
        json!({"K": hx(pk.point()), "seed": hex::encode(seed), "ctx": hex::encode(ctx), "mixer": hex::encode(mixer), "width": width, "inputs": ins, "outputs": outs, "proof": proof})
    };
    let good = |proof: &str| {
        stmt(
            SHUFFLE_SEED,
            ctx,
            mixer,
            1,
            hexes(&inputs),
            hexes(&outputs),
            proof,
        )
    };
    let mut cases = Vec::new();
    let mut case = |name: &str, op: &str, input: Value, error: &str| {
        cases.push(json!({"name": name, "op": op, "input": input, "error": error}));
    };
    // Field offsets for N = 3, w = 1 (§12.7).
    let (c0, d0) = (6, 6 + 96);
    let s_prime0 = 6 + 32 * (2 * 3 + 3 + 2 + 1) + 32 * (3 + 1 + 1);
    let edit = |at: usize, bytes: &str| {
        let mut h = p.clone();
        h.replace_range(2 * at..2 * at + bytes.len(), bytes);
        h
    };
    case(
        "shuffle proof: zero rows",
        "decode:ShuffleProof",
        json!(edit(0, "00000000")),
        "length-out-of-range",
    );
    case(
        "shuffle proof: zero width",
        "decode:ShuffleProof",
        json!(edit(4, "0000")),
        "length-out-of-range",
    );
    case(
        "shuffle proof: last byte missing",
        "decode:ShuffleProof",
        json!(&p[..p.len() - 2]),
        "truncated",
    );
    case(
        "shuffle proof: trailing byte",
        "decode:ShuffleProof",
        json!(format!("{p}00")),
        "trailing-bytes",
    );
    case(
        "shuffle proof: more rows than bytes",
        "decode:ShuffleProof",
        json!(edit(0, "00000004")),
        "truncated",
    );
    let ell = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
    case(
        "shuffle proof: response s'_2 is ℓ",
        "decode:ShuffleProof",
        json!(edit(s_prime0 + 32, ell)),
        "non-canonical-scalar",
    );
    case(
        "shuffle proof: C_2 is not a point encoding",
        "decode:ShuffleProof",
        json!(edit(
            c0 + 32,
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
        )),
        "invalid-point",
    );
    case(
        "shuffle proof: D_1 is the identity",
        "decode:ShuffleProof",
        json!(edit(d0, &"00".repeat(32))),
        "identity-point",
    );

    case(
        "shuffle: the valid proof under another context",
        "verify:shuffle",
        stmt(
            SHUFFLE_SEED,
            b"another election",
            mixer,
            1,
            hexes(&inputs),
            hexes(&outputs),
            &p,
        ),
        "proof-invalid",
    );
    case(
        "shuffle: the valid proof for another mixer",
        "verify:shuffle",
        stmt(
            SHUFFLE_SEED,
            ctx,
            b"another mixer",
            1,
            hexes(&inputs),
            hexes(&outputs),
            &p,
        ),
        "proof-invalid",
    );
    case(
        "shuffle: the valid proof under generators from another seed",
        "verify:shuffle",
        stmt(
            b"another seed",
            ctx,
            mixer,
            1,
            hexes(&inputs),
            hexes(&outputs),
            &p,
        ),
        "proof-invalid",
    );
    let mut swapped = outputs.clone();
    swapped.swap(0, 2);
    case(
        "shuffle: two output rows exchanged",
        "verify:shuffle",
        stmt(
            SHUFFLE_SEED,
            ctx,
            mixer,
            1,
            hexes(&inputs),
            hexes(&swapped),
            &p,
        ),
        "proof-invalid",
    );
    let mut replaced = outputs.clone();
    replaced[1] = Ciphertext::encrypt_random(&pk, 1, &mut r).0;
    case(
        "shuffle: one output replaced",
        "verify:shuffle",
        stmt(
            SHUFFLE_SEED,
            ctx,
            mixer,
            1,
            hexes(&inputs),
            hexes(&replaced),
            &p,
        ),
        "proof-invalid",
    );
    let mut duplicated = outputs.clone();
    duplicated[1] = duplicated[0];
    case(
        "shuffle: one output duplicated over another",
        "verify:shuffle",
        stmt(
            SHUFFLE_SEED,
            ctx,
            mixer,
            1,
            hexes(&inputs),
            hexes(&duplicated),
            &p,
        ),
        "proof-invalid",
    );
    case(
        "shuffle: one output dropped",
        "verify:shuffle",
        stmt(
            SHUFFLE_SEED,
            ctx,
            mixer,
            1,
            hexes(&inputs),
            hexes(&outputs[..2]),
            &p,
        ),
        "shape-mismatch",
    );
    case(
        "shuffle: inputs and outputs exchanged",
        "verify:shuffle",
        stmt(
            SHUFFLE_SEED,
            ctx,
            mixer,
            1,
            hexes(&outputs),
            hexes(&inputs),
            &p,
        ),
        "proof-invalid",
    );
    let mut id_out = hexes(&outputs);
    id_out[2].replace_range(..64, &"00".repeat(32));
    case(
        "shuffle: an output's alpha is the identity",
        "verify:shuffle",
        stmt(SHUFFLE_SEED, ctx, mixer, 1, hexes(&inputs), id_out, &p),
        "identity-point",
    );
    let wide_in: Vec<Ciphertext> = (0..6)
        .map(|m| Ciphertext::encrypt_random(&pk, m, &mut r).0)
        .collect();
    let wide_gens = ShuffleGenerators::derive(SHUFFLE_SEED, 3).expect("small seed");
    let (wide_out, wide_wit) =
        shuffle::shuffle(&pk, Rows::new(&wide_in, 2).expect("width divides"), &mut r)
            .expect("shuffle");
    let wide_st = ShuffleStatement {
        pk: &pk,
        inputs: Rows::new(&wide_in, 2).expect("width divides"),
        outputs: Rows::new(&wide_out, 2).expect("width divides"),
    };
    let wide = ShuffleProof::prove_vartime(&wide_gens, &wide_st, &wide_wit, mixer, ctx, &mut r)
        .expect("proof");
    case(
        "shuffle: a proof for 3 rows of 2 read as 6 rows of 1",
        "verify:shuffle",
        stmt(
            SHUFFLE_SEED,
            ctx,
            mixer,
            1,
            hexes(&wide_in),
            hexes(&wide_out),
            &hx(&wide),
        ),
        "shape-mismatch",
    );
    case(
        "shuffle: the valid proof with the last response cut",
        "verify:shuffle",
        good(&p[..p.len() - 64]),
        "truncated",
    );

    json!({
        "description": "Rejection corpus of the shuffle (§12.7): each case must fail with exactly the named error code.",
        "seed": seed_note("urna-v1 vectors reject shuffle"),
        "cases": cases,
    })
}

fn scalars(v: &[Scalar]) -> Vec<String> {
    v.iter().map(|s| hex::encode(s.as_bytes())).collect()
}

/// The primitives of mixing ranked ballots (§13–§15): the embedding of bytes as points, the
/// proof of knowledge of plaintexts, and the batched equality of discrete logarithms.
pub fn mix() -> Value {
    let mut r = rng("urna-v1 vectors mix");
    let random_payload = |r: &mut ChaCha20Rng| {
        let mut p = [0u8; EMBED_BYTES];
        r.fill_bytes(&mut p);
        p
    };
    let mut text = [0u8; EMBED_BYTES];
    text[..16].copy_from_slice(b"\x03\x01\x05\x00Zo\xc3\xab Ng\x00\x00\x00\x00\x00");
    let payloads = [
        [0u8; EMBED_BYTES],
        text,
        random_payload(&mut r),
        random_payload(&mut r),
    ];
    let embeddings: Vec<Value> = payloads
        .iter()
        .map(|p| {
            let point = embed(p).expect("embeddable");
            let enc = point.compress().to_bytes();
            json!({"payload": hex::encode(p), "point": hex::encode(&enc), "counter": enc[0] / 2})
        })
        .collect();
    // A point whose bytes carry a payload at a counter that is not the first to decode.
    let p = random_payload(&mut r);
    let first = embed(&p).expect("embeddable").compress().to_bytes()[0];
    let later = (first / 2 + 1..128)
        .find_map(|j| {
            let mut enc = [0u8; 32];
            enc[0] = 2 * j;
            enc[1..31].copy_from_slice(&p);
            curve25519_dalek::ristretto::CompressedRistretto(enc)
                .decompress()
                .map(|_| enc)
        })
        .expect("another counter decodes");
    assert_eq!(extract(&later), None);

    let pk = SecretKey::random(&mut r)
        .public_key()
        .expect("non-identity key");
    let ctx = b"urna test vectors: mix context";
    let knowledge: Vec<Value> = [1usize, 3]
        .iter()
        .map(|&n| {
            let (cts, rs): (Vec<Ciphertext>, Vec<SecretScalar>) = (0..n)
                .map(|_| {
                    let m = embed(&random_payload(&mut r)).expect("embeddable");
                    let rr = SecretScalar::random(&mut r);
                    (Ciphertext::encrypt_point(&pk, &m, &rr), rr)
                })
                .unzip();
            let proof = PlaintextKnowledgeProof::prove(&pk, &cts, &rs, ctx, &mut r).expect("proof");
            let (z, c) = proof.challenges(&pk, &cts, ctx).expect("challenges");
            json!({
                "ciphertexts": cts.iter().map(hx).collect::<Vec<_>>(),
                "nonces": rs.iter().map(|s| hex::encode(s.expose().as_bytes())).collect::<Vec<_>>(),
                "proof": hx(&proof),
                "z": scalars(&z),
                "c": hex::encode(c.as_bytes()),
            })
        })
        .collect();

    let x = SecretScalar::random(&mut r);
    let big_x = Point::from_point(mul_g(x.expose()));
    let batches: Vec<Value> = [1usize, 4]
        .iter()
        .map(|&n| {
            let us: Vec<Point> = (0..n)
                .map(|_| Point::from_point(mul_g(&Scalar::random(&mut r))))
                .collect();
            let ys: Vec<Point> = us
                .iter()
                .map(|u| Point::from_point(x.expose() * u.point()))
                .collect();
            let proof = DleqBatchProof::prove(&x, &big_x, &us, &ys, ctx, &mut r).expect("proof");
            let (z, c) = proof.challenges(&big_x, &us, &ys, ctx).expect("challenges");
            json!({
                "U": us.iter().map(hx).collect::<Vec<_>>(),
                "Y": ys.iter().map(hx).collect::<Vec<_>>(),
                "proof": hx(&proof),
                "z": scalars(&z),
                "c": hex::encode(c.as_bytes()),
            })
        })
        .collect();
    json!({
        "description": "Mixing ranked ballots: bytes embedded as points (§15; `counter` informative), a proof of knowledge of plaintexts (§13; `nonces`, `z`, `c` informative) and a batched Chaum-Pedersen proof (§14; `x`, `z`, `c` informative). Every proof verifies under `ctx`.",
        "seed": seed_note("urna-v1 vectors mix"),
        "ctx": hex::encode(ctx),
        "embedding": {
            "cases": embeddings,
            "later_counter": {"point": hex::encode(&later), "payload": hex::encode(&p)},
        },
        "plaintext_knowledge": {"K": hx(pk.point()), "cases": knowledge},
        "dleq_batch": {"X": hx(&big_x), "x": hex::encode(x.expose().as_bytes()), "cases": batches},
    })
}

/// The corpus of the mixing primitives (§13–§15), apart from `reject/crypto.json` for the same
/// reason as the shuffle's.
pub fn reject_mix() -> Value {
    let mut r = rng("urna-v1 vectors reject mix");
    let pk = SecretKey::random(&mut r)
        .public_key()
        .expect("non-identity key");
    let ctx = b"urna reject corpus: mix";
    let (cts, rs): (Vec<Ciphertext>, Vec<SecretScalar>) = (0..3)
        .map(|m| Ciphertext::encrypt_random(&pk, m, &mut r))
        .unzip();
    let pok = PlaintextKnowledgeProof::prove(&pk, &cts, &rs, ctx, &mut r).expect("proof");
    let hexes = |cts: &[Ciphertext]| cts.iter().map(hx).collect::<Vec<_>>();
    let knowledge = |cts: Vec<String>, ctx: &[u8], proof: String| json!({"K": hx(pk.point()), "ciphertexts": cts, "ctx": hex::encode(ctx), "proof": proof});
    let mut cases = Vec::new();
    let mut case = |name: &str, op: &str, input: Value, error: &str| {
        cases.push(json!({"name": name, "op": op, "input": input, "error": error}));
    };
    let op = "verify:plaintext_knowledge";
    case(
        "plaintext knowledge: the valid proof",
        op,
        knowledge(hexes(&cts), ctx, hx(&pok)),
        "accepted",
    );
    case(
        "plaintext knowledge: the valid proof under another context",
        op,
        knowledge(hexes(&cts), b"another ballot", hx(&pok)),
        "proof-invalid",
    );
    let mut swapped = cts.clone();
    swapped.swap(0, 2);
    case(
        "plaintext knowledge: two ciphertexts exchanged",
        op,
        knowledge(hexes(&swapped), ctx, hx(&pok)),
        "proof-invalid",
    );
    case(
        "plaintext knowledge: the last ciphertext left out",
        op,
        knowledge(hexes(&cts[..2]), ctx, hx(&pok)),
        "proof-invalid",
    );
    // A re-randomised copy of another's ciphertext: its maker knows only the added nonce.
    let extra = SecretScalar::random(&mut r);
    let mut copied = cts.clone();
    copied[1] = Ciphertext::from_points(
        copied[1].alpha.point() + mul_g(extra.expose()),
        copied[1].beta.point() + pk.mul(extra.expose()),
    );
    let guess = vec![rs[0].clone(), extra, rs[2].clone()];
    let forged = PlaintextKnowledgeProof::prove(&pk, &copied, &guess, ctx, &mut r).expect("proof");
    case(
        "plaintext knowledge: a re-randomised copy of another's ciphertext",
        op,
        knowledge(hexes(&copied), ctx, hx(&forged)),
        "proof-invalid",
    );
    case(
        "plaintext knowledge: no ciphertext",
        op,
        knowledge(vec![], ctx, hx(&pok)),
        "shape-mismatch",
    );
    let mut a_identity = hx(&pok);
    a_identity.replace_range(..64, &"00".repeat(32));
    case(
        "plaintext knowledge: A is the identity",
        op,
        knowledge(hexes(&cts), ctx, a_identity),
        "identity-point",
    );

    let x = SecretScalar::random(&mut r);
    let big_x = Point::from_point(mul_g(x.expose()));
    let us: Vec<Point> = (0..3)
        .map(|_| Point::from_point(mul_g(&Scalar::random(&mut r))))
        .collect();
    let ys: Vec<Point> = us
        .iter()
        .map(|u| Point::from_point(x.expose() * u.point()))
        .collect();
    let batch = DleqBatchProof::prove(&x, &big_x, &us, &ys, ctx, &mut r).expect("proof");
    let pts = |v: &[Point]| v.iter().map(hx).collect::<Vec<_>>();
    let dleq = |us: Vec<String>, ys: Vec<String>, ctx: &[u8], proof: String| json!({"X": hx(&big_x), "U": us, "Y": ys, "ctx": hex::encode(ctx), "proof": proof});
    let op = "verify:dleq_batch";
    case(
        "batched Chaum-Pedersen: the valid proof",
        op,
        dleq(pts(&us), pts(&ys), ctx, hx(&batch)),
        "accepted",
    );
    let mut wrong = ys.clone();
    wrong[1] = Point::from_point(wrong[1].point() + mul_g(&Scalar::ONE));
    case(
        "batched Chaum-Pedersen: one Y is not x·U",
        op,
        dleq(pts(&us), pts(&wrong), ctx, hx(&batch)),
        "proof-invalid",
    );
    let lying = DleqBatchProof::prove(&x, &big_x, &us, &wrong, ctx, &mut r).expect("proof");
    case(
        "batched Chaum-Pedersen: a proof made over one wrong Y",
        op,
        dleq(pts(&us), pts(&wrong), ctx, hx(&lying)),
        "proof-invalid",
    );
    case(
        "batched Chaum-Pedersen: the valid proof for another list of U",
        op,
        dleq(pts(&ys), pts(&ys), ctx, hx(&batch)),
        "proof-invalid",
    );
    case(
        "batched Chaum-Pedersen: the valid proof under another context",
        op,
        dleq(pts(&us), pts(&ys), b"another list", hx(&batch)),
        "proof-invalid",
    );
    case(
        "batched Chaum-Pedersen: one Y fewer than U",
        op,
        dleq(pts(&us), pts(&ys[..2]), ctx, hx(&batch)),
        "shape-mismatch",
    );
    let mut y_identity = pts(&ys);
    y_identity[2] = "00".repeat(32);
    case(
        "batched Chaum-Pedersen: a Y is the identity",
        op,
        dleq(pts(&us), y_identity, ctx, hx(&batch)),
        "identity-point",
    );

    let op = "extract:embedding";
    let g = Point::from_point(*group::g());
    case(
        "embedding: the generator (byte 31 is not 0)",
        op,
        json!(hx(&g)),
        "not-an-embedding",
    );
    let mut p = [7u8; EMBED_BYTES];
    p[0] = 1;
    let first = embed(&p).expect("embeddable").compress().to_bytes();
    case(
        "embedding: the first counter that decodes",
        op,
        json!(hex::encode(&first)),
        "accepted",
    );
    let later = (first[0] / 2 + 1..128)
        .find_map(|j| {
            let mut enc = first;
            enc[0] = 2 * j;
            curve25519_dalek::ristretto::CompressedRistretto(enc)
                .decompress()
                .map(|_| enc)
        })
        .expect("another counter decodes");
    case(
        "embedding: the same payload at a later counter",
        op,
        json!(hex::encode(&later)),
        "not-an-embedding",
    );

    json!({
        "description": "Rejection corpus of the mixing primitives (§13–§15): each case must fail with exactly the named error code (`accepted`: must not fail).",
        "seed": seed_note("urna-v1 vectors reject mix"),
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
        ("range.json", range()),
        ("threshold.json", threshold()),
        ("shuffle.json", shuffle()),
        ("mix.json", mix()),
        ("reject/crypto.json", reject()),
        ("reject/shuffle.json", reject_shuffle()),
        ("reject/mix.json", reject_mix()),
    ]
}

pub fn render(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialise");
    s.push('\n');
    s
}
