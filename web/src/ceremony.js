// The election rules of the key ceremony in the browser (specs/election.md §6 steps 1–8 for
// `Setup` and the ceremony kinds, §6.1, §6.2; crypto §5.1, §5.2, §8): what the booth's light
// session runs the election's own entries through, so that it encrypts only to a joint key the
// rules would have produced. Each entry is judged in the order §6 gives, cheapest first and
// proofs last, and a refusal carries the rules' stable code (`Rejection::code` in
// urna-election): the same entry gets the same code here as from the Rust rules.
//
// What is not judged here: §2's rules of the manifest's texts, contests, styles, witnesses and
// mixers (the booth shows them, it does not validate them); only §2's rules on the keys and
// the trustees, which the ceremony rests on, are checked (`invalid-manifest`).

import { ed25519 } from '@noble/curves/ed25519';
import { chacha20poly1305 } from '@noble/ciphers/chacha';
import { hkdf } from '@noble/hashes/hkdf';
import * as c from './crypto.js';
import * as e from './election.js';

/** Why the rules refuse an entry: `code` is specs/election.md's rejection code. */
export class Rejection extends Error {
  constructor(code, detail) {
    super(detail ? `${code}: ${detail}` : code);
    this.code = code;
  }
}

const CEREMONY = new Set([e.KIND.DkgCommitment, e.KIND.DkgShares, e.KIND.DkgComplaint, e.KIND.DkgConfirm]);
const MAX_TRUSTEES = 64;

/** `"urna-v1 dkg" ‖ manifest_hash`: the caller context of the ceremony's proofs and boxes (§6.2). */
export const dkgCtx = (manifestHash) => c.concat(c.utf8('urna-v1 dkg'), manifestHash);

/** `ctx ‖ "/dkg-coefficient" ‖ u16(i) ‖ u16(k)` (crypto §8). */
export const coefficientCtx = (ctx, dealer, k) => c.concat(ctx, c.utf8('/dkg-coefficient'), c.u16(dealer), c.u16(k));

/** `"urna-v1 share-enc" ‖ u16(len(ctx)) ‖ ctx ‖ u16(i) ‖ u16(j) ‖ R ‖ E_j` (crypto §8). */
export const shareInfo = (ctx, dealer, recipient, R, Ej) => c.concat(c.utf8('urna-v1 share-enc'), c.u16(ctx.length), ctx, c.u16(dealer), c.u16(recipient), R.toBytes(), Ej.toBytes());

/** The key of a share's box from the shared point `S` (crypto §8). */
export const shareKey = (S, info) => hkdf(c.sha256, S.toBytes(), undefined, info, 32);

const NONCE = new Uint8Array(12);

/** `Σ_k j^k·C_k`: the public image of a dealer's polynomial at `j`. */
export function feldman(commitments, j) {
  let acc = c.ZERO;
  let power = 1n;
  for (const C of commitments) {
    acc = acc.add(c.mulPublic(C, power));
    power = c.mod(power * BigInt(j));
  }
  return acc;
}

/**
 * Judges a complaint (crypto §8, `verify_complaint`): `'bad-reveal'` if the proof of decryption
 * fails, `'upheld'` if the box does not open, holds a non-canonical scalar or a share that does
 * not match the commitments, `'share-valid'` otherwise.
 */
export function judgeComplaint(share, reveal, recipientKey, commitments, dealer, recipient, ctx) {
  const info = shareInfo(ctx, dealer, recipient, share.R, recipientKey);
  let proved;
  try {
    proved = c.cpVerify(reveal.proof, share.R, recipientKey, reveal.S, info);
  } catch {
    proved = false;
  }
  if (!proved) return 'bad-reveal';
  let s;
  try {
    const plain = chacha20poly1305(shareKey(reveal.S, info), NONCE, info).decrypt(share.box);
    if (plain.length !== 32) return 'upheld';
    s = c.decodeScalar(plain);
  } catch {
    return 'upheld';
  }
  return c.mulG(s).equals(feldman(commitments, recipient)) ? 'share-valid' : 'upheld';
}

