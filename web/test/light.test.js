// The booth's light view (src/light.js, specs/board.md §5.2) against an honest board and a
// hostile one: every view, receipt and cosigned checkpoint a hostile board can serve is refused
// with the code it names, as voter-client/tests/light.rs checks of the Rust client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from '../src/crypto.js';
import * as e from '../src/election.js';
import * as l from '../src/light.js';
import * as p from '../src/public.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha';
import { dkgCtx, coefficientCtx, shareInfo, shareKey } from '../src/ceremony.js';

const ORIGIN = 'light.example.org/2026';
const seedOf = (n) => new Uint8Array(32).fill(n);
const SEEDS = { authority: seedOf(1), registrar: seedOf(2), board: seedOf(3), t1: seedOf(4), t2: seedOf(5), ann: seedOf(6), bob: seedOf(7), w1: seedOf(8), w2: seedOf(9), stranger: seedOf(10) };
const pub = (name) => c.publicKeyOf(SEEDS[name]);
const BOARD = pub('board');
const WITNESSES = [{ name: 'w1.example', key: pub('w1'), url: 'http://w1' }, { name: 'w2.example', key: pub('w2'), url: 'http://w2' }];

// ---- an election's entries, encoded as specs/election.md says ----

const str8 = (s) => c.concat(c.u8(c.utf8(s).length), c.utf8(s));
const str16 = (s) => c.concat(c.u16(c.utf8(s).length), c.utf8(s));
const point = (n) => c.mulG(BigInt(n)).toBytes();

function manifest(origin = ORIGIN, board = BOARD) {
  return c.concat(
    c.utf8('urna-m01'), str8(origin), str16('Light test'), c.u8(0),
    pub('authority'), pub('registrar'), board,
    c.u16(2), str8('T1'), pub('t1'), point(11), str8('T2'), pub('t2'), point(12),
    c.u16(2), c.u8(0),
    // one plurality contest of two options, one style
    c.u16(1), str8('mayor'), str16('Mayor'), c.u8(0), c.u8(1), c.u8(1), c.u8(2), str8('a'), str16('A'), c.u8(0), str8('b'), str16('B'), c.u8(0),
    c.u16(1), str8('all'), str16(''), c.u8(0), c.u16(1), c.u16(0),
    str8(''), str8(''),
    c.u8(2), ...WITNESSES.flatMap((w) => [str8(w.name), w.key, str8(w.url), c.u8(1)]), c.u16(2));
}

const sign = (kind, payload, who, origin = ORIGIN) => e.signEntry(origin, kind, payload, SEEDS[who]);
const roll = (...voters) => c.concat(c.u32(1), c.u32(voters.length), ...voters.map(([who, weight]) => c.concat(pub(who), c.u32(weight), c.u16(0))));
const ballot = (n) => Uint8Array.of(0xba, n);

// ---- the key ceremony as the trustees make it (specs/crypto.md §5.1, §5.2, §8) ----

const MANIFEST_HASH = c.sha256(c.concat(c.utf8('urna-v1 manifest'), manifest()));
const CTX = dkgCtx(MANIFEST_HASH);
/** The trustees' ceremony secrets (their keys are point(11), point(12)) and polynomials. */
const CEREMONY_SECRET = { 1: 11n, 2: 12n };
const POLY = { 1: [21n, 22n], 2: [23n, 24n] };
const evaluate = (a, j) => c.mod(a.reduce((acc, x, k) => acc + x * BigInt(j) ** BigInt(k), 0n));

function schnorrProve(x, ctx) {
  const w = c.randomScalar();
  const A = c.mulG(w);
  const t = c.proofTranscript('schnorr-v1', ctx);
  t.validateAndAppendPoint('X', c.mulG(x), false);
  t.validateAndAppendPoint('A', A, false);
  return c.concat(A.toBytes(), c.encodeScalar(c.mod(w + t.challengeScalar('c') * x)));
}

/** Dealer i's commitments to `coefficients` (its polynomial unless told), each proven. */
function commitment(i, coefficients = POLY[i]) {
  const cs = coefficients.map((a) => c.mulG(a).toBytes());
  const proofs = coefficients.map((a, k) => schnorrProve(a, coefficientCtx(CTX, i, k)));
  return c.concat(c.u16(i), c.u16(cs.length), ...cs, ...proofs);
}

/** The share `s` dealer i encrypts to j: `{ bytes: R ‖ box, R }` (crypto §8). */
function encryptShare(s, i, j) {
  const eph = c.randomScalar();
  const R = c.mulG(eph);
  const Ej = c.mulG(CEREMONY_SECRET[j]);
  const info = shareInfo(CTX, i, j, R, Ej);
  const box = chacha20poly1305(shareKey(c.mul(Ej, eph), info), new Uint8Array(12), info).encrypt(c.encodeScalar(s));
  return { bytes: c.concat(R.toBytes(), box), R };
}

/** Dealer i's shares to every other trustee; `override[j]` replaces the share to j. */
function shares(i, override = {}) {
  const to = [1, 2].filter((j) => j !== i);
  return c.concat(c.u16(i), c.u16(to.length), ...to.map((j) => c.concat(c.u16(j), encryptShare(override[j] ?? evaluate(POLY[i], j), i, j).bytes)));
}

