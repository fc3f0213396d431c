// The booth's light view of the board (specs/board.md §5.2, `GET /voter/<credential>`): the
// election's own entries (manifest, ceremony, opening and closing of the poll) and the entries
// naming one credential (its roll entry, its ballots), each with an RFC 9162 inclusion proof to
// the board's signed checkpoint. What it costs does not grow with the number of ballots: other
// voters' ballots are not downloaded, they are the observers' and validating nodes' to check.
//
// The same checks as `urna-client`'s `light` module, with the same stable codes: the
// checkpoint's signature, every inclusion proof, every entry's signature and author, the
// manifest and the ceremony through the booth's own rules (./ceremony.js: every coefficient
// proof and complaint judged, with the rules' rejection codes; the joint key is computed here
// from the qualified trustees' commitments), the phase the poll's entries put the log in, and
// the credential's own entries.

import * as c from './crypto.js';
import * as e from './election.js';
import { Ceremony, Rejection } from './ceremony.js';

/**
 * Why a view, a receipt or a cosigned checkpoint does not check out (`code` is stable; for
 * `refused`, `rejection` is the election rules' code, specs/election.md).
 */
export class ViewError extends Error {
  constructor(code, index, detail) {
    super(index === null || index === undefined ? `${code}: ${detail}` : `${code}: entry ${index}: ${detail}`);
    this.code = code;
    this.index = index ?? null;
    this.rejection = null;
  }
}

/** The stable codes: those of `ViewError::code` in urna-client, then the booth's own. */
export const CODES = [
  'malformed', 'wrong-size', 'past-checkpoint', 'out-of-order', 'inclusion', 'undecodable', 'not-for-every-voter', 'no-setup',
  'other-board', 'other-election', 'refused', 'unauthorised', 'wrong-phase', 'other-credential',
  // The booth's: the checkpoint, the witness quorum, the receipt after casting.
  'checkpoint', 'no-quorum', 'not-extending', 'receipt',
  // The public pages' (./public.js): a voter view that leaves out the ballot a receipt proves.
  'incomplete',
];

const EVERY_VOTER = new Set([e.KIND.Setup, e.KIND.DkgCommitment, e.KIND.DkgShares, e.KIND.DkgComplaint, e.KIND.DkgConfirm, e.KIND.OpenVoting, e.KIND.CloseVoting]);
/** A proof has at most one hash per level of a 64-level tree. */
const MAX_PROOF = 64;
/** The most entries a view may carry in each list (the board serves at most 64 of a credential; the ceremony is bounded by 64 trustees). */
const MAX_LIST = 4096;

const isIndex = (x) => Number.isSafeInteger(x) && x >= 0;
const same = (a, b) => c.hex(a) === c.hex(b);

function unhexStrict(s, what) {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) throw new ViewError('malformed', null, `${what} is not lowercase hex`);
  return c.unhex(s);
}

/** Checks one list's inclusion proofs and decodes its entries, indices strictly increasing and below the checkpoint's size. */
function included(list, cp, name) {
  if (!Array.isArray(list) || list.length > MAX_LIST) throw new ViewError('malformed', null, `"${name}" is not a list of entries`);
  let after = -1;
  return list.map((w) => {
    if (!w || typeof w !== 'object' || !isIndex(w.index) || !Array.isArray(w.proof)) throw new ViewError('malformed', null, `an entry of "${name}" is not {index, entry, proof}`);
    const { index } = w;
    if (index >= cp.size) throw new ViewError('past-checkpoint', index, `not below the checkpoint's size ${cp.size}`);
    if (index <= after) throw new ViewError('out-of-order', index, 'out of log order in the view');
    after = index;
    const raw = unhexStrict(w.entry, 'an entry');
    if (w.proof.length > MAX_PROOF) throw new ViewError('inclusion', index, 'the proof is too long');
    const proof = w.proof.map((h) => {
      const b = unhexStrict(h, 'a proof hash');
      if (b.length !== 32) throw new ViewError('malformed', index, 'a proof hash is not 32 bytes');
      return b;
    });
    if (!e.verifyInclusion(e.leafHash(raw), index, cp.size, proof, cp.root)) throw new ViewError('inclusion', index, 'the inclusion proof does not verify against the signed root');
    let entry;
    try {
      entry = e.parseEntry(raw);
    } catch (ex) {
      throw new ViewError('undecodable', index, ex.message);
    }
    return { index, entry };
  });
}

function signedBy(index, x, key, expected) {
  if (!key || !same(x.author, key) || !c.verifySignature(x.author, x.signed, x.signature)) {
    throw new ViewError('unauthorised', index, `not signed by ${expected}`);
  }
}

/** The credentials a roll entry names: hex → { weight, style }. */
function rollOf(index, payload) {
  try {
    const r = new c.Reader(payload);
    r.u32();
    const out = new Map();
    for (let n = r.u32(), k = 0; k < n; k++) {
      const cred = c.hex(r.take(32));
      out.set(cred, { weight: r.u32(), style: r.u16() });
    }
    r.finish();
    return out;
  } catch (ex) {
    throw new ViewError('undecodable', index, `not a voter roll: ${ex.message}`);
  }
}

