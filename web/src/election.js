// The election layer in the browser, from specs/election.md and specs/board.md: entries and
// their signatures, the manifest's canonical form, the election context the key ceremony fixed,
// ballots, tracking codes, and checkpoints (signed notes, witness cosignatures, Merkle roots).

import * as c from './crypto.js';
import * as rp from './range.js';

export const KIND = {
  Setup: 1, DkgCommitment: 2, DkgShares: 3, DkgComplaint: 4, DkgConfirm: 5, VoterRoll: 6,
  OpenVoting: 7, Ballot: 8, ChallengedBallot: 9, CloseVoting: 10, DecryptionShare: 11, Result: 12,
  MixRows: 13, MixProof: 14, MixDecryption: 15, RankedCount: 16,
};

const MAGIC = c.utf8('URNA');
const SLOT_CONTEST = 0xffff;
const SLOT_OPTIONS_RANGE = 0xfffe;
const SLOT_RANKED = 0xfffd;

const str8 = (s) => {
  const b = c.utf8(s);
  if (b.length > 255) throw new Error('string too long');
  return c.concat(c.u8(b.length), b);
};
const readStr8 = (r) => new TextDecoder('utf-8', { fatal: true }).decode(r.take(r.u8()));
const readStr16 = (r) => new TextDecoder('utf-8', { fatal: true }).decode(r.take(r.u16()));

// ---- entries (§3) ----

export function parseEntry(bytes) {
  const r = new c.Reader(bytes);
  if (c.hex(r.take(4)) !== c.hex(MAGIC) || r.u8() !== 1) throw new Error('not an urna v1 entry');
  const electionId = readStr8(r);
  const kind = r.u8();
  const author = r.take(32);
  const payload = r.take(r.u16());
  const signedLength = r.at;
  const signature = r.take(64);
  r.finish();
  return { bytes, electionId, kind, author, payload, signed: bytes.subarray(0, signedLength), signature };
}

export function signEntry(electionId, kind, payload, seed) {
  const author = c.publicKeyOf(seed);
  const body = c.concat(MAGIC, c.u8(1), str8(electionId), c.u8(kind), author, c.u16(payload.length), payload);
  if (body.length + 64 > 65535) throw new Error('oversized entry');
  return c.concat(body, c.sign(seed, body));
}

export const leafHash = (bytes) => c.sha256(c.concat(Uint8Array.of(0), bytes));

const BASE32 = '0123456789abcdefghjkmnpqrstvwxyz';

/** Crockford base32 of the leaf hash, 52 characters in groups of four (§8). */
export function trackingCode(leaf) {
  let bits = 0;
  let n = 0;
  let s = '';
  for (const b of leaf) {
    bits = (bits << 8) | b;
    n += 8;
    while (n >= 5) {
      n -= 5;
      s += BASE32[(bits >> n) & 31];
    }
    bits &= (1 << n) - 1;
  }
  if (n > 0) s += BASE32[(bits << (5 - n)) & 31];
  return s.match(/.{1,4}/g).join('-');
}

// ---- the manifest (§2) ----

const KINDS = { 1: 'plurality', 2: 'approval', 3: 'score', 4: 'referendum', 5: 'ranked' };
const METHODS = { 1: 'irv', 2: 'stv', 3: 'schulze' };

/** `Translations` (§2.4): `[{ lang, text }]` in tag order. */
function readTranslations(r) {
  const out = [];
  for (let n = r.u8(), i = 0; i < n; i++) out.push({ lang: readStr8(r), text: readStr16(r) });
  return out;
}

/**
 * The text for a reader of `lang` (§2.4): the translation tagged exactly `lang` (ASCII case
 * ignored), else the first, in tag order, with its primary language subtag, else the default.
 */
export function pickText(text, translations, lang) {
  const primary = (tag) => tag.split('-')[0].toLowerCase();
  const list = translations || [];
  const exact = list.find((x) => x.lang.toLowerCase() === lang.toLowerCase());
  const near = list.find((x) => primary(lang) !== '' && primary(x.lang) === primary(lang));
  return (exact ?? near)?.text ?? text;
}

/** A style's name for `lang`: its title (§2.4), or its id when it has none. */
export const styleName = (style, lang) => (style.title ? pickText(style.title, style.titles, lang) : style.id);