/** Trustee j's complaint about dealer i's share `enc` (the bytes of its EncryptedShare): `S = x_j·R` and its proof. */
function complaint(j, i, enc, { secret = CEREMONY_SECRET[j] } = {}) {
  const R = c.decodePoint(enc.subarray(0, 32));
  const Ej = c.mulG(CEREMONY_SECRET[j]);
  const S = c.mul(R, secret);
  const proof = c.cpProve(secret, R, Ej, S, shareInfo(CTX, i, j, R, Ej));
  return c.concat(c.u16(j), c.u16(i), S.toBytes(), c.encodeCp(proof));
}

/** The EncryptedShare to j in a DkgShares payload of two trustees. */
const shareTo = (payload) => payload.subarray(6, 6 + 80);

/** The honest log: Setup, the ceremony (two trustees), the roll, the poll opened, three ballots. */
function honestLog() {
  return [
    sign(e.KIND.Setup, manifest(), 'authority'), // 0
    sign(e.KIND.DkgCommitment, commitment(1), 't1'), // 1
    sign(e.KIND.DkgCommitment, commitment(2), 't2'), // 2
    sign(e.KIND.DkgShares, shares(1), 't1'), // 3
    sign(e.KIND.DkgShares, shares(2), 't2'), // 4
    sign(e.KIND.DkgConfirm, c.u16(1), 't1'), // 5
    sign(e.KIND.DkgConfirm, c.u16(2), 't2'), // 6
    sign(e.KIND.VoterRoll, roll(['ann', 2], ['bob', 1]), 'registrar'), // 7
    sign(e.KIND.OpenVoting, new Uint8Array(0), 'authority'), // 8
    sign(e.KIND.Ballot, ballot(1), 'bob'), // 9
    sign(e.KIND.Ballot, ballot(2), 'ann'), // 10
    sign(e.KIND.ChallengedBallot, ballot(3), 'ann'), // 11
    sign(e.KIND.Ballot, ballot(4), 'ann'), // 12
  ];
}

// ---- the board's side: tree, proofs (RFC 9162 §2.1), signed notes (specs/board.md §2, §6) ----

const largestPow2Below = (n) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
function path(m, leaves) {
  if (leaves.length <= 1) return [];
  const k = largestPow2Below(leaves.length);
  return m < k ? [...path(m, leaves.slice(0, k)), e.merkleRoot(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), e.merkleRoot(leaves.slice(0, k))];
}
function subproof(m, leaves, whole) {
  if (m === leaves.length) return whole ? [] : [e.merkleRoot(leaves)];
  const k = largestPow2Below(leaves.length);
  return m <= k ? [...subproof(m, leaves.slice(0, k), whole), e.merkleRoot(leaves.slice(k))] : [...subproof(m - k, leaves.slice(k), false), e.merkleRoot(leaves.slice(0, k))];
}
const consistency = (m, leaves) => (m === 0 || m === leaves.length ? [] : subproof(m, leaves, true));
const keyId = (name, alg, key) => c.sha256(c.concat(c.utf8(name), c.utf8('\n'), Uint8Array.of(alg), key)).subarray(0, 4);

/** The checkpoint note of a log, signed by `signer` (the board by default), cosigned by `cosigners`. */
function note(log, { signer = 'board', cosigners = [] } = {}) {
  const body = `${ORIGIN}\n${log.length}\n${e.b64(e.merkleRoot(log.map(e.leafHash)))}\n`;
  const lines = [`\u2014 ${ORIGIN} ${e.b64(c.concat(keyId(ORIGIN, 1, pub(signer)), c.sign(SEEDS[signer], c.utf8(body))))}`];
  for (const w of cosigners) {
    const time = 1700000000n;
    const sig = c.sign(SEEDS[w], c.utf8(`cosignature/v1\ntime ${time}\n${body}`));
    const name = WITNESSES.find((x) => c.hex(x.key) === c.hex(pub(w))).name;
    lines.push(`\u2014 ${name} ${e.b64(c.concat(keyId(name, 4, pub(w)), c.u64(time), sig))}`);
  }
  return `${body}\n${lines.join('\n')}\n`;
}

const item = (log, i) => ({ index: i, entry: c.hex(log[i]), proof: path(i, log.map(e.leafHash)).map(c.hex) });

/** What an honest board serves at `GET /voter/<ann>` over `log`. */
function view(log = honestLog(), { election = [0, 1, 2, 3, 4, 5, 6, 8], credential = [7, 10, 11, 12] } = {}) {
  return { checkpoint: note(log), size: log.length, election: election.map((i) => item(log, i)), credential: credential.map((i) => item(log, i)), omitted: 0 };
}

const refused = (f, code) => assert.throws(f, (ex) => ex instanceof l.ViewError && ex.code === code, `expected ${code}`);
/** Refused by the booth's election rules with the rejection code `rejection` (specs/election.md). */
const ruled = (f, rejection) => assert.throws(f, (ex) => ex instanceof l.ViewError && ex.code === 'refused' && ex.rejection === rejection, `expected refused: ${rejection}`);
const check = (wire, cred = pub('ann')) => l.checkView(wire, ORIGIN, BOARD, cred);

