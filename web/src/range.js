// Range proofs (specs/crypto.md §5.4 and §6): a ciphertext's value lies in [0, max], shown by
// a Pedersen commitment linked to the ciphertext and an aggregated Bulletproof over the
// commitment and its complement `max·G − V`. This follows the protocol of the `bulletproofs`
// crate v5 byte for byte (transcript labels, generators, inner-product rounds), so that proofs
// made here verify in Rust and the other way round.

import { shake256 } from '@noble/hashes/sha3';
import { sha512 } from '@noble/hashes/sha2';
import { invert } from '@noble/curves/abstract/modular';
import * as c from './crypto.js';

/** RFC 9496 one-way map of 64 uniform bytes (noble keeps it as `hashToCurve`). */
const oneWayMap = (bytes) => c.Point.hashToCurve(bytes);

/** NUMS(label) = ONE_WAY_MAP(SHA-512("urna-v1 generator " ‖ label)) (§2.4). */
export const nums = (label) => oneWayMap(sha512(c.concat(c.utf8('urna-v1 generator '), c.utf8(label))));
export const H = nums('pedersen-blinding');

const inv = (x) => invert(c.mod(x), c.L);
const le32 = (j) => Uint8Array.of(j & 0xff, (j >>> 8) & 0xff, (j >>> 16) & 0xff, (j >>> 24) & 0xff);

const chains = new Map();
/** Party `j`'s first `n` generators of the chain named `G` or `H` (§6, "Generators"). */
function chain(which, j, n) {
  const key = `${which}${j}`;
  let have = chains.get(key);
  if (!have || have.length < n) {
    const bytes = shake256(c.concat(c.utf8('GeneratorsChain'), c.utf8(which), le32(j)), { dkLen: 64 * n });
    have = [];
    for (let i = 0; i < n; i++) have.push(oneWayMap(bytes.subarray(64 * i, 64 * i + 64)));
    chains.set(key, have);
  }
  return have.slice(0, n);
}

const gensG = (n, m) => [...Array(m).keys()].flatMap((j) => chain('G', j, n));
const gensH = (n, m) => [...Array(m).keys()].flatMap((j) => chain('H', j, n));

function msm(points, scalars) {
  let acc = c.ZERO;
  for (let i = 0; i < points.length; i++) {
    const s = c.mod(scalars[i]);
    if (s !== 0n && !points[i].equals(c.ZERO)) acc = acc.add(points[i].multiplyUnsafe(s));
  }
  return acc;
}

const inner = (a, b) => c.mod(a.reduce((acc, x, i) => acc + x * b[i], 0n));
const powers = (x, k) => {
  const out = [];
  let p = 1n;
  for (let i = 0; i < k; i++) {
    out.push(p);
    p = c.mod(p * x);
  }
  return out;
};

export const bitSize = (maxima) => [8, 16, 32, 64].find((n) => maxima.every((m) => BigInt(m) < 1n << BigInt(n)));
export const parties = (k) => {
  let m = 1;
  while (m < 2 * k) m *= 2;
  return m;
};

// ---- the linear relation proof (§5.4) ----

function linearTranscript(K, ct, V, ctx) {
  const t = c.proofTranscript('linear-v1', ctx);
  t.appendPoint('K', K);
  t.appendPoint('alpha', ct.alpha);
  t.appendPoint('beta', ct.beta);
  t.appendPoint('V', V);
  return t;
}

export function linearProve(K, ct, V, v, r, gamma, ctx) {
  const [wv, wr, wg] = [c.randomScalar(), c.randomScalar(), c.randomScalar()];
  const A1 = c.mulG(wr);
  const A2 = c.mulG(wv).add(c.mul(K, wr));
  const A3 = c.mulG(wv).add(c.mul(H, wg));
  const t = linearTranscript(K, ct, V, ctx);
  for (const [l, P] of [['A1', A1], ['A2', A2], ['A3', A3]]) t.validateAndAppendPoint(l, P, false);
  const ch = t.challengeScalar('c');
  return { A1, A2, A3, sv: c.mod(wv + ch * v), sr: c.mod(wr + ch * r), sg: c.mod(wg + ch * gamma) };
}

