//! The frozen vectors in `specs/vectors/` still hold: the generator reproduces them byte for byte,
//! and every vector verifies (or is rejected with exactly its named error) when read from the
//! JSON alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "common/vectors.rs"]
mod vectors;

use std::path::PathBuf;

use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use serde_json::Value;
use urna_crypto::codec::Decode;
use urna_crypto::elgamal::{message_point, Ciphertext, PublicKey};
use urna_crypto::embed::{embed, extract};
use urna_crypto::group::{self, Point};
use urna_crypto::hex;
use urna_crypto::range::EncryptedRangeProof;
use urna_crypto::secret::SecretScalar;
use urna_crypto::share_enc::{self, ComplaintVerdict, DecryptionReveal, EncryptedShare};
use urna_crypto::shuffle::{Rows, ShuffleGenerators, ShuffleProof, ShuffleStatement};
use urna_crypto::sigma::{
    ChaumPedersenProof, DisjunctiveProof, DleqBatchProof, DleqStatement, LinearProof,
    PlaintextKnowledgeProof, SchnorrProof,
};
use urna_crypto::sign::{Signature, VerifyingKey};
use urna_crypto::threshold;
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
    let l = &v["linear"];
    de::<LinearProof>(&l["proof"])
        .verify(&de(&l["K"]), &de(&l["ciphertext"]), &de(&l["V"]), &ctx)
        .unwrap();
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

fn list<T: Decode>(v: &Value) -> Vec<T> {
    v.as_array().unwrap().iter().map(de).collect()
}

#[test]
fn range_vectors() {
    let v = load("range.json");
    let ctx = bytes(&v["ctx"]);
    let pk: PublicKey = de(&v["K"]);
    let mut rng = rand::thread_rng();
    for case in v["cases"].as_array().unwrap() {
        let cts: Vec<Ciphertext> = list(&case["ciphertexts"]);
        let maxima = u64s(&case["maxima"]);
        de::<EncryptedRangeProof>(&case["proof"])
            .verify(&pk, &cts, &maxima, &ctx, &mut rng)
            .unwrap();
        range_trace_satisfies_the_spec_equations(case);
    }
    for g in v["generators"].as_array().unwrap() {
        let j = g["party"].as_u64().unwrap() as u32;
        for x in ["G", "H"] {
            let chain = vectors::generator_chain(x.as_bytes()[0], j, 2);
            let listed: Vec<Point> = list(&g[x]);
            assert_eq!(
                listed,
                chain.into_iter().map(Point::from_point).collect::<Vec<_>>()
            );
        }
    }
}