test('an honest view: the manifest, the joint key, the phase, the voter and their ballots', () => {
  const v = check(view());
  assert.equal(v.cp.size, 13);
  assert.equal(v.state.phase, 'voting');
  assert.ok(v.state.context, 'the ceremony completed');
  assert.equal(c.hex(v.state.context.K.toBytes()), c.hex(c.mulG(21n + 23n).toBytes()));
  assert.equal(c.hex(v.state.context.vks[1].toBytes()), c.hex(c.mulG(evaluate(POLY[1], 2) + evaluate(POLY[2], 2)).toBytes()));
  assert.deepEqual({ weight: v.voter.weight, style: v.voter.style, index: v.voter.index }, { weight: 2, style: 0, index: 7 });
  assert.equal(v.state.roll.get(c.hex(pub('ann'))).weight, 2);
  assert.deepEqual(v.ballots.map((b) => b.index), [10, 11, 12]);
  assert.deepEqual(l.standing(v, 10), { status: 'superseded', index: 10, by: 12 });
  assert.deepEqual(l.standing(v, 11), { status: 'challenged', index: 11 });
  assert.deepEqual(l.standing(v, 12), { status: 'counted', index: 12 });
  assert.equal(l.standing(v, 9), null);
  // Without a credential (the booth before the voter gives theirs): the election's entries only.
  const probe = l.checkView(view(), ORIGIN, BOARD, null);
  assert.equal(probe.state.phase, 'voting');
  assert.equal(probe.voter, null);
  // A credential on no roll entry gets an empty list.
  assert.equal(check(view(undefined, { credential: [] }), pub('stranger')).voter, null);
});

test('a wrong inclusion proof, or a proof for another leaf, is refused (inclusion)', () => {
  const w = view();
  w.election[2].proof[0] = w.election[2].proof[0].replace(/^./, (d) => (d === '0' ? '1' : '0'));
  refused(() => check(w), 'inclusion');
  // Entry 9's proof for entry 10.
  const log = honestLog();
  const x = view(log);
  x.credential[1].proof = item(log, 9).proof;
  refused(() => check(x), 'inclusion');
  // Bob's ballot shown at Ann's index (the proof is for the leaf at 10, not Bob's).
  const y = view(log);
  y.credential[1].entry = c.hex(log[9]);
  refused(() => check(y), 'inclusion');
  // A proof longer than any tree's.
  const z = view(log);
  z.election[0].proof = Array(65).fill('00'.repeat(32));
  refused(() => check(z), 'inclusion');
});

test('an entry of another credential is refused (other-credential)', () => {
  refused(() => check(view(undefined, { credential: [7, 9, 10] })), 'other-credential');
  // The roll entry shown to a credential it does not name.
  refused(() => check(view(), pub('stranger')), 'other-credential');
  // Ballots without the roll entry first.
  refused(() => check(view(undefined, { credential: [10, 12] })), 'other-credential');
});

test('a missing ceremony entry or Setup is refused (wrong-phase, no-setup, refused)', () => {
  // Without trustee 2's confirmation the ceremony has not completed: the poll cannot open.
  refused(() => check(view(undefined, { election: [0, 1, 2, 3, 4, 5, 8] })), 'wrong-phase');
  refused(() => check(view(undefined, { election: [1, 2, 3, 4, 5, 6, 8] })), 'no-setup');
  refused(() => check(view(undefined, { election: [] })), 'no-setup');
  // Without OpenVoting the ballots are outside the poll.
  refused(() => check(view(undefined, { election: [0, 1, 2, 3, 4, 5, 6] })), 'wrong-phase');
  // Without trustee 2's shares, the confirmations come before every trustee dealt; without its
  // commitments, its shares come before them.
  ruled(() => check(view(undefined, { election: [0, 1, 2, 3, 5, 6, 8] })), 'confirm-before-shares');
  ruled(() => check(view(undefined, { election: [0, 1, 3, 4, 5, 6, 8] })), 'shares-before-commitments');
});

test('a checkpoint not signed by the board, or a cosigned one without the quorum, is refused', () => {
  const log = honestLog();
  const w = view(log);
  w.checkpoint = note(log, { signer: 'stranger' });
  refused(() => check(w), 'checkpoint');
  // The board's key is not the one the manifest names.
  refused(() => l.checkView(view(log), ORIGIN, pub('stranger'), pub('ann')), 'checkpoint');
  const m = e.decodeManifest(manifest());
  assert.deepEqual(l.checkCosigned(note(log, { cosigners: ['w1', 'w2'] }), m, BOARD).names, ['w1.example', 'w2.example']);
  refused(() => l.checkCosigned(note(log, { cosigners: ['w1'] }), m, BOARD), 'no-quorum');
  refused(() => l.checkCosigned(note(log, { signer: 'stranger', cosigners: ['w1', 'w2'] }), m, BOARD), 'checkpoint');
  // A cosignature line by a named witness that does not verify spoils the note.
  const bad = note(log, { cosigners: ['w1', 'w2'] }).replace(/(\u2014 w2\.example \S{10})(\S)/, (_, p, ch) => `${p}${ch === 'A' ? 'B' : 'A'}`);
  refused(() => l.checkCosigned(bad, m, BOARD), 'checkpoint');
});