export function decodeManifest(bytes) {
  const r = new c.Reader(bytes);
  if (new TextDecoder().decode(r.take(8)) !== 'urna-m01') throw new Error('not an urna v1 manifest');
  const m = { electionId: readStr8(r), title: readStr16(r), titles: readTranslations(r) };
  m.authorityKey = r.take(32);
  m.registrarKey = r.take(32);
  m.boardKey = r.take(32);
  m.trustees = [];
  for (let n = r.u16(), i = 0; i < n; i++) {
    m.trustees.push({ name: readStr8(r), signingKey: r.take(32), ceremonyKey: r.point('ceremony_key') });
  }
  m.threshold = r.u16();
  m.revote = r.u8();
  m.contests = [];
  for (let n = r.u16(), i = 0; i < n; i++) {
    const contest = { id: readStr8(r), title: readStr16(r), titles: readTranslations(r) };
    const tag = r.u8();
    contest.kind = KINDS[tag];
    if (tag === 1) contest.exactly = r.u8() === 1;
    else if (tag === 2) [contest.min, contest.max] = [r.u16(), r.u16()];
    else if (tag === 3) [contest.max, contest.budget] = [r.u16(), r.u32()];
    else if (tag === 4) contest.blank = r.u8() === 1;
    else if (tag === 5) {
      const method = METHODS[r.u8()];
      if (!method) throw new Error('unknown count method');
      contest.ranked = { method, seats: r.u16(), ranks: r.u8(), writeIns: r.u8(), writeInLen: r.u8() };
    } else throw new Error('unknown contest kind');
    contest.options = [];
    for (let k = r.u8(), j = 0; j < k; j++) contest.options.push({ id: readStr8(r), name: readStr16(r), names: readTranslations(r) });
    m.contests.push(contest);
  }
  m.styles = [];
  for (let n = r.u16(), i = 0; i < n; i++) {
    const id = readStr8(r);
    const title = readStr16(r) || null;
    const titles = readTranslations(r);
    const contests = [];
    for (let k = r.u16(), j = 0; j < k; j++) contests.push(r.u16());
    m.styles.push({ id, title, titles, contests });
  }
  m.opens = readStr8(r);
  m.closes = readStr8(r);
  m.witnesses = [];
  for (let n = r.u8(), i = 0; i < n; i++) {
    const w = { name: readStr8(r), key: r.take(32), url: readStr8(r) };
    const role = r.u8();
    if (role !== 1 && role !== 2) throw new Error(`witness role tag ${role} is unknown`);
    w.role = role === 2 ? 'node' : 'witness';
    m.witnesses.push(w);
  }
  m.witnessQuorum = r.u16();
  // The mixers are named exactly when some contest is ranked (§2.3).
  m.mixers = [];
  if (m.contests.some((x) => x.ranked)) {
    for (let n = r.u8(), i = 0; i < n; i++) m.mixers.push({ name: readStr8(r), key: r.take(32) });
  }
  r.finish();
  return m;
}

/** `(per_option_max, total_min, total_max)` of a contest (§2.2). */
export function rule(contest) {
  const n = contest.options.length;
  switch (contest.kind) {
    case 'plurality':
      return { p: 1, min: contest.exactly ? 1 : 0, max: 1 };
    case 'approval':
      return { p: 1, min: contest.min, max: contest.max };
    case 'score':
      return { p: contest.max, min: 0, max: contest.budget || contest.max * n };
    case 'ranked':
      return { p: 0, min: 0, max: 0 };
    default:
      return { p: 1, min: 1, max: 1 };
  }
}

// ---- the election as the ledger defines it ----

/**
 * The election context once the ceremony completed (§6.2, §6.4): over the qualified dealers'
 * commitments `dealt`, `K = Σ C_{i,0}`, `VK_j = Σ_i Σ_k j^k·C_{i,k}` for `j = 1..n`, and
 * `E`; null if `K` is the identity (the ceremony then cannot produce a key).
 */
export function ceremonyContext(manifestHash, n, dealt) {
  let K = c.ZERO;
  for (const cs of dealt) K = K.add(cs[0]);
  if (K.equals(c.ZERO)) return null;
  const vks = [];
  for (let j = 1; j <= n; j++) {
    let vk = c.ZERO;
    for (const cs of dealt) {
      let power = 1n;
      for (const C of cs) {
        vk = vk.add(c.mulPublic(C, power));
        power = c.mod(power * BigInt(j));
      }
    }
    vks.push(vk);
  }
  const E = c.sha256(c.concat(c.utf8('urna-v1 election-context'), manifestHash, K.toBytes(), c.u16(n), ...vks.map((v) => v.toBytes())));
  return { K, vks, E };
}