// ---- payloads (§4, strictly decoded: a failure is `malformed`) ----

function decodePayload(kind, bytes) {
  const r = new c.Reader(bytes);
  let p;
  switch (kind) {
    case e.KIND.DkgCommitment: {
      const dealer = r.u16();
      const commitments = [];
      for (let n = r.u16(), k = 0; k < n; k++) commitments.push(r.point('C'));
      const proofs = commitments.map(() => c.decodeSchnorr(r));
      p = { dealer, commitments, proofs };
      break;
    }
    case e.KIND.DkgShares: {
      const dealer = r.u16();
      const shares = [];
      for (let n = r.u16(), k = 0; k < n; k++) shares.push({ recipient: r.u16(), R: r.point('R'), box: r.take(48) });
      p = { dealer, shares };
      break;
    }
    case e.KIND.DkgComplaint:
      p = { complainer: r.u16(), dealer: r.u16(), reveal: { S: r.point('S'), proof: c.decodeCp(r) } };
      break;
    case e.KIND.DkgConfirm:
      p = { trustee: r.u16() };
      break;
    default:
      throw new Error(`kind ${kind} is not judged here`);
  }
  r.finish();
  return p;
}

/** An Ed25519 public key of prime order (§3.1). */
function primeOrder(key) {
  try {
    return ed25519.Point.fromBytes(key).isTorsionFree();
  } catch {
    return false;
  }
}

/** §2's rules on the keys and the trustees (the ceremony rests on them). */
function validateKeys(m) {
  if (m.trustees.length === 0) throw new Rejection('invalid-manifest', 'no trustees');
  if (m.trustees.length > MAX_TRUSTEES) throw new Rejection('invalid-manifest', `${m.trustees.length} trustees, at most ${MAX_TRUSTEES}`);
  if (m.threshold === 0 || m.threshold > m.trustees.length) throw new Rejection('invalid-manifest', `threshold ${m.threshold} of ${m.trustees.length} trustees`);
  const keys = [['authority_key', m.authorityKey], ['registrar_key', m.registrarKey], ['board_key', m.boardKey], ...m.trustees.map((t, i) => [`trustee ${i + 1} signing_key`, t.signingKey])];
  for (const [name, k] of keys) if (!primeOrder(k)) throw new Rejection('invalid-manifest', `${name} is not of prime order`);
  const seen = new Set();
  for (const [, k] of keys) {
    if (seen.has(c.hex(k))) throw new Rejection('invalid-manifest', `the key ${c.hex(k)} is used twice`);
    seen.add(c.hex(k));
  }
  const ceremony = new Set();
  for (const t of m.trustees) {
    const k = c.hex(t.ceremonyKey.toBytes());
    if (ceremony.has(k)) throw new Rejection('invalid-manifest', `the ceremony key ${k} is used twice`);
    ceremony.add(k);
  }
}

/**
 * The rules' state of an election up to the end of its key ceremony: `apply` admits `Setup`
 * and the ceremony's entries or throws a Rejection leaving the state unchanged (other kinds
 * are not its to judge: a TypeError). `phase` is the rules' phase
 * (`awaiting-setup`, `key-ceremony`, `registration` once the ceremony completed,
 * `ceremony-failed`); `context` `{ K, vks, E }` once it completed.
 */
export class Ceremony {
  constructor() {
    this.phase = 'awaiting-setup';
    this.manifest = null;
    this.manifestHash = null;
    this.leaves = new Set();
    this.commitments = new Map();
    this.shares = new Map();
    this.disqualified = new Set();
    this.confirmed = new Set();
    this.qualified = [];
    this.context = null;
  }