export const encodeLinear = (p) => c.concat(p.A1.toBytes(), p.A2.toBytes(), p.A3.toBytes(), c.encodeScalar(p.sv), c.encodeScalar(p.sr), c.encodeScalar(p.sg));

export function decodeLinear(r) {
  return { A1: r.point('A1'), A2: r.point('A2'), A3: r.point('A3'), sv: r.scalar(), sr: r.scalar(), sg: r.scalar() };
}

export function linearVerify(p, K, ct, V, ctx) {
  const t = linearTranscript(K, ct, V, ctx);
  for (const [l, P] of [['A1', p.A1], ['A2', p.A2], ['A3', p.A3]]) t.validateAndAppendPoint(l, P, true);
  const ch = t.challengeScalar('c');
  return c.mulG(p.sr).equals(p.A1.add(c.mul(ct.alpha, ch)))
    && c.mulG(p.sv).add(c.mul(K, p.sr)).equals(p.A2.add(c.mul(ct.beta, ch)))
    && c.mulG(p.sv).add(c.mul(H, p.sg)).equals(p.A3.add(c.mul(V, ch)));
}

// ---- the encrypted range proof (§6) ----

function statement(K, cts, maxima, commitments, ctx) {
  const t = c.proofTranscript('range-v1', ctx);
  t.appendPoint('K', K);
  t.appendU64('k', cts.length);
  cts.forEach((ct, i) => {
    t.appendPoint('alpha', ct.alpha);
    t.appendPoint('beta', ct.beta);
    t.appendU64('max', maxima[i]);
    t.appendPoint('V', commitments[i]);
  });
  return t;
}

/** The m aggregated commitments: each V, its complement max·G − V, then identity padding. */
function aggregate(commitments, maxima) {
  const out = [];
  commitments.forEach((V, i) => out.push(V, c.mulG(BigInt(maxima[i])).subtract(V)));
  while (out.length < parties(commitments.length)) out.push(c.ZERO);
  return out;
}

/** Proves that `cts[i]` (nonce `nonces[i]`) encrypts `values[i] ∈ [0, maxima[i]]`. */
export function rangeProve(K, cts, values, nonces, maxima, ctx) {
  const k = cts.length;
  const n = bitSize(maxima);
  const m = parties(k);
  const commitments = [];
  const links = [];
  const vals = [];
  const blinds = [];
  cts.forEach((ct, i) => {
    if (values[i] > maxima[i]) throw new Error('value above its maximum');
    const gamma = c.randomScalar();
    const V = c.mulG(BigInt(values[i])).add(c.mul(H, gamma));
    links.push(linearProve(K, ct, V, BigInt(values[i]), nonces[i], gamma, ctx));
    commitments.push(V);
    vals.push(BigInt(values[i]), BigInt(maxima[i]) - BigInt(values[i]));
    blinds.push(gamma, c.mod(-gamma));
  });
  while (vals.length < m) {
    vals.push(0n);
    blinds.push(0n);
  }
  const t = statement(K, cts, maxima, commitments, ctx);
  const bp = bulletproofProve(t, vals, blinds, n, m);
  return { commitments, links, bp };
}