test('a manifest naming another board, entries of another election, a wrong author are refused', () => {
  const other = honestLog();
  other[0] = sign(e.KIND.Setup, manifest(ORIGIN, pub('stranger')), 'authority');
  refused(() => check(view(other, { election: [0], credential: [] }), null), 'other-board');
  // With the ceremony after it, the rules refuse the first coefficient proof first: it binds the
  // manifest the trustees saw (as the Rust client, which judges the manifest's board at the end).
  ruled(() => check(view(other)), 'invalid-coefficient-proof');
  const foreign = honestLog();
  foreign[5] = sign(e.KIND.DkgConfirm, c.u16(1), 't1', 'elsewhere.example.org');
  refused(() => check(view(foreign)), 'other-election');
  const forged = honestLog();
  forged[8] = sign(e.KIND.OpenVoting, new Uint8Array(0), 'registrar');
  refused(() => check(view(forged)), 'unauthorised');
  const rollForged = honestLog();
  rollForged[7] = sign(e.KIND.VoterRoll, roll(['ann', 2]), 'authority');
  refused(() => check(view(rollForged)), 'unauthorised');
  // The Setup by another key than the manifest's authority: the rules refuse it.
  const setupForged = honestLog();
  setupForged[0] = sign(e.KIND.Setup, manifest(), 'registrar');
  ruled(() => check(view(setupForged)), 'unauthorised-author');
  // A ballot in the election's list.
  refused(() => check(view(undefined, { election: [0, 1, 2, 3, 4, 5, 6, 8, 9] })), 'not-for-every-voter');
});

test("the ceremony's entries through the rules: each hostile one refused with the rules' code", () => {
  const at = (i, entry) => {
    const log = honestLog();
    log[i] = entry;
    return view(log);
  };
  // A coefficient proof altered after signing: the signature no longer verifies.
  const flipped = honestLog()[1].slice();
  flipped[flipped.length - 64 - 1] ^= 1;
  ruled(() => check(at(1, flipped)), 'bad-signature');
  // A tampered proof, signed by the trustee: its s one more.
  const p = commitment(1);
  const s = c.decodeScalar(p.subarray(p.length - 32));
  const tampered = c.concat(p.subarray(0, p.length - 32), c.encodeScalar(c.mod(s + 1n)));
  ruled(() => check(at(1, sign(e.KIND.DkgCommitment, tampered, 't1'))), 'invalid-coefficient-proof');
  // Two proofs swapped, and a proof under another dealer's context.
  const swapped = c.concat(p.subarray(0, 4 + 64), p.subarray(4 + 64 + 64, 4 + 64 + 128), p.subarray(4 + 64, 4 + 64 + 64));
  ruled(() => check(at(1, sign(e.KIND.DkgCommitment, swapped, 't1'))), 'invalid-coefficient-proof');
  const asDealer2 = commitment(2, POLY[1]);
  ruled(() => check(at(1, sign(e.KIND.DkgCommitment, c.concat(c.u16(1), asDealer2.subarray(2)), 't1'))), 'invalid-coefficient-proof');
  // Commitments from a key that is no trustee's, and by trustee 1 in trustee 2's name.
  ruled(() => check(at(1, sign(e.KIND.DkgCommitment, commitment(1), 'stranger'))), 'unauthorised-author');
  ruled(() => check(at(2, sign(e.KIND.DkgCommitment, commitment(2), 't1'))), 'unauthorised-author');
  ruled(() => check(at(6, sign(e.KIND.DkgConfirm, c.u16(2), 't1'))), 'unauthorised-author');
  // A trustee the manifest does not have; the wrong number of commitments; a payload that does not decode.
  ruled(() => check(at(6, sign(e.KIND.DkgConfirm, c.u16(9), 't2'))), 'unknown-trustee');
  ruled(() => check(at(1, sign(e.KIND.DkgCommitment, commitment(1, [21n]), 't1'))), 'commitment-count');
  ruled(() => check(at(1, sign(e.KIND.DkgCommitment, commitment(1, [21n, 22n, 5n]), 't1'))), 'commitment-count');
  ruled(() => check(at(6, sign(e.KIND.DkgConfirm, c.concat(c.u16(2), c.u8(0)), 't2'))), 'malformed');
  // Trustee 1 commits twice; shares to itself.
  ruled(() => check(at(2, sign(e.KIND.DkgCommitment, commitment(1), 't1'))), 'already-posted');
  ruled(() => check(at(3, sign(e.KIND.DkgShares, c.concat(c.u16(1), c.u16(1), c.u16(1), shareTo(shares(1))), 't1'))), 'share-recipients');
  // The same entry twice.
  const log = honestLog();
  const twice = [...log.slice(0, 2), log[1], ...log.slice(2)];
  ruled(() => check(view(twice, { election: [0, 1, 2, 3, 4, 5, 6, 7, 9], credential: [8, 11, 12, 13] })), 'duplicate');
});

