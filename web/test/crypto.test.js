// The browser implementation against the frozen vectors of specs/vectors/ (the same files the
// Rust tests check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as c from '../src/crypto.js';

const vectors = (name) => JSON.parse(readFileSync(new URL(`../../specs/vectors/${name}`, import.meta.url)));

test('generators and hash to scalar (§2)', () => {
  const g = vectors('group.json');
  assert.equal(c.hex(c.G.toBytes()), g.G);
  for (const v of g.hash_to_scalar) {
    assert.equal(c.hex(c.encodeScalar(c.hashToScalar(v.label, c.unhex(v.data)))), v.scalar);
  }
});

test('ElGamal encryptions (§4)', () => {
  const e = vectors('elgamal.json');
  const K = c.decodePoint(c.unhex(e.K));
  for (const v of e.encryptions) {
    const ct = c.encrypt(K, v.m, c.decodeScalar(c.unhex(v.r)));
    assert.equal(c.hex(c.encodeCiphertext(ct)), v.ciphertext);
  }
});

test('Chaum–Pedersen and disjunctive proofs verify, and made here verify too (§5)', () => {
  const s = vectors('sigma.json');
  const ctx = c.unhex(s.ctx);
  const cp = s.chaum_pedersen;
  const [U, X, Y] = [cp.U, cp.X, cp.Y].map((h) => c.decodePoint(c.unhex(h)));
  const r = new c.Reader(c.unhex(cp.proof));
  const proof = c.decodeCp(r);
  r.finish();
  assert.equal(c.cpVerify(proof, U, X, Y, ctx), true);
  assert.equal(c.cpVerify(proof, U, X, Y, c.utf8('another context')), false);
  const K = c.decodePoint(c.unhex(s.disjunctive.K));
  for (const v of s.disjunctive.cases) {
    const rd = new c.Reader(c.unhex(v.ciphertext));
    const ct = c.decodeCiphertext(rd);
    const pr = new c.Reader(c.unhex(v.proof));
    const p = c.decodeDisjunctive(pr);
    pr.finish();
    assert.equal(c.disjunctiveVerify(p, K, ct, v.L, ctx), true, `L=${v.L} m=${v.m}`);
    assert.equal(c.hex(c.encodeDisjunctive(p)), v.proof);
  }
  // Proofs made by this implementation verify here (and, by the ballot test, in Rust).
  const x = c.randomScalar();
  const r2 = c.randomScalar();
  const ct = c.encrypt(K, 1, r2);
  const p = c.disjunctiveProve(K, ct, 1, r2, 1, ctx);
  assert.equal(c.disjunctiveVerify(p, K, ct, 1, ctx), true);
  const two = c.encrypt(K, 2, r2);
  const forged = c.disjunctiveProve(K, two, 1, r2, 1, ctx);
  assert.equal(c.disjunctiveVerify(forged, K, two, 1, ctx), false, 'a cheating prover is caught');
  const Ux = c.mulG(c.randomScalar());
  const q = c.cpProve(x, Ux, c.mulG(x), c.mul(Ux, x), ctx);
  assert.equal(c.cpVerify(q, Ux, c.mulG(x), c.mul(Ux, x), ctx), true);
});

test('strict decoding (§1, §2)', () => {
  assert.throws(() => c.decodePoint(c.unhex('01'.padEnd(64, '0'))), /invalid-point/);
  assert.throws(() => c.decodeScalar(c.unhex('ff'.repeat(32))), /non-canonical-scalar/);
  assert.throws(() => new c.Reader(new Uint8Array(32)).point(), /identity-point/);
});

test('Ed25519 signatures (§10)', () => {
  const v = vectors('signature.json');
  const seed = c.unhex(v.secret_seed);
  assert.equal(c.hex(c.publicKeyOf(seed)), v.public);
  assert.equal(c.hex(c.sign(seed, c.unhex(v.message))), v.signature);
  assert.equal(c.verifySignature(c.unhex(v.public), c.unhex(v.message), c.unhex(v.signature)), true);
  assert.equal(c.verifySignature(c.unhex(v.public), c.utf8('another message'), c.unhex(v.signature)), false);
});

test('Merlin transcripts: the upstream known answer (§3)', () => {
  const t = new c.Transcript('test protocol');
  t.appendMessage('some label', c.utf8('some data'));
  assert.equal(c.hex(t.challengeBytes('challenge', 32)), 'd5a21972d0d5fe320c0d263fac7fffb8145aa640af6e9bca177c03c7efcf0615');
});

test('Schnorr and linear-relation vectors (§5.1, §5.4)', async () => {
  const rp = await import('../src/range.js');
  const s = vectors('sigma.json');
  const ctx = c.unhex(s.ctx);
  const sr = new c.Reader(c.unhex(s.schnorr.proof));
  assert.equal(c.schnorrVerify(c.decodeSchnorr(sr), c.decodePoint(c.unhex(s.schnorr.X)), ctx), true);
  const l = s.linear;
  const lr = new c.Reader(c.unhex(l.proof));
  const proof = rp.decodeLinear(lr);
  lr.finish();
  const ct = c.decodeCiphertext(new c.Reader(c.unhex(l.ciphertext)));
  assert.equal(rp.linearVerify(proof, c.decodePoint(c.unhex(l.K)), ct, c.decodePoint(c.unhex(l.V)), ctx), true);
});

test('bytes as points and the proof of knowledge of plaintexts (§13, §15)', () => {
  const v = vectors('mix.json');
  for (const e of v.embedding.cases) {
    assert.equal(c.hex(c.embed(c.unhex(e.payload)).toBytes()), e.point);
  }
  const K = c.decodePoint(c.unhex(v.plaintext_knowledge.K));
  const ctx = c.unhex(v.ctx);
  const ciphertexts = (hexes) => hexes.map((h) => c.decodeCiphertext(new c.Reader(c.unhex(h))));
  for (const k of v.plaintext_knowledge.cases) {
    const cts = ciphertexts(k.ciphertexts);
    const proof = c.decodeKnowledge(new c.Reader(c.unhex(k.proof)));
    assert.ok(c.knowledgeVerify(proof, K, cts, ctx));
    assert.ok(!c.knowledgeVerify(proof, K, cts, c.utf8('another context')));
    // Made here, from the nonces: verifies; with one nonce wrong, does not.
    const nonces = k.nonces.map((n) => c.decodeScalar(c.unhex(n)));
    assert.ok(c.knowledgeVerify(c.knowledgeProve(K, cts, nonces, ctx), K, cts, ctx));
    const wrong = [c.mod(nonces[0] + 1n), ...nonces.slice(1)];
    assert.ok(!c.knowledgeVerify(c.knowledgeProve(K, cts, wrong, ctx), K, cts, ctx));
  }
});