function bulletproofProve(t, vals, blinds, n, m) {
  t.appendMessage('dom-sep', c.utf8('rangeproof v1'));
  t.appendU64('n', n);
  t.appendU64('m', m);
  const Vs = vals.map((v, j) => c.mulG(v).add(c.mul(H, blinds[j])));
  Vs.forEach((V) => t.appendPoint('V', V));
  const G = gensG(n, m);
  const Hs = gensH(n, m);
  const party = vals.map((v, j) => {
    const aBlind = c.randomScalar();
    let A = c.mul(H, aBlind);
    for (let i = 0; i < n; i++) A = (v >> BigInt(i)) & 1n ? A.add(G[j * n + i]) : A.subtract(Hs[j * n + i]);
    const sBlind = c.randomScalar();
    const sL = [...Array(n)].map(() => c.randomScalar());
    const sR = [...Array(n)].map(() => c.randomScalar());
    const S = c.mul(H, sBlind).add(msm(G.slice(j * n, j * n + n), sL)).add(msm(Hs.slice(j * n, j * n + n), sR));
    return { v, blind: blinds[j], aBlind, sBlind, sL, sR, A, S };
  });
  const A = party.reduce((acc, p) => acc.add(p.A), c.ZERO);
  const S = party.reduce((acc, p) => acc.add(p.S), c.ZERO);
  t.validateAndAppendPoint('A', A, false);
  t.validateAndAppendPoint('S', S, false);
  const y = t.challengeScalar('y');
  const z = t.challengeScalar('z');
  party.forEach((p, j) => {
    const offsetY = powers(y, j * n + 1)[j * n];
    const offsetZ = powers(z, j + 1)[j];
    const zz = c.mod(z * z * offsetZ);
    p.l0 = [];
    p.l1 = [];
    p.r0 = [];
    p.r1 = [];
    let expY = offsetY;
    let exp2 = 1n;
    for (let i = 0; i < n; i++) {
      const aL = (p.v >> BigInt(i)) & 1n;
      const aR = aL - 1n;
      p.l0.push(c.mod(aL - z));
      p.l1.push(p.sL[i]);
      p.r0.push(c.mod(expY * (aR + z) + zz * exp2));
      p.r1.push(c.mod(expY * p.sR[i]));
      expY = c.mod(expY * y);
      exp2 = c.mod(exp2 * 2n);
    }
    const t0 = inner(p.l0, p.r0);
    const t2 = inner(p.l1, p.r1);
    const t1 = c.mod(inner(p.l0.map((x, i) => x + p.l1[i]), p.r0.map((x, i) => x + p.r1[i])) - t0 - t2);
    p.t = [t0, t1, t2];
    p.t1Blind = c.randomScalar();
    p.t2Blind = c.randomScalar();
    p.zz = zz;
    p.T1 = c.mulG(t1).add(c.mul(H, p.t1Blind));
    p.T2 = c.mulG(t2).add(c.mul(H, p.t2Blind));
  });
  const T1 = party.reduce((acc, p) => acc.add(p.T1), c.ZERO);
  const T2 = party.reduce((acc, p) => acc.add(p.T2), c.ZERO);
  t.validateAndAppendPoint('T_1', T1, false);
  t.validateAndAppendPoint('T_2', T2, false);
  const x = t.challengeScalar('x');
  let tx = 0n;
  let txBlind = 0n;
  let eBlind = 0n;
  const l = [];
  const r = [];
  for (const p of party) {
    tx += p.t[0] + p.t[1] * x + p.t[2] * x * x;
    txBlind += p.zz * p.blind + p.t1Blind * x + p.t2Blind * x * x;
    eBlind += p.aBlind + p.sBlind * x;
    for (let i = 0; i < n; i++) {
      l.push(c.mod(p.l0[i] + p.l1[i] * x));
      r.push(c.mod(p.r0[i] + p.r1[i] * x));
    }
  }
  [tx, txBlind, eBlind] = [tx, txBlind, eBlind].map(c.mod);
  t.appendMessage('t_x', c.encodeScalar(tx));
  t.appendMessage('t_x_blinding', c.encodeScalar(txBlind));
  t.appendMessage('e_blinding', c.encodeScalar(eBlind));
  const w = t.challengeScalar('w');
  const Q = c.mulG(w);
  const yInv = inv(y);
  const hFactors = powers(yInv, n * m);
  const ipp = innerProductProve(t, Q, hFactors, G, Hs, l, r);
  return { A, S, T1, T2, tx, txBlind, eBlind, ...ipp };
}