test('complaints: a false one and a bad reveal are refused; an upheld one disqualifies the dealer', () => {
  const log = honestLog();
  const dealt = e.parseEntry(log[3]).payload;
  // Trustee 2 complains about trustee 1's valid share, instead of confirming.
  const falseComplaint = [...log.slice(0, 5), sign(e.KIND.DkgComplaint, complaint(2, 1, shareTo(dealt)), 't2'), ...log.slice(5)];
  ruled(() => check(view(falseComplaint, { election: [0, 1, 2, 3, 4, 5], credential: [] })), 'false-complaint');
  // A reveal with another secret: its proof of decryption does not verify.
  const badReveal = [...log.slice(0, 5), sign(e.KIND.DkgComplaint, complaint(2, 1, shareTo(dealt), { secret: 13n }), 't2')];
  ruled(() => check(view(badReveal, { election: [0, 1, 2, 3, 4, 5], credential: [] })), 'invalid-reveal');
  // Against itself, and about a dealer that has not dealt.
  const self = [...log.slice(0, 5), sign(e.KIND.DkgComplaint, complaint(2, 2, shareTo(dealt)), 't2')];
  ruled(() => check(view(self, { election: [0, 1, 2, 3, 4, 5], credential: [] })), 'self-complaint');
  const early = [...log.slice(0, 4), sign(e.KIND.DkgComplaint, complaint(1, 2, shareTo(dealt)), 't1')];
  ruled(() => check(view(early, { election: [0, 1, 2, 3, 4], credential: [] })), 'no-share-posted');
  // Trustee 1 deals trustee 2 a share that does not match its commitments; trustee 2's complaint
  // is upheld, trustee 1 is disqualified, and with one qualified trustee of the two needed the
  // ceremony fails: the poll cannot open, and no later ceremony entry is admissible.
  const cheat = sign(e.KIND.DkgShares, shares(1, { 2: 99n }), 't1');
  const upheld = [log[0], log[1], log[2], cheat, log[4], sign(e.KIND.DkgComplaint, complaint(2, 1, shareTo(e.parseEntry(cheat).payload)), 't2'), log[6], log[7], log[8]];
  const failed = check(view(upheld, { election: [0, 1, 2, 3, 4, 5], credential: [] }), null);
  assert.equal(failed.state.phase, 'ceremony-failed');
  assert.equal(failed.state.context, null);
  ruled(() => check(view(upheld, { election: [0, 1, 2, 3, 4, 5, 6], credential: [] }), null), 'ceremony-failed');
  refused(() => check(view(upheld, { election: [0, 1, 2, 3, 4, 5, 8], credential: [] }), null), 'wrong-phase');
});

test('sizes and order: wrong-size, past-checkpoint, out-of-order, malformed, undecodable', () => {
  refused(() => check({ ...view(), size: 14 }), 'wrong-size');
  const past = view();
  past.credential.push({ ...past.credential[3], index: 13 });
  refused(() => check(past), 'past-checkpoint');
  refused(() => check(view(undefined, { credential: [7, 12, 10] })), 'out-of-order');
  refused(() => check(view(undefined, { election: [0, 1, 1, 2, 3, 4, 5, 6, 8] })), 'out-of-order');
  refused(() => check({ ...view(), election: 'x' }), 'malformed');
  refused(() => check(null), 'malformed');
  const notHex = view();
  notHex.election[1].entry = 'zz';
  refused(() => check(notHex), 'malformed');
  const junk = honestLog();
  junk[9] = Uint8Array.of(1, 2, 3);
  const w = view(junk, { credential: [7, 9] });
  refused(() => check(w), 'undecodable');
});

test('the receipt: its inclusion, and its checkpoint extending the checked one', () => {
  const log = honestLog();
  const v = check(view(log));
  const entry = sign(e.KIND.Ballot, ballot(5), 'ann');
  const after = [...log, sign(e.KIND.Ballot, ballot(6), 'bob'), entry];
  const leaves = after.map(e.leafHash);
  const receipt = (l2, i) => `c2sp.org/tlog-proof@v1\nindex ${i}\n${path(i, l2.map(e.leafHash)).map(e.b64).join('\n')}\n\n${note(l2)}`;
  const proof = consistency(log.length, leaves);
  assert.equal(l.checkReceipt(receipt(after, 14), entry, v, ORIGIN, BOARD, proof).index, 14);
  // At the same size as the view (no consistency proof needed) it must be the same tree.
  assert.equal(l.verifyConsistency(13, 13, [], v.cp.root, v.cp.root), true);
  // A receipt for another entry, or at another index.
  refused(() => l.checkReceipt(receipt(after, 13), entry, v, ORIGIN, BOARD, proof), 'receipt');
  // A receipt not signed by the board.
  refused(() => l.checkReceipt(receipt(after, 14).replace(/\u2014 .*\n$/, '— x AAAA\n'), entry, v, ORIGIN, BOARD, proof), 'receipt');
  // A receipt under a log that rewrote history: entry 9 replaced (a fork).
  const forked = [...log.slice(0, 9), sign(e.KIND.Ballot, ballot(9), 'bob'), ...log.slice(10), after[13], entry];
  const forkProof = consistency(log.length, forked.map(e.leafHash));
  refused(() => l.checkReceipt(receipt(forked, 14), entry, v, ORIGIN, BOARD, forkProof), 'not-extending');
  // The honest proof does not rescue a forked tree, and a truncated proof does not verify.
  refused(() => l.checkReceipt(receipt(forked, 14), entry, v, ORIGIN, BOARD, proof), 'not-extending');
  refused(() => l.checkReceipt(receipt(after, 14), entry, v, ORIGIN, BOARD, proof.slice(1)), 'not-extending');
});