  /** Applies one entry (its bytes, or `parseEntry`'s result). */
  apply(entry) {
    // Step 1: the envelope.
    let x = entry;
    if ((entry instanceof Uint8Array ? entry : entry.bytes).length > 65535) throw new Rejection('oversized');
    if (entry instanceof Uint8Array) {
      try {
        x = e.parseEntry(entry);
      } catch (ex) {
        throw new Rejection('malformed', ex.message);
      }
    }
    if (x.kind !== e.KIND.Setup && !CEREMONY.has(x.kind)) throw new TypeError(`kind ${x.kind} is not judged by the ceremony's rules`);
    // Steps 2–4: the election, no entry twice, the signature.
    const m = this.manifest;
    if (!m && x.kind !== e.KIND.Setup) throw new Rejection('wrong-phase', `kind ${x.kind} before Setup`);
    if (m && x.electionId !== m.electionId) throw new Rejection('wrong-election', `${x.electionId}, not ${m.electionId}`);
    const leaf = c.hex(e.leafHash(x.bytes));
    if (this.leaves.has(leaf)) throw new Rejection('duplicate');
    if (!c.verifySignature(x.author, x.signed, x.signature)) throw new Rejection('bad-signature');
    // Steps 5–6: the phase, the author's role as far as the envelope shows it.
    if (x.kind === e.KIND.Setup) {
      this.requirePhase(x.kind, 'awaiting-setup');
      this.setup(x);
    } else {
      this.requirePhase(x.kind, 'key-ceremony');
      if (!m.trustees.some((t) => c.hex(t.signingKey) === c.hex(x.author))) throw new Rejection('unauthorised-author', 'not a trustee');
      // Step 7: the payload; step 8: the rules of the kind.
      let p;
      try {
        p = decodePayload(x.kind, x.payload);
      } catch (ex) {
        throw new Rejection('malformed', ex.message);
      }
      this.rules(x, p);
    }
    this.leaves.add(leaf);
  }

  requirePhase(kind, phase) {
    if (this.phase === phase) return;
    if (this.phase === 'ceremony-failed') throw new Rejection('ceremony-failed', `${this.qualified.length} trustees qualified, ${this.manifest.threshold} needed`);
    throw new Rejection('wrong-phase', `kind ${kind} in phase ${this.phase}`);
  }

  /** §6.1. */
  setup(x) {
    let m;
    try {
      m = e.decodeManifest(x.payload);
    } catch (ex) {
      throw new Rejection('malformed', ex.message);
    }
    if (x.electionId !== m.electionId) throw new Rejection('wrong-election', `the manifest is for ${m.electionId}`);
    if (c.hex(x.author) !== c.hex(m.authorityKey)) throw new Rejection('unauthorised-author', "not the manifest's authority key");
    validateKeys(m);
    this.manifest = m;
    this.manifestHash = c.sha256(c.concat(c.utf8('urna-v1 manifest'), x.payload));
    this.phase = 'key-ceremony';
  }