/**
 * Checks a voter's view (the JSON of `GET /voter/<credential>`, parsed) of the board of `origin`
 * signed by `key`, for `credential` (32 bytes; null to read only the election's entries, before
 * the voter's credential is known: the credential's list is then not looked at). Returns
 * `{ cp, note, setup, state, voter, ballots, omitted }` (`setup` the Setup entry's bytes): `state` is the booth's election state
 * (manifest, phase, context, roll) from the election's entries and the credential's roll entry
 * only; `voter` `{ weight, style, index }` or null; `ballots` the credential's, in log order.
 * Throws a ViewError.
 */
export function checkView(wire, origin, key, credential) {
  if (!wire || typeof wire !== 'object' || typeof wire.checkpoint !== 'string' || !isIndex(wire.size) || !isIndex(wire.omitted ?? 0)) {
    throw new ViewError('malformed', null, 'the view is not the JSON of specs/board.md §5.2');
  }
  let cp;
  try {
    cp = e.openCheckpoint(wire.checkpoint, origin, key);
  } catch (ex) {
    throw new ViewError('checkpoint', null, ex.message);
  }
  if (wire.size !== cp.size) throw new ViewError('wrong-size', null, `the view claims ${wire.size} entries but its checkpoint covers ${cp.size}`);
  const election = included(wire.election, cp, 'election');
  const mine = credential ? included(wire.credential, cp, 'credential') : [];
  const stray = [...election, ...mine].find((x) => x.entry.electionId !== origin);
  if (stray) throw new ViewError('other-election', stray.index, 'for another election');

  // The manifest and the ceremony through the booth's own rules (./ceremony.js), in log
  // order; where the poll opened and closed.
  const rules = new Ceremony();
  let setup = null;
  let phase = 'awaiting-setup';
  let opened = null;
  let closed = null;
  const ceremony = [];
  for (const { index, entry: x } of election) {
    if (!EVERY_VOTER.has(x.kind)) throw new ViewError('not-for-every-voter', index, `kind ${x.kind} is not one every voter is given`);
    if (phase === 'awaiting-setup' && x.kind !== e.KIND.Setup) throw new ViewError('no-setup', index, 'the view has no Setup entry first');
    if (x.kind === e.KIND.OpenVoting || x.kind === e.KIND.CloseVoting) {
      signedBy(index, x, rules.manifest.authorityKey, 'the election authority');
      const [from, to] = x.kind === e.KIND.OpenVoting ? ['registration', 'voting'] : ['voting', 'tallying'];
      if (phase !== from) throw new ViewError('wrong-phase', index, `in phase ${phase}`);
      phase = to;
      if (x.kind === e.KIND.OpenVoting) opened = index;
      else closed = index;
      ceremony.push(x.bytes);
      continue;
    }
    // The rules refuse a ceremony entry once the ceremony is over; they do not know of the
    // poll's entries, which this view keeps out of them.
    if (phase === 'voting' || phase === 'tallying') throw new ViewError('wrong-phase', index, `a ceremony entry in phase ${phase}`);
    try {
      rules.apply(x);
    } catch (ex) {
      if (!(ex instanceof Rejection)) throw ex;
      const err = new ViewError('refused', index, `refused by the election rules: ${ex.message}`);
      err.rejection = ex.code;
      throw err;
    }
    phase = rules.phase;
    if (x.kind === e.KIND.Setup) setup = x.bytes;
    ceremony.push(x.bytes);
  }
  const m = rules.manifest;
  if (m === null) throw new ViewError('no-setup', null, 'the view has no Setup entry');
  if (m.electionId !== origin) throw new ViewError('other-board', null, 'the manifest names another election id');
  if (!same(m.boardKey, key)) throw new ViewError('other-board', null, 'the manifest names another board key');

  let voter = null;
  const ballots = [];
  let rollEntry = null;
  for (const { index, entry: x } of mine) {
    if (x.kind === e.KIND.VoterRoll && voter === null && ballots.length === 0) {
      signedBy(index, x, m.registrarKey, 'the registrar');
      if (opened !== null && index > opened) throw new ViewError('wrong-phase', index, 'a roll entry after the poll opened');
      const v = rollOf(index, x.payload).get(c.hex(credential));
      if (!v) throw new ViewError('other-credential', index, 'the roll entry does not name this credential');
      voter = { ...v, index };
      rollEntry = x.bytes;
    } else if ((x.kind === e.KIND.Ballot || x.kind === e.KIND.ChallengedBallot) && voter !== null) {
      if (!same(x.author, credential)) throw new ViewError('other-credential', index, 'a ballot of another credential');
      signedBy(index, x, credential, 'this credential');
      const inPoll = opened !== null && index > opened && !(closed !== null && index > closed);
      if (!inPoll) throw new ViewError('wrong-phase', index, 'a ballot outside the poll');
      ballots.push({ index, kind: x.kind, entry: x.bytes, leaf: e.leafHash(x.bytes) });
    } else {
      throw new ViewError('other-credential', index, `kind ${x.kind} does not name this credential here`);
    }
  }
  // The booth's state: the rules' view of the election's entries (and the one roll entry).
  let state;
  try {
    state = e.electionState(rollEntry ? [...ceremony, rollEntry] : ceremony);
  } catch (ex) {
    throw new ViewError('refused', null, ex.message);
  }
  state.phase = phase;
  state.context = rules.context;
  return { cp, note: wire.checkpoint, setup, state, voter, ballots, omitted: wire.omitted ?? 0, opened, closed };
}