test('consistency proofs of every pair of sizes up to 20 verify, and altered ones do not', () => {
  const leaves = Array.from({ length: 20 }, (_, i) => e.leafHash(Uint8Array.of(i)));
  for (let n = 1; n <= 20; n++) {
    for (let m = 1; m <= n; m++) {
      const p = consistency(m, leaves.slice(0, n));
      const [a, b] = [e.merkleRoot(leaves.slice(0, m)), e.merkleRoot(leaves.slice(0, n))];
      assert.equal(l.verifyConsistency(m, n, p, a, b), true, `${m}→${n}`);
      if (m < n) {
        assert.equal(l.verifyConsistency(m, n, p, b, a), false, `${m}→${n} swapped`);
        if (p.length > 0) {
          const bad = p.map((h, k) => (k === 0 ? c.sha256(h) : h));
          assert.equal(l.verifyConsistency(m, n, bad, a, b), false, `${m}→${n} altered`);
        }
      }
    }
  }
  assert.equal(l.verifyConsistency(5, 4, [], new Uint8Array(32), new Uint8Array(32)), false);
});

// ---- the public pages without the log (src/public.js) ----

/** The board's receipt for entry `i` under the checkpoint of the first `size` entries of `log`. */
function receiptOf(log, i, size = log.length, opts = { cosigners: ['w1', 'w2'] }) {
  const prefix = log.slice(0, size);
  const proof = path(i, prefix.map(e.leafHash)).map(e.b64);
  return `c2sp.org/tlog-proof@v1\nindex ${i}\n${proof.map((h) => `${h}\n`).join('')}\n${note(prefix, opts)}`;
}
const M = e.decodeManifest(manifest());
/** What the booth gathers for one lookup, from an honest board, covered up to `covered`. */
function lookupOf(log, i, { covered = log.length, credential, election = [0, 1, 2, 3, 4, 5, 6, 8] } = {}) {
  const isCovered = i < covered;
  const at = isCovered ? covered : log.length;
  const author = e.parseEntry(log[i]).author;
  const mine = credential ?? log.map((x, k) => k).filter((k) => {
    const x = e.parseEntry(log[k]);
    return (x.kind === e.KIND.VoterRoll && rollOfTest(x.payload).includes(c.hex(author))) || ((x.kind === e.KIND.Ballot || x.kind === e.KIND.ChallengedBallot) && c.hex(x.author) === c.hex(author));
  });
  return {
    manifest: M, key: BOARD, leaf: e.leafHash(log[i]), covered: isCovered, entry: log[i],
    receipt: receiptOf(log, i, at, isCovered ? undefined : { cosigners: [] }),
    view: view(log, { election, credential: mine }), consistency: consistency(at, log.map(e.leafHash)), withholding: false,
  };
}
function rollOfTest(payload) {
  const r = new c.Reader(payload);
  r.u32();
  const out = [];
  for (let n = r.u32(), k = 0; k < n; k++) {
    out.push(c.hex(r.take(32)));
    r.u32();
    r.u16();
  }
  return out;
}

test('tracking codes decode to their leaf hash; partial or altered codes do not', () => {
  const leaf = e.leafHash(honestLog()[10]);
  const code = e.trackingCode(leaf);
  assert.equal(c.hex(p.leafOf(code)), c.hex(leaf));
  assert.equal(c.hex(p.leafOf(code.toUpperCase().replace(/-/g, ' '))), c.hex(leaf));
  assert.equal(c.hex(p.leafOf(c.hex(leaf))), c.hex(leaf));
  assert.equal(p.leafOf(code.slice(0, 14)), null);
  assert.equal(p.leafOf(`${code.slice(0, -1)}u`), null);
  // The last character carries 4 bits of padding: a nonzero padding is not a canonical code.
  assert.equal(p.leafOf(`${code.slice(0, -1)}${'0123456789abcdefghjkmnpqrstvwxyz'['0123456789abcdefghjkmnpqrstvwxyz'.indexOf(code.at(-1)) ^ 1]}`), null);
});

test('one ballot looked up without the log: the same standings as the full replay', () => {
  const log = honestLog();
  assert.deepEqual(p.ballotStanding(lookupOf(log, 10)), { index: 10, status: 'superseded', by: 12, final: false, size: 13 });
  assert.deepEqual(p.ballotStanding(lookupOf(log, 12)), { index: 12, status: 'counted', final: false, size: 13 });
  assert.deepEqual(p.ballotStanding(lookupOf(log, 11)), { index: 11, status: 'challenged', final: false, size: 13 });
  assert.deepEqual(p.ballotStanding(lookupOf(log, 9)), { index: 9, status: 'counted', final: false, size: 13 });
  // Covered only to 11: Ann's ballot 10 is counted there (12 is not covered), 12 is pending.
  assert.deepEqual(p.ballotStanding(lookupOf(log, 10, { covered: 11 })), { index: 10, status: 'counted', final: false, size: 11 });
  assert.equal(p.ballotStanding(lookupOf(log, 12, { covered: 11 })).status, 'pending');
  // The board withholding what the witnesses cosigned: nothing is confirmed.
  assert.equal(p.ballotStanding({ ...lookupOf(log, 12), withholding: true }).status, 'withheld');
  // After the close, in the covered prefix: final.
  const closed = [...log, sign(e.KIND.CloseVoting, new Uint8Array(0), 'authority')];
  const st = p.ballotStanding(lookupOf(closed, 12, { election: [0, 1, 2, 3, 4, 5, 6, 8, 13] }));
  assert.deepEqual(st, { index: 12, status: 'counted', final: true, size: 14 });
  const late = p.ballotStanding(lookupOf(closed, 12, { covered: 12, election: [0, 1, 2, 3, 4, 5, 6, 8, 13] }));
  assert.equal(late.status, 'unconfirmed');
  // Not a ballot: the roll entry's leaf.
  assert.equal(p.ballotStanding(lookupOf(log, 7, { credential: [7, 10, 11, 12] })).status, 'not-a-ballot');
});