/// Evaluates the two verification equations of `specs/crypto.md` §6.5 from the spec's byte
/// layout (§6.2), generators (§6.3) and the case's published trace. They hold only if the trace
/// holds the very challenges the prover answered, so this pins both the trace and the spec text
/// against proofs that `bulletproofs` made and verified.
fn range_trace_satisfies_the_spec_equations(case: &Value) {
    use urna_crypto::RistrettoPoint;
    let tr = &case["trace"];
    let sc = |v: &Value| -> Scalar { de(v) };
    let (n, m) = (
        tr["n"].as_u64().unwrap() as usize,
        tr["m"].as_u64().unwrap() as usize,
    );
    let (y, z, x, w) = (sc(&tr["y"]), sc(&tr["z"]), sc(&tr["x"]), sc(&tr["w"]));
    let u: Vec<Scalar> = list(&tr["u"]);
    let lg = u.len();
    assert_eq!(1 << lg, n * m);
    let proof = bytes(&case["proof"]);
    let k = u64s(&case["maxima"]).len();
    let bp = &proof[2 + 224 * k + 2..];
    assert_eq!(bp.len(), 32 * (9 + 2 * lg));
    let field = |i: usize| -> [u8; 32] { bp[32 * i..32 * i + 32].try_into().unwrap() };
    let pt = |i: usize| *Point::from_wire_allow_identity(&field(i)).unwrap().point();
    let scal = |i: usize| Scalar::from_canonical_bytes(field(i)).unwrap();
    let (a_pt, s_pt, t1, t2) = (pt(0), pt(1), pt(2), pt(3));
    let (t_x, t_x_blinding, e_blinding) = (scal(4), scal(5), scal(6));
    let (a, b) = (scal(7 + 2 * lg), scal(8 + 2 * lg));
    let agg: Vec<Point> = tr["aggregated_commitments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            Point::from_wire_allow_identity(&hex::decode_array(h.as_str().unwrap()).unwrap())
                .unwrap()
        })
        .collect();
    assert_eq!(agg.len(), m);

    let powers = |base: Scalar, count: usize| -> Vec<Scalar> {
        std::iter::successors(Some(Scalar::ONE), |p| Some(p * base))
            .take(count)
            .collect()
    };
    let (zz, yp, zp, twos) = (
        z * z,
        powers(y, n * m),
        powers(z, m),
        powers(Scalar::from(2u64), n),
    );
    let delta = (z - zz) * yp.iter().sum::<Scalar>()
        - zz * z * twos.iter().sum::<Scalar>() * zp.iter().sum::<Scalar>();
    assert_eq!(delta, sc(&tr["delta"]));
    let mut s = vec![u.iter().map(Scalar::invert).product::<Scalar>()];
    for i in 1..n * m {
        let mut si = Scalar::ONE;
        for (j, uj) in u.iter().enumerate() {
            si *= if (i >> (lg - 1 - j)) & 1 == 1 {
                *uj
            } else {
                uj.invert()
            };
        }
        s.push(si);
    }
    if let Some(listed) = tr.get("s") {
        assert_eq!(list::<Scalar>(listed), s);
    }

    let (g, h) = (*group::g(), *group::h());
    // (E1) the polynomial commitment.
    let e1 = RistrettoPoint::vartime_multiscalar_mul(
        zp.iter()
            .map(|zj| zz * zj)
            .chain([delta - t_x, -t_x_blinding, x, x * x]),
        agg.iter().map(|v| *v.point()).chain([g, h, t1, t2]),
    );
    assert!(e1.is_identity(), "E1 fails for the published trace");
    // (E2) the inner-product argument.
    let gens = |c: u8| -> Vec<RistrettoPoint> {
        (0..m as u32)
            .flat_map(|j| vectors::generator_chain(c, j, n))
            .collect()
    };
    let y_inv = powers(y.invert(), n * m);
    let mut scalars = vec![Scalar::ONE, x, -e_blinding, w * (t_x - a * b)];
    let mut points = vec![a_pt, s_pt, h, g];
    scalars.extend(s.iter().map(|si| -z - a * si));
    points.extend(gens(b'G'));
    scalars.extend(
        (0..n * m).map(|i| z + y_inv[i] * (zz * zp[i / n] * twos[i % n] - b * s[n * m - 1 - i])),
    );
    points.extend(gens(b'H'));
    for (j, uj) in u.iter().enumerate() {
        scalars.extend([uj * uj, (uj * uj).invert()]);
        points.extend([pt(7 + 2 * j), pt(8 + 2 * j)]);
    }
    let e2 = RistrettoPoint::vartime_multiscalar_mul(scalars, points);
    assert!(e2.is_identity(), "E2 fails for the published trace");
}

