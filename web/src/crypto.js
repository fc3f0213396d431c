// urna's cryptography in the browser, written from specs/crypto.md alone: encodings (§1),
// ristretto255 and scalars (§2), Merlin transcripts (§3), exponential ElGamal (§4), and the
// Chaum–Pedersen and disjunctive proofs (§5.2, §5.3). Third-party code: @noble/curves
// (ristretto255, Ed25519) and @noble/hashes (SHA-2, Keccak-f[1600] for STROBE).

import { ristretto255, ed25519 } from '@noble/curves/ed25519';
import { keccakP } from '@noble/hashes/sha3';
import { sha256, sha512 } from '@noble/hashes/sha2';

export const Point = ristretto255.Point;
export const G = Point.BASE;
export const ZERO = Point.ZERO;
/** The group order ℓ. */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

// ---- bytes (§1) ----

export function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const utf8 = (s) => new TextEncoder().encode(s);

export function u8(x) {
  return Uint8Array.of(x & 0xff);
}
export function u16(x) {
  return Uint8Array.of((x >>> 8) & 0xff, x & 0xff);
}
export function u32(x) {
  return Uint8Array.of((x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
}
export function u64(x) {
  const v = BigInt(x);
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[7 - i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}
function le32(x) {
  return Uint8Array.of(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff);
}
function le64(x) {
  const v = BigInt(x);
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
export function unhex(s) {
  if (s.length % 2 !== 0 || /[^0-9a-f]/.test(s)) throw new Error('not lowercase hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A strict reader: every decode must consume exactly what it needs. */
export class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.at = 0;
  }
  take(n) {
    if (this.b.length - this.at < n) throw new Error('truncated');
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8() {
    return this.take(1)[0];
  }
  u16() {
    const b = this.take(2);
    return (b[0] << 8) | b[1];
  }
  u32() {
    const b = this.take(4);
    return ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
  }
  u64() {
    const b = this.take(8);
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    return v;
  }
  point(field = 'point') {
    const p = decodePoint(this.take(32));
    if (p.equals(ZERO)) throw new Error(`identity-point in ${field}`);
    return p;
  }
  scalar() {
    return decodeScalar(this.take(32));
  }
  finish() {
    if (this.at !== this.b.length) throw new Error('trailing-bytes');
  }
}

// ---- the group (§2) ----

export function decodePoint(bytes) {
  // noble's fromBytes is RFC 9496 DECODE: it rejects every non-canonical encoding.
  try {
    return Point.fromBytes(bytes);
  } catch {
    throw new Error('invalid-point');
  }
}

export function encodeScalar(s) {
  const out = new Uint8Array(32);
  let v = s;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function decodeScalar(bytes) {
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  if (v >= L) throw new Error('non-canonical-scalar');
  return v;
}

/** from_wide: 64 little-endian bytes reduced modulo ℓ. */
export function fromWide(bytes) {
  let v = 0n;
  for (let i = 63; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v % L;
}

export const mod = (x) => ((x % L) + L) % L;

export function randomScalar() {
  const b = new Uint8Array(64);
  globalThis.crypto.getRandomValues(b);
  return fromWide(b);
}

/** s·P, allowing s = 0 (noble's multiply refuses it). */
export function mul(P, s) {
  const v = mod(s);
  return v === 0n ? ZERO : P.multiply(v);
}
export const mulG = (s) => mul(G, s);

/**
 * s·P in variable time, for public points and scalars only (a verifier's): a small scalar such
 * as a trustee index's power costs next to nothing, where `mul` takes a full constant-time ladder.
 */
export function mulPublic(P, s) {
  const v = mod(s);
  return v === 0n ? ZERO : P.multiplyUnsafe(v);
}

export function hashToScalar(label, data) {
  const l = utf8(label);
  return fromWide(sha512(concat(utf8('urna-v1 hash-to-scalar '), u16(l.length), l, data)));
}

// ---- Merlin transcripts (§3): STROBE-128 over Keccak-f[1600] ----

const STROBE_R = 166;
const FLAG_I = 1;
const FLAG_A = 2;
const FLAG_C = 4;
const FLAG_T = 8;
const FLAG_M = 16;
const FLAG_K = 32;

class Strobe128 {
  constructor(protocol) {
    this.st = new Uint8Array(200);
    this.st.set([1, STROBE_R + 2, 1, 0, 1, 96]);
    this.st.set(utf8('STROBEv1.0.2'), 6);
    this.keccak();
    this.pos = 0;
    this.posBegin = 0;
    this.curFlags = 0;
    this.metaAd(protocol, false);
  }
  keccak() {
    // Keccak lanes are little-endian 64-bit words; keccakP works on 32-bit halves.
    const w = new Uint32Array(50);
    const dv = new DataView(this.st.buffer);
    for (let i = 0; i < 50; i++) w[i] = dv.getUint32(4 * i, true);
    keccakP(w, 24);
    for (let i = 0; i < 50; i++) dv.setUint32(4 * i, w[i], true);
  }
  runF() {
    this.st[this.pos] ^= this.posBegin;
    this.st[this.pos + 1] ^= 0x04;
    this.st[STROBE_R + 1] ^= 0x80;
    this.keccak();
    this.pos = 0;
    this.posBegin = 0;
  }
  absorb(data) {
    for (const b of data) {
      this.st[this.pos] ^= b;
      this.pos += 1;
      if (this.pos === STROBE_R) this.runF();
    }
  }
  squeeze(n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.st[this.pos];
      this.st[this.pos] = 0;
      this.pos += 1;
      if (this.pos === STROBE_R) this.runF();
    }
    return out;
  }
  beginOp(flags, more) {
    if (more) {
      if (this.curFlags !== flags) throw new Error('strobe: continued op with other flags');
      return;
    }
    if (flags & FLAG_T) throw new Error('strobe: transport ops are not used');
    const oldBegin = this.posBegin;
    this.posBegin = this.pos + 1;
    this.curFlags = flags;
    this.absorb(Uint8Array.of(oldBegin, flags));
    if ((flags & (FLAG_C | FLAG_K)) !== 0 && this.pos !== 0) this.runF();
  }
  metaAd(data, more) {
    this.beginOp(FLAG_M | FLAG_A, more);
    this.absorb(data);
  }
  ad(data, more) {
    this.beginOp(FLAG_A, more);
    this.absorb(data);
  }
  prf(n, more) {
    this.beginOp(FLAG_I | FLAG_A | FLAG_C, more);
    return this.squeeze(n);
  }
}

export class Transcript {
  constructor(label) {
    this.strobe = new Strobe128(utf8('Merlin v1.0'));
    this.appendMessage('dom-sep', utf8(label));
  }
  appendMessage(label, message) {
    this.strobe.metaAd(utf8(label), false);
    this.strobe.metaAd(le32(message.length), true);
    this.strobe.ad(message, false);
  }
  appendU64(label, x) {
    this.appendMessage(label, le64(x));
  }
  challengeBytes(label, n) {
    this.strobe.metaAd(utf8(label), false);
    this.strobe.metaAd(le32(n), true);
    return this.strobe.prf(n, false);
  }
  appendPoint(label, P) {
    this.appendMessage(label, P.toBytes());
  }
  /** Verifiers reject an identity commitment; provers append the same bytes unchecked. */
  validateAndAppendPoint(label, P, verifying) {
    if (verifying && P.equals(ZERO)) throw new Error('identity-commitment');
    this.appendPoint(label, P);
  }
  challengeScalar(label) {
    return fromWide(this.challengeBytes(label, 64));
  }
}

export function proofTranscript(proof, ctx) {
  const t = new Transcript('urna-v1');
  t.appendMessage('dom-sep', utf8(proof));
  t.appendMessage('ctx', ctx);
  return t;
}

// ---- ElGamal (§4) ----

export function encrypt(K, m, r) {
  return { alpha: mulG(r), beta: mulG(BigInt(m)).add(mul(K, r)) };
}

export const encodeCiphertext = (ct) => concat(ct.alpha.toBytes(), ct.beta.toBytes());

export function decodeCiphertext(r) {
  return { alpha: r.point('alpha'), beta: r.point('beta') };
}

// ---- Chaum–Pedersen (§5.2) ----

export function cpProve(x, U, X, Y, ctx) {
  const w = randomScalar();
  const A = mulG(w);
  const B = mul(U, w);
  const t = proofTranscript('chaum-pedersen-v1', ctx);
  for (const [l, P] of [['U', U], ['X', X], ['Y', Y], ['A', A], ['B', B]]) t.validateAndAppendPoint(l, P, false);
  const c = t.challengeScalar('c');
  return { A, B, s: mod(w + c * x) };
}

export const encodeCp = (p) => concat(p.A.toBytes(), p.B.toBytes(), encodeScalar(p.s));

export function decodeCp(r) {
  return { A: r.point('A'), B: r.point('B'), s: r.scalar() };
}

export function cpVerify(p, U, X, Y, ctx) {
  const t = proofTranscript('chaum-pedersen-v1', ctx);
  for (const [l, P] of [['U', U], ['X', X], ['Y', Y], ['A', p.A], ['B', p.B]]) t.validateAndAppendPoint(l, P, true);
  const c = t.challengeScalar('c');
  return mulG(p.s).equals(p.A.add(mulPublic(X, c))) && mulPublic(U, p.s).equals(p.B.add(mulPublic(Y, c)));
}

// ---- disjunctive Chaum–Pedersen: (α, β) encrypts a value in [0, Lmax] (§5.3) ----

function disjunctiveTranscript(K, ct, Lmax, ctx) {
  const t = proofTranscript('disjunctive-cp-v1', ctx);
  t.appendU64('L', Lmax);
  t.appendPoint('K', K);
  t.appendPoint('alpha', ct.alpha);
  t.appendPoint('beta', ct.beta);
  return t;
}

export function disjunctiveProve(K, ct, m, r, Lmax, ctx) {
  const n = Lmax + 1;
  const A = new Array(n);
  const B = new Array(n);
  const c = new Array(n);
  const s = new Array(n);
  const w = randomScalar();
  for (let j = 0; j < n; j++) {
    if (j === m) {
      A[j] = mulG(w);
      B[j] = mul(K, w);
    } else {
      c[j] = randomScalar();
      s[j] = randomScalar();
      A[j] = mulG(s[j]).subtract(mul(ct.alpha, c[j]));
      B[j] = mul(K, s[j]).subtract(mul(ct.beta.subtract(mulG(BigInt(j))), c[j]));
    }
  }
  const t = disjunctiveTranscript(K, ct, Lmax, ctx);
  for (let j = 0; j < n; j++) {
    t.validateAndAppendPoint('A', A[j], false);
    t.validateAndAppendPoint('B', B[j], false);
  }
  const total = t.challengeScalar('c');
  let others = 0n;
  for (let j = 0; j < n; j++) if (j !== m) others += c[j];
  c[m] = mod(total - others);
  s[m] = mod(w + c[m] * r);
  return { A, B, c, s };
}

export function encodeDisjunctive(p) {
  const n = p.A.length;
  const parts = [u8(n)];
  for (let j = 0; j < n; j++) parts.push(p.A[j].toBytes(), p.B[j].toBytes());
  for (let j = 0; j < n - 1; j++) parts.push(encodeScalar(p.c[j]));
  for (let j = 0; j < n; j++) parts.push(encodeScalar(p.s[j]));
  return concat(...parts);
}

export function decodeDisjunctive(r) {
  const n = r.u8();
  if (n < 2) throw new Error('invalid: a disjunctive proof has at least 2 branches');
  const A = [];
  const B = [];
  for (let j = 0; j < n; j++) {
    A.push(r.point('A'));
    B.push(r.point('B'));
  }
  const c = [];
  for (let j = 0; j < n - 1; j++) c.push(r.scalar());
  const s = [];
  for (let j = 0; j < n; j++) s.push(r.scalar());
  return { A, B, c, s };
}

export function disjunctiveVerify(p, K, ct, Lmax, ctx) {
  const n = Lmax + 1;
  if (p.A.length !== n) throw new Error('shape-mismatch');
  const t = disjunctiveTranscript(K, ct, Lmax, ctx);
  for (let j = 0; j < n; j++) {
    t.validateAndAppendPoint('A', p.A[j], true);
    t.validateAndAppendPoint('B', p.B[j], true);
  }
  const total = t.challengeScalar('c');
  const c = p.c.slice(0, n - 1);
  c.push(mod(total - c.reduce((a, x) => a + x, 0n)));
  for (let j = 0; j < n; j++) {
    if (!mulG(p.s[j]).equals(p.A[j].add(mul(ct.alpha, c[j])))) return false;
    const shifted = ct.beta.subtract(mulG(BigInt(j)));
    if (!mul(K, p.s[j]).equals(p.B[j].add(mul(shifted, c[j])))) return false;
  }
  return true;
}

// ---- hashes and signatures (§10) ----

export { sha256, sha512 };

export function publicKeyOf(seed) {
  return ed25519.getPublicKey(seed);
}

export function sign(seed, message) {
  return ed25519.sign(message, seed);
}

/** Strict Ed25519 verification (RFC 8032 with canonical R, s and key, cofactorless). */
export function verifySignature(publicKey, message, signature) {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// ---- Schnorr (§5.1), used by observers' checks of the key ceremony ----

export function schnorrVerify(p, X, ctx) {
  const t = proofTranscript('schnorr-v1', ctx);
  t.validateAndAppendPoint('X', X, true);
  t.validateAndAppendPoint('A', p.A, true);
  const ch = t.challengeScalar('c');
  return mulG(p.s).equals(p.A.add(mulPublic(X, ch)));
}

export function decodeSchnorr(r) {
  return { A: r.point('A'), s: r.scalar() };
}

// ---- bytes as points (§15), plain ElGamal of a point, proof of knowledge of plaintexts (§13) ----

/** Payload bytes one point carries. */
export const EMBED_BYTES = 30;

/** The point carrying 30 bytes: the first counter j < 128 whose `2j ‖ payload ‖ 0` decodes. */
export function embed(payload) {
  if (payload.length !== EMBED_BYTES) throw new Error('an embedded payload is 30 bytes');
  const enc = new Uint8Array(32);
  enc.set(payload, 1);
  for (let j = 0; j < 128; j++) {
    enc[0] = 2 * j;
    try {
      return Point.fromBytes(enc);
    } catch {
      // Not an encoding: the next counter.
    }
  }
  throw new Error('no counter embeds these bytes');
}

/** `(r·G, M + r·K)`: plain ElGamal of the point M. */
export function encryptPoint(K, M, r) {
  return { alpha: mulG(r), beta: M.add(mul(K, r)) };
}

/** `v_k = from_wide(SHA-512(dst ‖ seed ‖ u64(k)))`, k = 1 … n (§3). */
export function expandChallenges(dst, seed, n) {
  const out = [];
  for (let k = 1; k <= n; k++) out.push(fromWide(sha512(concat(utf8(dst), seed, u64(k)))));
  return out;
}

function knowledgeStatement(K, cts, ctx) {
  const t = proofTranscript('plaintext-knowledge-v1', ctx);
  t.appendPoint('K', K);
  t.appendU64('n', cts.length);
  for (const ct of cts) {
    t.appendPoint('alpha', ct.alpha);
    t.appendPoint('beta', ct.beta);
  }
  const z = expandChallenges('urna-v1 plaintext-knowledge z', t.challengeBytes('z', 32), cts.length);
  return { t, z };
}

/** Proof that the prover knows every nonce r_k with α_k = r_k·G: `A = w·G`, `s = w + c·Σ z_k·r_k`. */
export function knowledgeProve(K, cts, nonces, ctx) {
  const { t, z } = knowledgeStatement(K, cts, ctx);
  const w = randomScalar();
  const A = mulG(w);
  t.appendPoint('A', A);
  const ch = t.challengeScalar('c');
  const sum = z.reduce((a, zk, k) => a + zk * nonces[k], 0n);
  return { A, s: mod(w + ch * sum) };
}

export const encodeKnowledge = (p) => concat(p.A.toBytes(), encodeScalar(p.s));

export function decodeKnowledge(r) {
  return { A: r.point('A'), s: r.scalar() };
}

/** `s·G = A + c·Σ z_k·α_k`. */
export function knowledgeVerify(p, K, cts, ctx) {
  if (cts.length === 0) return false;
  const { t, z } = knowledgeStatement(K, cts, ctx);
  try {
    t.validateAndAppendPoint('A', p.A, true);
  } catch {
    return false;
  }
  const ch = t.challengeScalar('c');
  const rhs = cts.reduce((acc, ct, k) => acc.add(mul(ct.alpha, mod(ch * z[k]))), p.A);
  return mulG(p.s).equals(rhs);
}