test('a board that lies about one ballot is caught, never shown counted', () => {
  const log = honestLog();
  const wrong = (f, code) => assert.throws(() => p.ballotStanding(f(lookupOf(log, 12))), (ex) => ex instanceof l.ViewError && ex.code === code, `expected ${code}`);
  // A wrong inclusion proof in the receipt.
  wrong((a) => ({ ...a, receipt: a.receipt.replace(/\nindex 12\n(.)/, (m, ch) => `\nindex 12\n${ch === 'A' ? 'B' : 'A'}`) }), 'inclusion');
  // The receipt of another entry, or another entry served for the code.
  wrong((a) => ({ ...a, receipt: receiptOf(log, 10) }), 'inclusion');
  wrong((a) => ({ ...a, entry: log[10] }), 'receipt');
  // A receipt's checkpoint the witnesses did not cosign, or not signed by the board.
  wrong((a) => ({ ...a, receipt: receiptOf(log, 12, 13, { cosigners: ['w1'] }) }), 'no-quorum');
  wrong((a) => ({ ...a, receipt: receiptOf(log, 12, 13, { signer: 'stranger', cosigners: [] }) }), 'checkpoint');
  // A voter view that leaves out the ballot the receipt proves.
  wrong((a) => ({ ...a, view: view(log, { credential: [7, 10, 11] }) }), 'incomplete');
  // A voter view whose checkpoint does not extend the cosigned one (another history).
  const other = [...log.slice(0, 12), sign(e.KIND.Ballot, ballot(9), 'ann')];
  wrong((a) => ({ ...a, receipt: receiptOf(other, 10), leaf: e.leafHash(log[10]), entry: log[10] }), 'not-extending');
  // A view's proof that does not verify.
  wrong((a) => {
    const w = view(log, { credential: [7, 10, 11, 12] });
    w.credential[3].proof[0] = w.credential[3].proof[0].replace(/^./, (d) => (d === '0' ? '1' : '0'));
    return { ...a, view: w };
  }, 'inclusion');
});

/** A log of `n` entries: the honest one, then copies of Bob's ballot (the tree does not mind). */
const longLog = (n) => {
  const log = honestLog();
  while (log.length < n) log.push(log[9]);
  return log;
};
const bundle = (entries) => c.concat(...entries.map((x) => c.concat(c.u16(x.length), x)));

test('a page of the ballot list: one tile, full or partial, checked against the cosigned root', () => {
  const log = longLog(300);
  const full = p.checkTile(bundle(log.slice(0, 256)), 0, receiptOf(log, 0), M, BOARD, true);
  assert.equal(full.cp.size, 300);
  assert.deepEqual(full.rows.slice(0, 4).map((r) => r.index), [9, 10, 11, 12]);
  assert.equal(full.rows.length, 256 - 9);
  const last = p.checkTile(bundle(log.slice(256)), 1, receiptOf(log, 256), M, BOARD, true);
  assert.equal(last.rows.length, 44);
  for (const size of [257, 258, 259, 263, 300]) p.checkTile(bundle(log.slice(256, size)), 1, receiptOf(log, 256, size), M, BOARD, true);
  const small = p.checkTile(bundle(log.slice(0, 13)), 0, receiptOf(log, 0, 13), M, BOARD, true);
  assert.equal(c.hex(small.rows[1].leaf), c.hex(e.leafHash(log[10])));
  const refusedTile = (f, code) => assert.throws(f, (ex) => ex instanceof l.ViewError && ex.code === code, `expected ${code}`);
  // An entry replaced, one left out, the tile of another place, a receipt for another entry.
  const swapped = log.slice(0, 256);
  swapped[100] = log[10];
  refusedTile(() => p.checkTile(bundle(swapped), 0, receiptOf(log, 0), M, BOARD, true), 'inclusion');
  refusedTile(() => p.checkTile(bundle(log.slice(0, 255)), 0, receiptOf(log, 0), M, BOARD, true), 'wrong-size');
  refusedTile(() => p.checkTile(bundle(log.slice(0, 44)), 1, receiptOf(log, 256), M, BOARD, true), 'inclusion');
  refusedTile(() => p.checkTile(bundle(log.slice(256)), 1, receiptOf(log, 255), M, BOARD, true), 'receipt');
  refusedTile(() => p.checkTile(bundle(log.slice(0, 256)), 0, receiptOf(log, 0, 300, { cosigners: [] }), M, BOARD, true), 'no-quorum');
});

/** Trustee j's decryption share payload for the two options (points and proofs only shaped). */
const share = (j, n = 2) => c.concat(c.u16(j), c.u16(n), ...Array.from({ length: n }, () => c.concat(point(5), point(6), point(7), c.encodeScalar(1n))));
const result = (a, b) => c.concat(c.u16(1), c.u8(2), c.u64(BigInt(a)), c.u64(BigInt(b)));