/**
 * Derives what the booth needs from the ledger's entries: the manifest and its hash, the phase,
 * the joint key and verification keys of the qualified trustees, the context hash E, the roll
 * and the ballots. The board and the witnesses have checked every proof; the booth recomputes
 * the key from the dealers' commitments itself, so that it encrypts only to the key the
 * ceremony produced.
 */
export function electionState(entryBytes) {
  const entries = entryBytes.map(parseEntry);
  if (entries.length === 0 || entries[0].kind !== KIND.Setup) throw new Error('the ledger has no Setup entry');
  const m = decodeManifest(entries[0].payload);
  const manifestHash = c.sha256(c.concat(c.utf8('urna-v1 manifest'), entries[0].payload));
  const commitments = new Map();
  const disqualified = new Set();
  const confirmed = new Set();
  const roll = new Map();
  const ballots = [];
  const countBytes = new Map();
  let result = false;
  let phase = 'key-ceremony';
  entries.forEach((e, index) => {
    const r = new c.Reader(e.payload);
    switch (e.kind) {
      case KIND.DkgCommitment: {
        const dealer = r.u16();
        const cs = [];
        for (let n = r.u16(), k = 0; k < n; k++) cs.push(r.point('C'));
        commitments.set(dealer, cs);
        break;
      }
      case KIND.DkgComplaint: {
        r.u16();
        disqualified.add(r.u16());
        break;
      }
      case KIND.DkgConfirm:
        confirmed.add(r.u16());
        break;
      case KIND.VoterRoll: {
        r.u32();
        for (let n = r.u32(), k = 0; k < n; k++) {
          const cred = c.hex(r.take(32));
          roll.set(cred, { weight: r.u32(), style: r.u16() });
        }
        break;
      }
      case KIND.OpenVoting:
        phase = 'voting';
        break;
      case KIND.CloseVoting:
        phase = 'tallying';
        break;
      case KIND.Result:
        result = true;
        break;
      case KIND.RankedCount: {
        const contest = r.u16();
        r.u32();
        const bytes = r.take(r.u16());
        countBytes.set(contest, c.concat(countBytes.get(contest) ?? new Uint8Array(0), bytes));
        break;
      }
      case KIND.Ballot:
      case KIND.ChallengedBallot:
        ballots.push({ index, kind: e.kind, credential: c.hex(e.author), leaf: leafHash(e.bytes) });
        break;
      default:
    }
  });
  const n = m.trustees.length;
  const qualified = [...Array(n).keys()].map((i) => i + 1).filter((i) => !disqualified.has(i));
  let context = null;
  if (qualified.every((i) => confirmed.has(i) && commitments.has(i)) && qualified.length >= m.threshold) {
    context = ceremonyContext(manifestHash, n, qualified.map((i) => commitments.get(i)));
  }
  // The ceremony done and voting not yet open: the registrar's turn.
  if (phase === 'key-ceremony' && context) phase = 'registration';
  // Finished once the homomorphic result (if any contest has one) and every ranked contest's
  // count are on the ledger (§6.6, §6.7); the rules admitted each count's bytes in order.
  const rankedCounts = new Map();
  for (const [ci, bytes] of countBytes) {
    const count = decodeRankedCount(bytes);
    if (count) rankedCounts.set(ci, count);
  }
  const ranked = m.contests.map((x, ci) => ci).filter((ci) => m.contests[ci].ranked);
  const tallied = result || m.contests.every((x) => x.ranked);
  if (phase === 'tallying' && tallied && ranked.every((ci) => rankedCounts.has(ci))) phase = 'finished';
  return { manifest: m, manifestHash, phase, context, roll, ballots, rankedCounts, size: entries.length };
}

// ---- ballots (§5) ----

const proofCtx = (E, cred, contest, slot) => c.concat(E, cred, c.u16(contest), c.u16(slot));

/**
 * Checks choices against a style: `choices[contestId]` is an array of values per option.
 * Throws an Error whose message names the problem.
 */