#[test]
fn threshold_vectors() {
    let v = load("threshold.json");
    let ctx = bytes(&v["ctx"]);
    let ceremony_keys: Vec<Point> = list(&v["ceremony_keys"]);
    let ceremony: Vec<SecretScalar> = v["ceremony_secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| SecretScalar::new(de(s)))
        .collect();
    let mut commitments = Vec::new();
    for d in v["dealers"].as_array().unwrap() {
        let dealer = d["dealer"].as_u64().unwrap() as u16;
        let c: Vec<Point> = list(&d["commitments"]);
        let proofs: Vec<SchnorrProof> = list(&d["coefficient_proofs"]);
        threshold::verify_coefficient_proofs(&c, &proofs, dealer, &ctx).unwrap();
        for s in d["shares"].as_array().unwrap() {
            let j = s["recipient"].as_u64().unwrap() as u16;
            let share: Scalar = de(&s["share"]);
            threshold::verify_share(&share, j, &c).unwrap();
            let enc: EncryptedShare = de(&s["encrypted"]);
            let k = usize::from(j - 1);
            let got = share_enc::decrypt_share(
                &enc,
                &ceremony[k],
                &ceremony_keys[k],
                &c,
                dealer,
                j,
                &ctx,
            )
            .unwrap();
            assert_eq!(*got.expose(), share);
        }
        commitments.push(c);
    }
    let dealt: Vec<&[Point]> = commitments.iter().map(Vec::as_slice).collect();
    assert_eq!(
        de::<Point>(&v["joint_key"]),
        threshold::joint_public_key(&dealt)
    );
    let vks: Vec<Point> = list(&v["verification_keys"]);
    for (j, vk) in vks.iter().enumerate() {
        assert_eq!(*vk, threshold::verification_key(&dealt, j as u16 + 1));
    }
    for l in v["lagrange"].as_array().unwrap() {
        let got = threshold::lagrange_at_zero(&u64s(&l["set"])).unwrap();
        assert_eq!(got, list::<Scalar>(&l["lambda"]));
    }
    let dec = &v["decryption"];
    let dctx = bytes(&dec["ctx"]);
    let ct: Ciphertext = de(&dec["ciphertext"]);
    let mut shares = Vec::new();
    for p in dec["partials"].as_array().unwrap() {
        let j = p["index"].as_u64().unwrap();
        let d: Point = de(&p["D"]);
        let proof: ChaumPedersenProof = de(&p["proof"]);
        let mut batch = urna_crypto::batch::BatchVerifier::new(&mut rand::thread_rng());
        threshold::queue_partial(
            &vks[j as usize - 1],
            &ct.alpha,
            &d,
            &proof,
            &dctx,
            &mut batch,
        )
        .unwrap();
        batch.verify_vartime().unwrap();
        shares.push((j, d));
    }
    let m = dec["m"].as_u64().unwrap();
    for pair in [[0usize, 1], [0, 2], [1, 2]] {
        let chosen: Vec<(u64, Point)> = pair.iter().map(|&i| shares[i]).collect();
        let k_alpha = threshold::combine_shares(&chosen).unwrap();
        assert_eq!(ct.beta.point() - k_alpha, message_point(m));
    }
    let c = &v["complaint"];
    let dealer = c["dealer"].as_u64().unwrap() as u16;
    let recipient = c["recipient"].as_u64().unwrap() as u16;
    let verdict = share_enc::verify_complaint(
        &de::<EncryptedShare>(&c["encrypted"]),
        &de::<DecryptionReveal>(&c["reveal"]),
        &ceremony_keys[usize::from(recipient - 1)],
        &commitments[usize::from(dealer - 1)],
        dealer,
        recipient,
        &ctx,
    );
    assert_eq!(verdict, ComplaintVerdict::ShareValid);
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

#[test]
fn shuffle_vectors() {
    let v = load("shuffle.json");
    let pk: PublicKey = de(&v["K"]);
    let gv = &v["generators"];
    let seed = bytes(&gv["seed"]);
    let f_i: Vec<Point> = list(&gv["F_i"]);
    let gens = ShuffleGenerators::derive(&seed, f_i.len() - 1).unwrap();
    assert_eq!(de::<Point>(&gv["F"]), Point::from_point(*gens.blinding()));
    assert_eq!(f_i[0], Point::from_point(*gens.chain_base()));
    for (got, want) in gens.message().iter().zip(&f_i[1..]) {
        assert_eq!(Point::from_point(*got), *want);
    }
    for case in v["cases"].as_array().unwrap() {
        let w = case["width"].as_u64().unwrap() as usize;
        let inputs: Vec<Ciphertext> = list(&case["inputs"]);
        let outputs: Vec<Ciphertext> = list(&case["outputs"]);
        let st = ShuffleStatement {
            pk: &pk,
            inputs: Rows::new(&inputs, w).unwrap(),
            outputs: Rows::new(&outputs, w).unwrap(),
        };
        assert_eq!(st.inputs.len() as u64, case["rows"].as_u64().unwrap());
        let (ctx, mixer) = (bytes(&case["ctx"]), bytes(&case["mixer"]));
        let proof: ShuffleProof = de(&case["proof"]);
        proof
            .verify(&gens, &st, &mixer, &ctx, &mut rand::thread_rng())
            .unwrap();
        let ch = proof.challenges(&gens, &st, &mixer, &ctx).unwrap();
        assert_eq!(ch.u, list::<Scalar>(&case["u"]));
        assert_eq!(ch.x, list::<Scalar>(&case["x"]));
        assert_eq!(ch.c, de::<Scalar>(&case["c"]));
        // The informative witness: output i re-encrypts input row permutation[i].
        let perm = u64s(&case["permutation"]);
        let rho: Vec<Scalar> = list(&case["randomness"]);
        for (i, &src) in perm.iter().enumerate() {
            for k in 0..w {
                let e = inputs[src as usize * w + k];
                let r = rho[i * w + k];
                let want = Ciphertext::from_points(
                    e.alpha.point() + group::mul_g(&r),
                    e.beta.point() + r * pk.point().point(),
                );
                assert_eq!(outputs[i * w + k], want);
            }
        }
    }
}

#[test]
fn mix_vectors() {
    let v = load("mix.json");
    let ctx = bytes(&v["ctx"]);
    for case in v["embedding"]["cases"].as_array().unwrap() {
        let payload: [u8; 30] = bytes(&case["payload"]).try_into().unwrap();
        let point: [u8; 32] = bytes(&case["point"]).try_into().unwrap();
        assert_eq!(embed(&payload).unwrap().compress().to_bytes(), point);
        assert_eq!(extract(&point), Some(payload));
        assert_eq!(u64::from(point[0] / 2), case["counter"].as_u64().unwrap());
    }
    let later: [u8; 32] = bytes(&v["embedding"]["later_counter"]["point"])
        .try_into()
        .unwrap();
    assert_eq!(
        &later[1..31],
        &bytes(&v["embedding"]["later_counter"]["payload"])[..]
    );
    assert_eq!(extract(&later), None);

    let pk: PublicKey = de(&v["plaintext_knowledge"]["K"]);
    for case in v["plaintext_knowledge"]["cases"].as_array().unwrap() {
        let cts: Vec<Ciphertext> = list(&case["ciphertexts"]);
        let proof: PlaintextKnowledgeProof = de(&case["proof"]);
        proof.verify(&pk, &cts, &ctx).unwrap();
        let (z, c) = proof.challenges(&pk, &cts, &ctx).unwrap();
        assert_eq!(z, list::<Scalar>(&case["z"]));
        assert_eq!(c, de::<Scalar>(&case["c"]));
        // The informative nonces open each α, and the plaintexts are valid embeddings.
        let rs: Vec<Scalar> = list(&case["nonces"]);
        for (ct, r) in cts.iter().zip(&rs) {
            assert_eq!(*ct.alpha.point(), group::mul_g(r));
            let m = ct.beta.point() - r * pk.point().point();
            assert!(extract(&m.compress().to_bytes()).is_some());
        }
    }
    let x: Point = de(&v["dleq_batch"]["X"]);
    let secret: Scalar = de(&v["dleq_batch"]["x"]);
    assert_eq!(*x.point(), group::mul_g(&secret));
    for case in v["dleq_batch"]["cases"].as_array().unwrap() {
        let (us, ys): (Vec<Point>, Vec<Point>) = (list(&case["U"]), list(&case["Y"]));
        let proof: DleqBatchProof = de(&case["proof"]);
        proof.verify(&x, &us, &ys, &ctx).unwrap();
        let (z, c) = proof.challenges(&x, &us, &ys, &ctx).unwrap();
        assert_eq!(z, list::<Scalar>(&case["z"]));
        assert_eq!(c, de::<Scalar>(&case["c"]));
    }
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
        "verify:range" => {
            let pk: PublicKey = code(PublicKey::from_bytes(&bytes(&input["K"])))?;
            let cts = input["ciphertexts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| code(Ciphertext::from_bytes(&bytes(c))))
                .collect::<Result<Vec<_>, _>>()?;
            let p = code(EncryptedRangeProof::from_bytes(&bytes(&input["proof"])))?;
            code(p.verify(
                &pk,
                &cts,
                &u64s(&input["maxima"]),
                &bytes(&input["ctx"]),
                &mut rand::thread_rng(),
            ))
        }
        "verify:partial_decryption" => {
            let vk = code(Point::from_bytes(&bytes(&input["VK"])))?;
            let alpha = code(Point::from_bytes(&bytes(&input["alpha"])))?;
            let d = code(Point::from_bytes(&bytes(&input["D"])))?;
            let p = code(ChaumPedersenProof::from_bytes(&bytes(&input["proof"])))?;
            let mut batch = urna_crypto::batch::BatchVerifier::new(&mut rand::thread_rng());
            code(threshold::queue_partial(
                &vk,
                &alpha,
                &d,
                &p,
                &bytes(&input["ctx"]),
                &mut batch,
            ))?;
            code(
                batch.verify_vartime().map_err(|_| {
                    urna_crypto::errors::VerifyError::ProofInvalid("partial decryption")
                }),
            )
        }
        "verify:ed25519" => {
            let vk = code(VerifyingKey::from_bytes(&bytes(&input["public"])))?;
            let sig = code(Signature::from_bytes(&bytes(&input["signature"])))?;
            code(vk.verify(&bytes(&input["message"]), &sig))
        }
        "decode:ShuffleProof" => code(ShuffleProof::from_bytes(&bytes(input))).map(drop),
        "verify:shuffle" => {
            let pk: PublicKey = code(PublicKey::from_bytes(&bytes(&input["K"])))?;
            let w = input["width"].as_u64().unwrap() as usize;
            let cts = |key: &str| {
                input[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| code(Ciphertext::from_bytes(&bytes(c))))
                    .collect::<Result<Vec<_>, _>>()
            };
            let (inputs, outputs) = (cts("inputs")?, cts("outputs")?);
            let p = code(ShuffleProof::from_bytes(&bytes(&input["proof"])))?;
            let gens = ShuffleGenerators::derive(&bytes(&input["seed"]), inputs.len() / w).unwrap();
            let st = ShuffleStatement {
                pk: &pk,
                inputs: Rows::new(&inputs, w).unwrap(),
                outputs: Rows::new(&outputs, w).unwrap(),
            };
            code(p.verify(
                &gens,
                &st,
                &bytes(&input["mixer"]),
                &bytes(&input["ctx"]),
                &mut rand::thread_rng(),
            ))
        }
        "verify:plaintext_knowledge" => {
            let pk: PublicKey = code(PublicKey::from_bytes(&bytes(&input["K"])))?;
            let cts = input["ciphertexts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| code(Ciphertext::from_bytes(&bytes(c))))
                .collect::<Result<Vec<_>, _>>()?;
            let p = code(PlaintextKnowledgeProof::from_bytes(&bytes(&input["proof"])))?;
            code(p.verify(&pk, &cts, &bytes(&input["ctx"])))
        }
        "verify:dleq_batch" => {
            let x = code(Point::from_bytes(&bytes(&input["X"])))?;
            let pts = |key: &str| {
                input[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| code(Point::from_bytes(&bytes(p))))
                    .collect::<Result<Vec<_>, _>>()
            };
            let (us, ys) = (pts("U")?, pts("Y")?);
            let p = code(DleqBatchProof::from_bytes(&bytes(&input["proof"])))?;
            code(p.verify(&x, &us, &ys, &bytes(&input["ctx"])))
        }
        "extract:embedding" => {
            let b: [u8; 32] = bytes(input).try_into().unwrap();
            code(Point::from_wire_allow_identity(&b))?;
            match extract(&b) {
                Some(_) => Ok(()),
                None => Err("not-an-embedding".to_string()),
            }
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

fn run_corpus(file: &str, at_least: usize) {
    let v = load(file);
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= at_least);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let got = run_case(case["op"].as_str().unwrap(), &case["input"]);
        assert_eq!(got, case["error"].as_str().unwrap(), "case {name:?}");
    }
}

#[test]
fn mix_rejection_corpus_fails_for_the_named_reason() {
    run_corpus("reject/mix.json", 15);
}

#[test]
fn rejection_corpus_fails_for_the_named_reason() {
    run_corpus("reject/crypto.json", 20);
}

#[test]
fn shuffle_rejection_corpus_fails_for_the_named_reason() {
    run_corpus("reject/shuffle.json", 15);
}