test('the result page: the tally entries proven in the cosigned checkpoint, shaped and signed', () => {
  const log = [...honestLog(), sign(e.KIND.CloseVoting, new Uint8Array(0), 'authority'), // 13
    sign(e.KIND.DecryptionShare, share(1), 't1'), sign(e.KIND.DecryptionShare, share(2), 't2'), sign(e.KIND.Result, result(1, 2), 'stranger')];
  const cp = e.openCheckpoint(note(log), ORIGIN, BOARD);
  const items = (lg = log) => [14, 15, 16].map((i) => ({ index: i, entry: lg[i], proof: path(i, lg.map(e.leafHash)) }));
  const t = p.checkTally(items(), 13, cp, M);
  assert.deepEqual(t.counts, [[1n, 2n]]);
  assert.deepEqual(t.shares.map((s) => s.trustee), [1, 2]);
  assert.equal(t.resultIndex, 16);
  const bad = (its, code, at = cp, lg = log) => assert.throws(() => p.checkTally(its, 13, at, M), (ex) => ex instanceof l.ViewError && ex.code === code, `expected ${code}`);
  bad(items().slice(0, 2), 'wrong-size');
  const swapped = items();
  swapped[2].proof = swapped[1].proof;
  bad(swapped, 'inclusion');
  // A share signed by the other trustee, a second share, a result before the threshold.
  const forged = [...log.slice(0, 14), sign(e.KIND.DecryptionShare, share(1), 't2'), log[15], log[16]];
  bad(items(forged), 'unauthorised', e.openCheckpoint(note(forged), ORIGIN, BOARD));
  const early = [...log.slice(0, 14), log[14], log[16], log[15]];
  bad(items(early), 'refused', e.openCheckpoint(note(early), ORIGIN, BOARD));
  const shapeless = [...log.slice(0, 16), sign(e.KIND.Result, c.concat(c.u16(1), c.u8(1), c.u64(3n)), 'stranger')];
  bad(items(shapeless), 'refused', e.openCheckpoint(note(shapeless), ORIGIN, BOARD));
  const fewShares = [...log.slice(0, 14), sign(e.KIND.DecryptionShare, share(1, 3), 't1'), log[15], log[16]];
  bad(items(fewShares), 'undecodable', e.openCheckpoint(note(fewShares), ORIGIN, BOARD));
});

test('the result page with the encrypted tally: every share proven, every count what the shares decrypt', () => {
  const { context } = check(view()).state;
  // The tally: option a holds 2 votes, option b 5; α = r·G, β = m·G + r·K.
  const K = c.mulG(21n + 23n);
  const ms = [2n, 5n];
  const rs = [31n, 32n];
  const tally = ms.map((m, i) => ({ alpha: c.mulG(rs[i]), beta: c.mulG(m).add(c.mul(K, rs[i])) }));
  const wire = { tally: tally.map((ct) => c.hex(c.encodeCiphertext(ct))) };
  const secret = (j) => c.mod(evaluate(POLY[1], j) + evaluate(POLY[2], j));
  const realShare = (j, { lie = false } = {}) => c.concat(c.u16(j), c.u16(2), ...tally.map((ct, o) => {
    const D = c.mul(ct.alpha, secret(j) + (lie && o === 1 ? 1n : 0n));
    const proof = c.cpProve(secret(j), ct.alpha, c.mulG(secret(j)), D, c.concat(context.E, c.u16(j), c.u16(0), c.u16(o)));
    return c.concat(D.toBytes(), c.encodeCp(proof));
  }));
  const make = (shares, counts) => [...honestLog(), sign(e.KIND.CloseVoting, new Uint8Array(0), 'authority'),
    ...shares.map(([j, bytes]) => sign(e.KIND.DecryptionShare, bytes, `t${j}`)), sign(e.KIND.Result, result(...counts), 'stranger')];
  const run = (log) => {
    const cp = e.openCheckpoint(note(log), ORIGIN, BOARD);
    const items = log.map((x, i) => ({ index: i, entry: x, proof: path(i, log.map(e.leafHash)) })).slice(14);
    return p.checkTally(items, 13, cp, M, context, p.parseTally(wire, M));
  };
  const t = run(make([[1, realShare(1)], [2, realShare(2)]], [2, 5]));
  assert.equal(t.proofs, true);
  assert.deepEqual(t.counts, [[2n, 5n]]);
  const lied = (log, code) => assert.throws(() => run(log), (ex) => ex instanceof l.ViewError && ex.code === code, `expected ${code}`);
  // A count that is not what the shares decrypt; a share whose proof does not hold.
  lied(make([[1, realShare(1)], [2, realShare(2)]], [2, 6]), 'refused');
  lied(make([[1, realShare(1)], [2, realShare(2, { lie: true })]], [2, 5]), 'refused');
  // The board serving another tally than the one the shares decrypt.
  const other = { tally: [wire.tally[1], wire.tally[0]] };
  assert.throws(() => {
    const log = make([[1, realShare(1)], [2, realShare(2)]], [2, 5]);
    const items = log.map((x, i) => ({ index: i, entry: x, proof: path(i, log.map(e.leafHash)) })).slice(14);
    p.checkTally(items, 13, e.openCheckpoint(note(log), ORIGIN, BOARD), M, context, p.parseTally(other, M));
  }, (ex) => ex instanceof l.ViewError && ex.code === 'refused');
  // A tally of the wrong length or not hex.
  assert.throws(() => p.parseTally({ tally: wire.tally.slice(1) }, M), (ex) => ex.code === 'malformed');
  assert.throws(() => p.parseTally({ tally: ['zz', wire.tally[1]] }, M), (ex) => ex.code === 'malformed');
});