function innerProductProve(t, Q, hFactors, G0, H0, a0, b0) {
  let G = G0.slice();
  let Hv = H0.slice();
  let a = a0.slice();
  let b = b0.slice();
  let n = G.length;
  t.appendMessage('dom-sep', c.utf8('ipp v1'));
  t.appendU64('n', n);
  const Ls = [];
  const Rs = [];
  let first = true;
  while (n !== 1) {
    n /= 2;
    const [aL, aR, bL, bR] = [a.slice(0, n), a.slice(n), b.slice(0, n), b.slice(n)];
    const [GL, GR, HL, HR] = [G.slice(0, n), G.slice(n), Hv.slice(0, n), Hv.slice(n)];
    const hf = first ? hFactors : null;
    const cL = inner(aL, bR);
    const cR = inner(aR, bL);
    const Lp = msm([...GR, ...HL, Q], [...aL, ...bR.map((x, i) => (hf ? x * hf[i] : x)), cL]);
    const Rp = msm([...GL, ...HR, Q], [...aR, ...bL.map((x, i) => (hf ? x * hf[n + i] : x)), cR]);
    Ls.push(Lp);
    Rs.push(Rp);
    t.appendPoint('L', Lp);
    t.appendPoint('R', Rp);
    const u = t.challengeScalar('u');
    const uInv = inv(u);
    a = aL.map((x, i) => c.mod(x * u + uInv * aR[i]));
    b = bL.map((x, i) => c.mod(x * uInv + u * bR[i]));
    G = GL.map((P, i) => msm([P, GR[i]], [uInv, u]));
    Hv = HL.map((P, i) => (hf ? msm([P, HR[i]], [u * hf[i], uInv * hf[n + i]]) : msm([P, HR[i]], [u, uInv])));
    first = false;
  }
  return { Ls, Rs, a: a[0], b: b[0] };
}

export function encodeRange(p) {
  const bp = p.bp;
  const body = c.concat(bp.A.toBytes(), bp.S.toBytes(), bp.T1.toBytes(), bp.T2.toBytes(),
    c.encodeScalar(bp.tx), c.encodeScalar(bp.txBlind), c.encodeScalar(bp.eBlind),
    ...bp.Ls.flatMap((L, i) => [L.toBytes(), bp.Rs[i].toBytes()]), c.encodeScalar(bp.a), c.encodeScalar(bp.b));
  return c.concat(c.u16(p.commitments.length), ...p.commitments.map((V) => V.toBytes()),
    ...p.links.map(encodeLinear), c.u16(body.length), body);
}

export function decodeRange(r) {
  const k = r.u16();
  if (k === 0 || k > 256) throw new Error('length-out-of-range');
  const commitments = [];
  for (let i = 0; i < k; i++) commitments.push(r.point('V'));
  const links = [];
  for (let i = 0; i < k; i++) links.push(decodeLinear(r));
  const body = new c.Reader(r.take(r.u16()));
  const pt = () => c.decodePoint(body.take(32));
  const bp = { A: pt(), S: pt(), T1: pt(), T2: pt(), tx: body.scalar(), txBlind: body.scalar(), eBlind: body.scalar(), Ls: [], Rs: [] };
  const rounds = (body.b.length - 32 * 9) / 64;
  if (!Number.isInteger(rounds) || rounds < 0) throw new Error('invalid bulletproof length');
  for (let i = 0; i < rounds; i++) {
    bp.Ls.push(pt());
    bp.Rs.push(pt());
  }
  bp.a = body.scalar();
  bp.b = body.scalar();
  body.finish();
  return { commitments, links, bp };
}