/**
 * What the rules made of the credential's entry at `index` (specs/election.md): a
 * `ChallengedBallot` is never counted, the last `Ballot` is counted, an earlier one superseded by
 * the next. `{ status, index, by? }`, or null if the view holds no ballot of the credential there.
 */
export function standing(view, index) {
  const b = view.ballots.find((x) => x.index === index);
  if (!b) return null;
  if (b.kind === e.KIND.ChallengedBallot) return { status: 'challenged', index };
  const later = view.ballots.find((x) => x.index > index && x.kind === e.KIND.Ballot);
  return later ? { status: 'superseded', index, by: later.index } : { status: 'counted', index };
}

const node = (l, r) => c.sha256(c.concat(Uint8Array.of(1), l, r));

/** RFC 9162 §2.1.4.2: the tree of `oldSize` leaves with `oldRoot` is a prefix of the one of `newSize` with `newRoot`. */
export function verifyConsistency(oldSize, newSize, proof, oldRoot, newRoot) {
  if (!isIndex(oldSize) || !isIndex(newSize) || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && same(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0;
  if (proof.length > 2 * MAX_PROOF) return false;
  const path = [];
  // An old tree that is a power of two is a subtree of the new one: its root starts the path.
  if ((BigInt(oldSize) & (BigInt(oldSize) - 1n)) === 0n) path.push(oldRoot);
  path.push(...proof);
  if (path.length === 0) return false;
  let fn = BigInt(oldSize - 1);
  let sn = BigInt(newSize - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const p of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = node(p, fr);
      sr = node(p, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = node(sr, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && same(fr, oldRoot) && same(sr, newRoot);
}

/** The proof of the JSON `GET /consistency/<old>/<new>` answers, checked for shape. */
export function parseConsistency(json, oldSize, newSize) {
  if (!json || json.old !== oldSize || json.new !== newSize || !Array.isArray(json.proof) || json.proof.length > 2 * MAX_PROOF) {
    throw new ViewError('malformed', null, 'the consistency proof is not the JSON asked for');
  }
  return json.proof.map((h) => {
    const b = unhexStrict(h, 'a proof hash');
    if (b.length !== 32) throw new ViewError('malformed', null, 'a proof hash is not 32 bytes');
    return b;
  });
}

/** Throws `not-extending` unless the checkpoint `next` extends `prev` (proof: the consistency proof between them). */
export function checkExtends(prev, next, proof) {
  if (next.size < prev.size || !verifyConsistency(prev.size, next.size, proof, prev.root, next.root)) {
    throw new ViewError('not-extending', null, `the checkpoint of size ${next.size} does not extend the checked one of size ${prev.size}`);
  }
}

/**
 * Checks the board's receipt for the entry this booth cast (specs/board.md §3): its checkpoint
 * signed by the board, the entry's inclusion under it, and that checkpoint extending the view's
 * (`proof`: the consistency proof from the view's size to the receipt's). Returns `{ index, cp }`.
 */
export function checkReceipt(text, entry, view, origin, key, proof) {
  let receipt;
  let cp;
  try {
    receipt = e.parseReceipt(text);
    cp = e.openCheckpoint(receipt.checkpoint, origin, key);
  } catch (ex) {
    throw new ViewError('receipt', null, `the receipt does not open under the board key: ${ex.message}`);
  }
  if (!e.verifyInclusion(e.leafHash(entry), receipt.index, cp.size, receipt.proof, cp.root)) {
    throw new ViewError('receipt', receipt.index, 'the receipt does not prove the ballot is in the log');
  }
  checkExtends(view.cp, cp, proof);
  return { index: receipt.index, cp };
}

/**
 * The board's cosigned checkpoint (`GET /checkpoint/cosigned`): signed by the board and carrying
 * the cosignatures of the manifest's witness quorum (specs/board.md §6.1). Returns the opened
 * checkpoint and the cosigners' names.
 */
export function checkCosigned(note, manifest, key) {
  let cp;
  let names;
  try {
    cp = e.openCheckpoint(note, manifest.electionId, key);
    names = e.cosigners(cp, manifest.witnesses);
  } catch (ex) {
    throw new ViewError('checkpoint', null, ex.message);
  }
  if (names.length < manifest.witnessQuorum) throw new ViewError('no-quorum', null, `cosigned by ${names.length} of the ${manifest.witnessQuorum} witnesses the manifest requires`);
  return { cp, names };
}