export function checkChoices(m, styleIndex, choices, only = null) {
  for (const id of Object.keys(choices)) {
    const ci = m.contests.findIndex((x) => x.id === id);
    if (ci < 0 || !m.styles[styleIndex].contests.includes(ci)) throw new Error(`${id} is not on this ballot`);
  }
  for (const ci of only ?? m.styles[styleIndex].contests) {
    const contest = m.contests[ci];
    if (contest.ranked) {
      rankedPlaintext(contest, choices[contest.id] ?? []);
      continue;
    }
    const values = choices[contest.id] ?? contest.options.map(() => 0);
    const { p, min, max } = rule(contest);
    if (values.length !== contest.options.length) throw new Error(`${contest.id}: wrong number of options`);
    values.forEach((v, o) => {
      if (!Number.isInteger(v) || v < 0 || v > p) throw new Error(`${contest.id}: ${contest.options[o].id} must be between 0 and ${p}`);
    });
    const total = values.reduce((a, b) => a + b, 0);
    if (total < min) throw new Error(`${contest.id}: at least ${min}`);
    if (total > max) throw new Error(`${contest.id}: at most ${max}`);
  }
}

/** Every problem with the choices, one message per contest (empty when they are valid). */
export function problems(m, styleIndex, choices) {
  const out = [];
  for (const ci of m.styles[styleIndex].contests) {
    const id = m.contests[ci].id;
    const blank = m.contests[ci].ranked ? [] : m.contests[ci].options.map(() => 0);
    try {
      checkChoices(m, styleIndex, { [id]: choices[id] ?? blank }, [ci]);
    } catch (err) {
      out.push(err.message);
    }
  }
  return out;
}

/** Which contest-total proof a contest needs (§5.3): none, exact, bounded or range. */
export function totalCheck(contest) {
  const { p, min, max } = rule(contest);
  if (min === 0 && max >= p * contest.options.length) return 'none';
  if (min === max) return 'exact';
  if (max - min <= 16) return 'bounded';
  return 'range';
}

/**
 * Encrypts and proves a ballot for the credential `cred` (32-byte public key). Returns the
 * payload bytes and the openings (value and nonce per option) for a Benaloh challenge.
 */
export function encryptBallot(state, cred, styleIndex, choices) {
  const { manifest: m, context } = state;
  if (!context) throw new Error('the key ceremony has not completed');
  checkChoices(m, styleIndex, choices);
  const { K, E } = context;
  const parts = [c.u16(styleIndex), c.u16(m.styles[styleIndex].contests.length)];
  const openings = [];
  for (const ci of m.styles[styleIndex].contests) {
    const contest = m.contests[ci];
    if (contest.ranked) {
      const plain = rankedPlaintext(contest, choices[contest.id] ?? []);
      const payloads = rankedPayloads(plain);
      const nonces = payloads.map(() => c.randomScalar());
      const cts = payloads.map((pl, k) => c.encryptPoint(K, c.embed(pl), nonces[k]));
      const proof = c.knowledgeProve(K, cts, nonces, proofCtx(E, cred, ci, SLOT_RANKED));
      parts.push(c.u8(cts.length), ...cts.map(c.encodeCiphertext), c.u8(3), c.encodeKnowledge(proof), c.u8(0));
      openings.push(payloads.map((pl, k) => ({ value: 0, nonce: nonces[k], payload: pl })));
      continue;
    }
    const values = choices[contest.id] ?? contest.options.map(() => 0);
    const nonces = values.map(() => c.randomScalar());
    const cts = values.map((v, o) => c.encrypt(K, v, nonces[o]));
    const { p, min, max } = rule(contest);
    parts.push(c.u8(cts.length), ...cts.map(c.encodeCiphertext));
    if (p === 1) {
      parts.push(c.u8(1));
      values.forEach((v, o) => {
        parts.push(c.encodeDisjunctive(c.disjunctiveProve(K, cts[o], v, nonces[o], 1, proofCtx(E, cred, ci, o))));
      });
    } else {
      const proof = rp.rangeProve(K, cts, values, nonces, values.map(() => p), proofCtx(E, cred, ci, SLOT_OPTIONS_RANGE));
      parts.push(c.u8(2), rp.encodeRange(proof));
    }
    const total = values.reduce((a, b) => a + b, 0);
    const A = cts.reduce((a, ct) => a.add(ct.alpha), c.ZERO);
    const B = cts.reduce((a, ct) => a.add(ct.beta), c.ZERO).subtract(c.mulG(BigInt(min)));
    const rSum = c.mod(nonces.reduce((a, x) => a + x, 0n));
    const ctx = proofCtx(E, cred, ci, SLOT_CONTEST);
    switch (totalCheck(contest)) {
      case 'none':
        parts.push(c.u8(0));
        break;
      case 'exact':
        parts.push(c.u8(1), c.encodeCp(c.cpProve(rSum, K, A, B, ctx)));
        break;
      case 'bounded':
        parts.push(c.u8(2), c.encodeDisjunctive(c.disjunctiveProve(K, { alpha: A, beta: B }, total - min, rSum, max - min, ctx)));
        break;
      default:
        parts.push(c.u8(3), rp.encodeRange(rp.rangeProve(K, [{ alpha: A, beta: B }], [total - min], [rSum], [max - min], ctx)));
    }
    openings.push(values.map((v, o) => ({ value: v, nonce: nonces[o] })));
  }
  return { payload: c.concat(...parts), openings };
}