/** Verifies that `cts[i]` encrypts a value in `[0, maxima[i]]` (the bulletproofs mega-check). */
export function rangeVerify(p, K, cts, maxima, ctx) {
  const k = cts.length;
  if (p.commitments.length !== k || p.links.length !== k) throw new Error('shape-mismatch');
  const n = bitSize(maxima);
  const m = parties(k);
  if (p.bp.Ls.length !== Math.log2(n * m)) throw new Error('shape-mismatch');
  if (!cts.every((ct, i) => linearVerify(p.links[i], K, ct, p.commitments[i], ctx))) return false;
  const t = statement(K, cts, maxima, p.commitments, ctx);
  const bp = p.bp;
  const Vs = aggregate(p.commitments, maxima);
  t.appendMessage('dom-sep', c.utf8('rangeproof v1'));
  t.appendU64('n', n);
  t.appendU64('m', m);
  Vs.forEach((V) => t.appendPoint('V', V));
  // bulletproofs refuses an identity point as a failed proof, not as urna's identity-commitment (§6.4).
  const validate = (label, P) => {
    if (P.equals(c.ZERO)) return false;
    t.appendPoint(label, P);
    return true;
  };
  if (!validate('A', bp.A) || !validate('S', bp.S)) return false;
  const y = t.challengeScalar('y');
  const z = t.challengeScalar('z');
  if (!validate('T_1', bp.T1) || !validate('T_2', bp.T2)) return false;
  const x = t.challengeScalar('x');
  t.appendMessage('t_x', c.encodeScalar(bp.tx));
  t.appendMessage('t_x_blinding', c.encodeScalar(bp.txBlind));
  t.appendMessage('e_blinding', c.encodeScalar(bp.eBlind));
  const w = t.challengeScalar('w');
  const nm = n * m;
  t.appendMessage('dom-sep', c.utf8('ipp v1'));
  t.appendU64('n', nm);
  const us = [];
  for (let i = 0; i < bp.Ls.length; i++) {
    if (!validate('L', bp.Ls[i]) || !validate('R', bp.Rs[i])) return false;
    us.push(t.challengeScalar('u'));
  }
  const lg = us.length;
  const uInv = us.map(inv);
  const uSq = us.map((u) => c.mod(u * u));
  const uInvSq = uInv.map((u) => c.mod(u * u));
  const s = [uInv.reduce((acc, x) => c.mod(acc * x), 1n)];
  for (let i = 1; i < nm; i++) {
    const lgI = 31 - Math.clz32(i);
    s.push(c.mod(s[i - (1 << lgI)] * uSq[lg - 1 - lgI]));
  }
  const weight = c.randomScalar();
  const zz = c.mod(z * z);
  const yInvPowers = powers(inv(y), nm);
  const twoPowers = powers(2n, n);
  const zPowers = powers(z, m);
  const sumY = powers(y, nm).reduce((a, b) => a + b, 0n);
  const sum2 = twoPowers.reduce((a, b) => a + b, 0n);
  const sumZ = zPowers.reduce((a, b) => a + b, 0n);
  const delta = c.mod((z - zz) * sumY - zz * z * sum2 * sumZ);
  const points = [bp.A, bp.S, bp.T1, bp.T2, ...bp.Ls, ...bp.Rs, H, c.G, ...gensG(n, m), ...gensH(n, m), ...Vs];
  const scalars = [1n, x, weight * x, weight * x * x, ...uSq, ...uInvSq,
    -bp.eBlind - weight * bp.txBlind, w * (bp.tx - bp.a * bp.b) + weight * (delta - bp.tx),
    ...s.map((si) => -z - bp.a * si),
    ...s.map((_, i) => z + yInvPowers[i] * (zz * zPowers[Math.floor(i / n)] * twoPowers[i % n] - bp.b * s[nm - 1 - i])),
    ...zPowers.map((zp) => weight * zz * zp)];
  return msm(points, scalars).equals(c.ZERO);
}