  /** §6.2: the indices it names, its author as the trustee it claims to be, then by kind. */
  rules(x, p) {
    const m = this.manifest;
    const n = m.trustees.length;
    const [named, author] = {
      [e.KIND.DkgCommitment]: () => [[p.dealer], p.dealer],
      [e.KIND.DkgShares]: () => [[p.dealer, ...p.shares.map((s) => s.recipient)], p.dealer],
      [e.KIND.DkgComplaint]: () => [[p.complainer, p.dealer], p.complainer],
      [e.KIND.DkgConfirm]: () => [[p.trustee], p.trustee],
    }[x.kind]();
    for (const i of named) if (i === 0 || i > n) throw new Rejection('unknown-trustee', `trustee ${i} of ${n}`);
    if (c.hex(m.trustees[author - 1].signingKey) !== c.hex(x.author)) throw new Rejection('unauthorised-author', `not trustee ${author}`);
    const ctx = dkgCtx(this.manifestHash);
    switch (x.kind) {
      case e.KIND.DkgCommitment: {
        if (this.commitments.has(p.dealer)) throw new Rejection('already-posted', `trustee ${p.dealer}'s commitments`);
        if (p.commitments.length !== m.threshold) throw new Rejection('commitment-count', `${p.commitments.length}, expected ${m.threshold}`);
        const ok = p.commitments.every((C, k) => {
          try {
            return c.schnorrVerify(p.proofs[k], C, coefficientCtx(ctx, p.dealer, k));
          } catch {
            return false;
          }
        });
        if (!ok) throw new Rejection('invalid-coefficient-proof', `dealer ${p.dealer}`);
        this.commitments.set(p.dealer, p.commitments);
        return;
      }
      case e.KIND.DkgShares: {
        if (!this.commitments.has(p.dealer)) throw new Rejection('shares-before-commitments', `dealer ${p.dealer}`);
        if (this.shares.has(p.dealer)) throw new Rejection('already-posted', `trustee ${p.dealer}'s shares`);
        const expected = [...Array(n).keys()].map((i) => i + 1).filter((j) => j !== p.dealer);
        const got = p.shares.map((s) => s.recipient);
        if (got.length !== expected.length || got.some((j, k) => j !== expected[k])) throw new Rejection('share-recipients', `dealer ${p.dealer}`);
        this.shares.set(p.dealer, p.shares);
        return;
      }
      case e.KIND.DkgComplaint: {
        if (p.dealer === p.complainer) throw new Rejection('self-complaint', `trustee ${p.complainer}`);
        if (this.confirmed.has(p.complainer)) throw new Rejection('complaint-after-confirm', `trustee ${p.complainer}`);
        if (this.disqualified.has(p.dealer)) throw new Rejection('dealer-disqualified', `dealer ${p.dealer}`);
        const commitments = this.commitments.get(p.dealer);
        const share = (this.shares.get(p.dealer) ?? []).find((s) => s.recipient === p.complainer);
        if (!commitments || !share) throw new Rejection('no-share-posted', `dealer ${p.dealer} to trustee ${p.complainer}`);
        const verdict = judgeComplaint(share, p.reveal, m.trustees[p.complainer - 1].ceremonyKey, commitments, p.dealer, p.complainer, ctx);
        if (verdict === 'bad-reveal') throw new Rejection('invalid-reveal', `trustee ${p.complainer} against ${p.dealer}`);
        if (verdict === 'share-valid') throw new Rejection('false-complaint', `trustee ${p.complainer} against ${p.dealer}`);
        this.disqualified.add(p.dealer);
        this.confirmed.delete(p.dealer);
        this.settle();
        return;
      }
      default: {
        if (this.disqualified.has(p.trustee)) throw new Rejection('trustee-disqualified', `trustee ${p.trustee}`);
        if (this.confirmed.has(p.trustee)) throw new Rejection('already-posted', `trustee ${p.trustee}'s confirmation`);
        if (this.shares.size !== n) throw new Rejection('confirm-before-shares', `${this.shares.size} of ${n} trustees dealt`);
        this.confirmed.add(p.trustee);
        this.settle();
      }
    }
  }

  /** After a complaint or a confirmation: fails below `t` qualified, completes once all of them confirmed. */
  settle() {
    const m = this.manifest;
    const n = m.trustees.length;
    const qualified = [...Array(n).keys()].map((i) => i + 1).filter((i) => !this.disqualified.has(i));
    if (qualified.length < m.threshold) {
      this.qualified = qualified;
      this.phase = 'ceremony-failed';
      return;
    }
    if (!qualified.every((i) => this.confirmed.has(i))) return;
    const context = e.ceremonyContext(this.manifestHash, n, qualified.map((i) => this.commitments.get(i)));
    this.qualified = qualified;
    if (!context) {
      // The joint key is the identity: the ceremony cannot produce a key.
      this.phase = 'ceremony-failed';
      return;
    }
    this.context = context;
    this.phase = 'registration';
  }
}