/** The `ChallengedBallot` payload: the ballot, then every option's value and nonce (§4). */
export function challengedPayload(ballot, openings) {
  const parts = [ballot];
  for (const contest of openings) for (const o of contest) parts.push(c.u16(o.value), c.encodeScalar(o.nonce));
  return c.concat(...parts);
}

/** Reads a ballot payload (§5.1) into its contests' ciphertexts and proofs. */
export function decodeBallot(bytes) {
  const r = new c.Reader(bytes);
  const style = r.u16();
  const contests = [];
  for (let k = r.u16(), i = 0; i < k; i++) {
    const n = r.u8();
    const cts = [];
    for (let j = 0; j < n; j++) cts.push(c.decodeCiphertext(r));
    const optionKind = r.u8();
    const optionProofs = [];
    let optionRange = null;
    if (optionKind === 1) for (let j = 0; j < n; j++) optionProofs.push(c.decodeDisjunctive(r));
    else if (optionKind === 2) optionRange = rp.decodeRange(r);
    else if (optionKind === 3) optionRange = c.decodeKnowledge(r);
    else throw new Error('unknown option proof kind');
    const contestKind = r.u8();
    let contestProof = null;
    if (contestKind === 1) contestProof = c.decodeCp(r);
    else if (contestKind === 2) contestProof = c.decodeDisjunctive(r);
    else if (contestKind === 3) contestProof = rp.decodeRange(r);
    else if (contestKind !== 0) throw new Error('unknown contest proof kind');
    contests.push({ cts, optionKind, optionProofs, optionRange, contestKind, contestProof });
  }
  return { style, contests, rest: r };
}

/** Verifies a ballot's proofs for its credential, exactly as §5.3 requires. */
export function verifyBallot(state, cred, bytes) {
  const { manifest: m, context } = state;
  const b = decodeBallot(bytes);
  b.rest.finish();
  const { K, E } = context;
  const style = m.styles[b.style];
  if (!style || style.contests.length !== b.contests.length) return false;
  return b.contests.every((cb, k) => {
    const ci = style.contests[k];
    const contest = m.contests[ci];
    if (contest.ranked) {
      return cb.cts.length === rankedWidth(contest.ranked) && cb.optionKind === 3 && cb.contestKind === 0
        && c.knowledgeVerify(cb.optionRange, K, cb.cts, proofCtx(E, cred, ci, SLOT_RANKED));
    }
    const { p, min, max } = rule(contest);
    const n = contest.options.length;
    if (cb.cts.length !== n) return false;
    const optionsOk = p === 1
      ? cb.optionKind === 1 && cb.cts.every((ct, o) => c.disjunctiveVerify(cb.optionProofs[o], K, ct, 1, proofCtx(E, cred, ci, o)))
      : cb.optionKind === 2 && rp.rangeVerify(cb.optionRange, K, cb.cts, cb.cts.map(() => p), proofCtx(E, cred, ci, SLOT_OPTIONS_RANGE));
    const A = cb.cts.reduce((a, ct) => a.add(ct.alpha), c.ZERO);
    const B = cb.cts.reduce((a, ct) => a.add(ct.beta), c.ZERO).subtract(c.mulG(BigInt(min)));
    const ctx = proofCtx(E, cred, ci, SLOT_CONTEST);
    const total = { alpha: A, beta: B };
    switch (totalCheck(contest)) {
      case 'none':
        return optionsOk && cb.contestKind === 0;
      case 'exact':
        return optionsOk && cb.contestKind === 1 && c.cpVerify(cb.contestProof, K, A, B, ctx);
      case 'bounded':
        return optionsOk && cb.contestKind === 2 && c.disjunctiveVerify(cb.contestProof, K, total, max - min, ctx);
      default:
        return optionsOk && cb.contestKind === 3 && rp.rangeVerify(cb.contestProof, K, [total], [max - min], ctx);
    }
  });
}

/** Checks a Benaloh opening here: each ciphertext is Enc(v; r) under K (§5.4). */
export function checkOpening(K, ballot, openings) {
  const b = decodeBallot(ballot);
  if (b.contests.length !== openings.length) return false;
  return b.contests.every((cb, k) => cb.cts.length === openings[k].length && cb.cts.every((ct, o) => {
    const { value, nonce, payload } = openings[k][o];
    // A ranked row encrypts a point: its opening claims value 0, and here it must also
    // re-encrypt to exactly the ranking shown (its payload).
    if (cb.optionKind === 3) {
      if (value !== 0 || !payload) return false;
      const again = c.encryptPoint(K, c.embed(payload), nonce);
      return ct.alpha.equals(again.alpha) && ct.beta.equals(again.beta);
    }
    const again = c.encrypt(K, value, nonce);
    return ct.alpha.equals(again.alpha) && ct.beta.equals(again.beta);
  }));
}

// ---- ranked contests (§5.5, §7.3) ----

/** Ciphertexts in a ranked row: one per 30 bytes of plaintext. */
export const rankedWidth = (r) => Math.ceil((r.ranks + r.writeIns * r.writeInLen) / c.EMBED_BYTES);

/** Why a ranking cannot be a ballot: `code` names the rule, `vars` what the message needs. */
export class RankingError extends Error {
  constructor(code, vars = {}) {
    super(code);
    this.code = code;
    this.vars = vars;
  }
}

/**
 * The plaintext of a ranking (§5.5): one byte per rank (0 none, option k as k + 1, write-in
 * slot s as options + s + 1), then each write-in slot's UTF-8 text padded with zeros.
 * `prefs` lists `{ option: index }` and `{ writeIn: text }` from first to last.
 */
export function rankedPlaintext(contest, prefs) {
  const r = contest.ranked;
  const n = contest.options.length;
  if (prefs.length > r.ranks) throw new RankingError('ranked-too-many', { max: r.ranks });
  const bytes = new Uint8Array(r.ranks + r.writeIns * r.writeInLen);
  const seen = new Set();
  let slot = 0;
  prefs.forEach((p, k) => {
    let code;
    if (p.writeIn !== undefined) {
      const text = p.writeIn;
      if (slot >= r.writeIns) throw new RankingError(r.writeIns === 0 ? 'write-in-none' : 'write-in-too-many', { max: r.writeIns });
      if (text === '' || text.includes('\0') || text.trim() !== text) throw new RankingError('write-in-text');
      const t = c.utf8(text);
      if (t.length > r.writeInLen) throw new RankingError('write-in-too-long', { name: text, max: r.writeInLen });
      if (seen.has(`w:${text}`)) throw new RankingError('ranked-twice', { name: text });
      seen.add(`w:${text}`);
      bytes.set(t, r.ranks + slot * r.writeInLen);
      slot += 1;
      code = n + slot;
    } else {
      if (!Number.isInteger(p.option) || p.option < 0 || p.option >= n) throw new RankingError('ranked-unknown');
      if (seen.has(p.option)) throw new RankingError('ranked-twice', { option: p.option });
      seen.add(p.option);
      code = p.option + 1;
    }
    bytes[k] = code;
  });
  return bytes;
}

/** The plaintext zero-padded and cut into 30-byte payloads. */
export function rankedPayloads(bytes) {
  const w = Math.max(1, Math.ceil(bytes.length / c.EMBED_BYTES));
  const out = [];
  for (let k = 0; k < w; k++) {
    const p = new Uint8Array(c.EMBED_BYTES);
    p.set(bytes.subarray(k * c.EMBED_BYTES, (k + 1) * c.EMBED_BYTES));
    out.push(p);
  }
  return out;
}

const INVALID = { 1: 'not-embedded', 2: 'padding', 3: 'gap', 4: 'out-of-range', 5: 'repeated', 6: 'write-in-format', 7: 'write-in-empty', 8: 'write-in-unranked' };

/**
 * A ranked contest's published count from its canonical bytes (§7.3), or null while they are
 * incomplete. Candidates are `{ option: index }` or `{ writeIn: text }`; for IRV and STV,
 * `rounds[i].tallies` is every candidate's value after stage i (what a reader recomputes from
 * the stages' credits); for Schulze, the matrices `d` and `p` and the `order`.
 */
export function decodeRankedCount(bytes) {
  try {
    const r = new c.Reader(bytes);
    const out = { contest: r.u16(), method: METHODS[r.u8()], seats: r.u16(), rows: r.u32(), blank: r.u32() };
    out.invalid = [];
    for (let n = r.u32(), i = 0; i < n; i++) out.invalid.push({ row: r.u32(), reason: INVALID[r.u8()] });
    out.candidates = [];
    for (let n = r.u32(), i = 0; i < n; i++) {
      const t = r.u8();
      if (t === 1) out.candidates.push({ option: r.u8() });
      else if (t === 2) out.candidates.push({ writeIn: readStr8(r) });
      else return null;
    }
    const nc = out.candidates.length;
    out.lot = [];
    for (let i = 0; i < nc; i++) out.lot.push(r.u32());
    if (out.method === 'schulze') {
      const square = () => [...Array(nc)].map(() => [...Array(nc)].map(() => r.u32()));
      out.d = square();
      out.p = square();
      out.order = [...Array(nc)].map(() => r.u32());
    } else {
      out.unit = r.u64();
      out.quota = r.u64();
      out.rounds = [];
      const now = Array(nc).fill(0n);
      for (let n = r.u32(), i = 0; i < n; i++) {
        const tagByte = r.u8();
        const x = r.u32();
        if (tagByte === 1) now[x] = out.quota;
        else if (tagByte === 2) now[x] = 0n;
        const credits = [];
        for (let k = r.u32(), j = 0; j < k; j++) credits.push([r.u32(), r.u64()]);
        for (const [cand, v] of credits) now[cand] += v;
        const exhausted = r.u64();
        r.u64();
        const elected = [];
        for (let k = r.u16(), j = 0; j < k; j++) elected.push(r.u32());
        out.rounds.push({ action: ['first', 'surplus', 'exclusion'][tagByte], candidate: x, tallies: [...now], exhausted, elected });
      }
    }
    out.elected = [];
    for (let k = r.u16(), j = 0; j < k; j++) out.elected.push(r.u32());
    r.finish();
    return out;
  } catch {
    return null;
  }
}

// ---- checkpoints and the tree (specs/board.md §1–2, §6) ----

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unb64 = (s) => Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));

function keyId(name, alg, key) {
  return c.sha256(c.concat(c.utf8(name), c.utf8('\n'), Uint8Array.of(alg), key)).subarray(0, 4);
}

/**
 * Opens a board-signed checkpoint note; returns `{ origin, size, root, body, lines }`. Every
 * line by the board's key (its name and key ID) must verify, and at least one must be there.
 */
export function openCheckpoint(note, origin, boardKey) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('malformed note');
  const body = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split('\n').filter((l) => l.length > 0);
  const [o, sizeS, rootS] = body.split('\n');
  if (o !== origin) throw new Error(`the checkpoint is for ${o}, not ${origin}`);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeS)) throw new Error('malformed size');
  const id = c.hex(keyId(origin, 1, boardKey));
  let signed = false;
  for (const l of lines) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(l);
    if (!m) throw new Error('malformed signature line');
    const blob = unb64(m[2]);
    if (blob.length < 4) throw new Error('malformed signature line');
    if (m[1] !== origin || c.hex(blob.subarray(0, 4)) !== id) continue;
    if (blob.length !== 68 || !c.verifySignature(boardKey, c.utf8(body), blob.subarray(4))) {
      throw new Error('a signature by the board key does not verify');
    }
    signed = true;
  }
  if (!signed) throw new Error('the checkpoint is not signed by the board key');
  return { origin, size: Number(sizeS), root: unb64(rootS), body, lines };
}

/**
 * The witnesses (by name, in manifest order) whose valid `cosignature/v1` the checkpoint
 * carries. Lines by other keys are ignored; a line by a named witness's key (its name and key
 * ID) that does not verify rejects the whole checkpoint (specs/board.md §6.1), even when the
 * others meet the quorum.
 */
export function cosigners(cp, witnesses) {
  return witnesses
    .filter((w) => {
      const id = c.hex(keyId(w.name, 4, w.key));
      let valid = false;
      for (const l of cp.lines) {
        const m = /^\u2014 (\S+) (\S+)$/.exec(l);
        if (!m || m[1] !== w.name) continue;
        let blob;
        try {
          blob = unb64(m[2]);
        } catch {
          blob = new Uint8Array(0);
        }
        if (blob.length >= 4 && c.hex(blob.subarray(0, 4)) !== id) continue;
        let ok = blob.length === 76;
        if (ok) {
          let time = 0n;
          for (const x of blob.subarray(4, 12)) time = (time << 8n) | BigInt(x);
          ok = c.verifySignature(w.key, c.utf8(`cosignature/v1\ntime ${time}\n${cp.body}`), blob.subarray(12));
        }
        if (!ok) throw new Error(`the cosignature by witness ${w.name} does not verify, so the checkpoint is rejected`);
        valid = true;
      }
      return valid;
    })
    .map((w) => w.name);
}

/**
 * The path, under a witness's URL, of its latest cosigned checkpoint of the log `origin`:
 * every byte outside RFC 3986's unreserved characters and `/` percent-encoded.
 */
export function checkpointPath(origin) {
  let p = '/checkpoint/';
  for (const b of c.utf8(origin)) {
    const ch = String.fromCharCode(b);
    p += /[A-Za-z0-9\-._~/]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return p;
}

/**
 * What the witnesses' answers show their quorum covers: the `quorum`-th largest of their latest
 * cosigned sizes (every witness at or above it vouches for that prefix), or null.
 */
export function quorumCover(sizes, quorum) {
  const sorted = [...sizes].sort((a, b) => b - a);
  return sorted.length >= quorum && quorum > 0 ? sorted[quorum - 1] : null;
}

/** RFC 9162 MTH of leaf hashes. */
export function merkleRoot(leaves) {
  if (leaves.length === 0) return c.sha256(new Uint8Array(0));
  let level = leaves;
  // Hash pairs left to right; an odd node is carried up unchanged (equivalent to RFC 9162 MTH).
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(c.sha256(c.concat(Uint8Array.of(1), level[i], level[i + 1])));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

/** Splits an entry bundle (u16 length ‖ bytes)*. */
export function parseBundle(bytes) {
  const out = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 2) throw new Error('malformed bundle');
    const n = (bytes[at] << 8) | bytes[at + 1];
    if (bytes.length - at - 2 < n) throw new Error('malformed bundle');
    out.push(bytes.slice(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return out;
}

export function tileIndex(n) {
  const groups = [String(n % 1000).padStart(3, '0')];
  for (let x = Math.floor(n / 1000); x > 0; x = Math.floor(x / 1000)) groups.unshift(`x${String(x % 1000).padStart(3, '0')}`);
  return groups.join('/');
}

export { b64, unb64 };

/** RFC 9162 §2.1.3.2: `leaf` is at `index` in the tree of `size` leaves with `root`. */
export function verifyInclusion(leaf, index, size, proof, root) {
  if (index >= size) return false;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = c.sha256(c.concat(Uint8Array.of(1), p, r));
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = c.sha256(c.concat(Uint8Array.of(1), r, p));
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && c.hex(r) === c.hex(root);
}

/** Parses a C2SP tlog-proof receipt (specs/board.md §3). */
export function parseReceipt(text) {
  const head = 'c2sp.org/tlog-proof@v1\n';
  if (!text.startsWith(head)) throw new Error('not a tlog-proof');
  const split = text.indexOf('\n\n');
  const lines = text.slice(head.length, split).split('\n');
  let at = 0;
  if (lines[at].startsWith('extra ')) at += 1;
  const index = Number(/^index (\d+)$/.exec(lines[at])[1]);
  const proof = lines.slice(at + 1).map(unb64);
  return { index, proof, checkpoint: text.slice(split + 2) };
}

/** The decrypted totals of a `Result` entry's payload, per contest and option. */
export function decodeResult(payload) {
  const r = new c.Reader(payload);
  const out = [];
  for (let n = r.u16(), i = 0; i < n; i++) {
    const counts = [];
    for (let k = r.u8(), j = 0; j < k; j++) counts.push(r.u64());
    out.push(counts);
  }
  r.finish();
  return out;
}
