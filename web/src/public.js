// The public pages without the whole log (issue 18): one ballot's standing, a page of the ballot
// list and the tally's entries, each proven part of the checkpoint the witness quorum cosigned.
// What a page costs is what it shows: one ballot and its credential's entries, one tile of 256
// entries, the entries after the poll closed. The homomorphic sum of all ballots, and that the
// board lists every ballot of a credential, are not checked here: the observers' `urna verify`
// replays the whole log for that (README, "What you can check, and what you must trust").

import * as c from './crypto.js';
import * as e from './election.js';
import { ViewError, checkView, checkExtends, checkCosigned } from './light.js';

/** Entries in an entry tile (specs/board.md §5, C2SP tlog-tiles). */
export const TILE = 256;
/** The most entries after the poll's close the result page reads one by one. */
export const MAX_TALLY_ENTRIES = 256;

const BASE32 = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * The leaf hash a typed tracking code names: the whole code (52 characters, dashes, spaces and
 * case ignored) or the 64 hex digits of the hash (specs/election.md §8); null for anything else.
 */
export function leafOf(text) {
  const q = String(text).replace(/[-\s]/g, '').toLowerCase();
  if (q.length === 64 && /^[0-9a-f]+$/.test(q)) return c.unhex(q);
  if (q.length !== 52) return null;
  const out = [];
  let bits = 0;
  let n = 0;
  for (const ch of q) {
    const v = BASE32.indexOf(ch);
    if (v < 0) return null;
    bits = (bits << 5) | v;
    n += 5;
    if (n >= 8) {
      n -= 8;
      out.push((bits >> n) & 0xff);
    }
    bits &= (1 << n) - 1;
  }
  // 52 × 5 = 260 bits: 32 bytes and 4 bits that must be zero for the code to be canonical.
  if (out.length !== 32 || bits !== 0) return null;
  return Uint8Array.from(out);
}

/**
 * A receipt (specs/board.md §3) opened under the board's key, with the witness quorum's
 * cosignatures when the manifest names witnesses (`cosigned`: whether that was asked). Returns
 * `{ index, proof, cp, note }`; throws a ViewError (`receipt`, `checkpoint`, `no-quorum`).
 */
export function openReceipt(text, manifest, key, cosigned) {
  let r;
  try {
    r = e.parseReceipt(text);
  } catch (ex) {
    throw new ViewError('receipt', null, `the receipt is malformed: ${ex.message}`);
  }
  if (!Number.isSafeInteger(r.index) || r.index < 0 || r.proof.length > 64 || r.proof.some((h) => h.length !== 32)) {
    throw new ViewError('receipt', null, 'the receipt is malformed');
  }
  let cp;
  if (cosigned && manifest.witnesses.length > 0) cp = checkCosigned(r.checkpoint, manifest, key).cp;
  else {
    try {
      cp = e.openCheckpoint(r.checkpoint, manifest.electionId, key);
    } catch (ex) {
      throw new ViewError('checkpoint', null, ex.message);
    }
  }
  return { index: r.index, proof: r.proof, cp, note: r.checkpoint };
}

/**
 * One ballot's standing, from what the board answers about it (no other ballot is read):
 * - `leaf`: the leaf hash the voter typed (`leafOf`);
 * - `receipt`: the board's receipt for it, under its quorum-cosigned checkpoint if `covered`
 *   (else under its latest, only board-signed, checkpoint: the ballot is then not yet covered);
 * - `entry`: the entry's bytes (`GET /entries/<index>`);
 * - `view`: `GET /voter/<the ballot's author>`, the credential's ballots with their proofs;
 * - `consistency`: the proof that the view's checkpoint extends the receipt's;
 * - `withholding`: the witnesses cosigned more than the board shows as cosigned.
 * The rules are those of `standings` (./standing.js) for this one ballot: decided only on the
 * covered prefix; `superseded` by the credential's next `Ballot` in it, else `counted`;
 * `final` once the covered prefix holds the poll's close. Returns `{ index, status, by?, final,
 * size }` (`size`: the covered prefix); throws a ViewError when an answer does not check out.
 */
export function ballotStanding({ manifest, key, leaf, receipt, covered, entry, view, consistency, withholding }) {
  const origin = manifest.electionId;
  const r = openReceipt(receipt, manifest, key, covered);
  if (c.hex(e.leafHash(entry)) !== c.hex(leaf)) throw new ViewError('receipt', r.index, 'the entry served is not the one the tracking code names');
  if (!e.verifyInclusion(leaf, r.index, r.cp.size, r.proof, r.cp.root)) throw new ViewError('inclusion', r.index, 'the receipt does not prove the ballot is in the log');
  let x;
  try {
    x = e.parseEntry(entry);
  } catch (ex) {
    throw new ViewError('undecodable', r.index, ex.message);
  }
  if (x.electionId !== origin) throw new ViewError('other-election', r.index, 'for another election');
  if (x.kind !== e.KIND.Ballot && x.kind !== e.KIND.ChallengedBallot) return { index: r.index, status: 'not-a-ballot', final: false, size: r.cp.size };
  if (!c.verifySignature(x.author, x.signed, x.signature)) throw new ViewError('unauthorised', r.index, 'not signed by its credential');
  const v = checkView(view, origin, key, x.author);
  if (r.cp.size > v.cp.size) throw new ViewError('not-extending', null, `the voter view's checkpoint (${v.cp.size}) is older than the receipt's (${r.cp.size})`);
  checkExtends(r.cp, v.cp, consistency);
  const mine = v.ballots.find((b) => b.index === r.index);
  if (mine && c.hex(mine.leaf) !== c.hex(leaf)) throw new ViewError('inclusion', r.index, 'the voter view shows another ballot at this entry');
  const size = covered ? r.cp.size : 0;
  if (withholding) return { index: r.index, status: 'withheld', final: false, size };
  if (!covered) return { index: r.index, status: v.closed !== null ? 'unconfirmed' : 'pending', final: false, size };
  if (x.kind === e.KIND.ChallengedBallot) return { index: r.index, status: 'challenged', final: false, size };
  // A view leaves out a credential's earliest ballots beyond 64 (specs/board.md §5.2): a ballot
  // it leaves out has later ones in it, and one of them must be covered for the rules to decide.
  const later = v.ballots.find((b) => b.index > r.index && b.index < size && b.kind === e.KIND.Ballot);
  if (!mine && (v.omitted === 0 || !later)) throw new ViewError('incomplete', r.index, 'the voter view leaves out the ballot the receipt proves');
  const final = v.closed !== null && v.closed < size;
  return later ? { index: r.index, status: 'superseded', by: later.index, final, size } : { index: r.index, status: 'counted', final, size };
}

/** RFC 9162 PATH(0, leaves): the inclusion proof of a subtree's first leaf within it. */
export function firstPath(leaves) {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return [...firstPath(leaves.slice(0, k)), e.merkleRoot(leaves.slice(k))];
}

/**
 * A page of the log: the entry tile `t` (`bundle`, its bytes) checked against the checkpoint of
 * `receipt`, the board's receipt for the tile's first entry. The tile's leaves hash to the
 * subtree whose first leaf the receipt proves — the receipt's first hashes are the siblings
 * computed here from the tile — so every entry of the tile is in the log (specs/board.md §5:
 * an aligned tile is a subtree of every larger tree, RFC 9162 §2.1.3). Returns `{ cp, rows }`,
 * `rows` the tile's ballots `{ index, leaf, code, kind }`. Throws a ViewError.
 */
export function checkTile(bundle, t, receipt, manifest, key, cosigned) {
  const r = openReceipt(receipt, manifest, key, cosigned);
  const start = t * TILE;
  if (r.index !== start || start >= r.cp.size) throw new ViewError('receipt', r.index, `the receipt is not for entry ${start}`);
  let entries;
  try {
    entries = e.parseBundle(bundle);
  } catch (ex) {
    throw new ViewError('malformed', start, ex.message);
  }
  const width = Math.min(TILE, r.cp.size - start);
  if (entries.length !== width) throw new ViewError('wrong-size', start, `the tile holds ${entries.length} entries, not ${width}`);
  const leaves = entries.map(e.leafHash);
  const inside = firstPath(leaves);
  const prefixOk = inside.every((h, k) => r.proof[k] && c.hex(r.proof[k]) === c.hex(h));
  if (!prefixOk || !e.verifyInclusion(leaves[0], start, r.cp.size, r.proof, r.cp.root)) {
    throw new ViewError('inclusion', start, 'the tile does not hash to the subtree the receipt proves');
  }
  const rows = [];
  entries.forEach((bytes, k) => {
    let x;
    try {
      x = e.parseEntry(bytes);
    } catch (ex) {
      throw new ViewError('undecodable', start + k, ex.message);
    }
    if (x.kind === e.KIND.Ballot || x.kind === e.KIND.ChallengedBallot) rows.push({ index: start + k, leaf: leaves[k], code: e.trackingCode(leaves[k]), kind: x.kind });
  });
  return { cp: r.cp, rows };
}

const RANKED_KINDS = new Set([e.KIND.MixRows, e.KIND.MixProof, e.KIND.MixDecryption, e.KIND.RankedCount]);

/**
 * The encrypted tally as `GET /tally` serves it (`{ tally: [hex of α ‖ β] }`), decoded: one
 * ciphertext per option of each contest counted homomorphically, in manifest order. Throws a
 * ViewError (`malformed`).
 */
export function parseTally(json, manifest) {
  const want = manifest.contests.filter((x) => !x.ranked).reduce((n, x) => n + x.options.length, 0);
  if (!json || !Array.isArray(json.tally) || json.tally.length !== want) throw new ViewError('malformed', null, `the encrypted tally is not ${want} ciphertexts`);
  return json.tally.map((h) => {
    if (typeof h !== 'string' || !/^[0-9a-f]{128}$/.test(h)) throw new ViewError('malformed', null, 'a tally ciphertext is not 64 bytes of hex');
    try {
      // The sum of no ballot is the identity: a tally may hold it, unlike a ballot.
      const bytes = c.unhex(h);
      return { alpha: c.decodePoint(bytes.subarray(0, 32)), beta: c.decodePoint(bytes.subarray(32)) };
    } catch (ex) {
      throw new ViewError('malformed', null, `a tally ciphertext: ${ex.message}`);
    }
  });
}

/** The (contest, option) of each tally ciphertext: the options of the contests counted homomorphically, in manifest order. */
const labels = (manifest) => manifest.contests.flatMap((x, ci) => (x.ranked ? [] : x.options.map((_, o) => [ci, o])));

/** Lagrange coefficients at 0 of the trustee indices `js` (crypto §9), mod L. */
function lagrange(js) {
  return js.map((j) => {
    let num = 1n;
    let den = 1n;
    for (const m of js) {
      if (m === j) continue;
      num = c.mod(num * BigInt(m));
      den = c.mod(den * BigInt(m - j));
    }
    return c.mod(num * inverse(den));
  });
}

/** x⁻¹ mod L (Fermat). */
function inverse(x) {
  let result = 1n;
  let base = c.mod(x);
  for (let e2 = c.L - 2n; e2 > 0n; e2 >>= 1n) {
    if (e2 & 1n) result = (result * base) % c.L;
    base = (base * base) % c.L;
  }
  return result;
}

/**
 * The tally's entries: every entry after the poll's close (`closed`, its index) up to the
 * checkpoint `cp` the quorum cosigned, `items` `[{ index, entry, proof }]` in order, each proven
 * under `cp`. Checked here: each is in `cp`, none is missing, each `DecryptionShare` is signed by
 * the trustee it names with one share and proof per tally ciphertext, at least the threshold of
 * shares precede the `Result`, signed by its author, whose counts have the manifest's shape.
 * With `tally` (the encrypted tally the board serves, `parseTally`) and the election `context`
 * (`{ vks, E }`, from the ceremony this booth checked) also, as the rules do (specs/election.md
 * §6.6): every share's Chaum–Pedersen proof (`U = α`, `X = VK_j`, `Y = D`, context
 * `E ‖ u16(j) ‖ u16(c) ‖ u16(o)`), and that each count is what the first `t` shares decrypt
 * (`count·G = β − Σ λ_j·D_j`). Never checked here: that the tally is the sum of every counted
 * ballot — that needs every ballot, the observers' `urna verify --final`.
 * Returns `{ counts, shares, resultIndex, ranked, proofs }` (`counts` null before the Result;
 * `ranked`: the log holds ranked-count entries, which this page does not read; `proofs`: whether
 * the proofs and the decryption were checked). Throws a ViewError.
 */
export function checkTally(items, closed, cp, manifest, context = null, tally = null) {
  const proofs = context !== null && tally !== null;
  const where = labels(manifest);
  const origin = manifest.electionId;
  const want = cp.size - closed - 1;
  if (!Array.isArray(items) || items.length !== want) throw new ViewError('wrong-size', null, `${want} entries after the close, not ${items?.length}`);
  const tallied = manifest.contests.filter((x) => !x.ranked).reduce((n, x) => n + x.options.length, 0);
  const shares = [];
  let counts = null;
  let resultIndex = null;
  let ranked = false;
  items.forEach(({ index, entry, proof }, k) => {
    if (index !== closed + 1 + k) throw new ViewError('out-of-order', index, `expected entry ${closed + 1 + k}`);
    if (!e.verifyInclusion(e.leafHash(entry), index, cp.size, proof, cp.root)) throw new ViewError('inclusion', index, 'not proven in the cosigned checkpoint');
    let x;
    try {
      x = e.parseEntry(entry);
    } catch (ex) {
      throw new ViewError('undecodable', index, ex.message);
    }
    if (x.electionId !== origin) throw new ViewError('other-election', index, 'for another election');
    if (!c.verifySignature(x.author, x.signed, x.signature)) throw new ViewError('unauthorised', index, 'the signature does not verify');
    if (RANKED_KINDS.has(x.kind)) {
      ranked = true;
      return;
    }
    if (x.kind === e.KIND.DecryptionShare) {
      const rd = new c.Reader(x.payload);
      let j;
      const points = [];
      const cps = [];
      try {
        j = rd.u16();
        const n = rd.u16();
        if (n !== tallied) throw new Error(`${n} shares for ${tallied} tally ciphertexts`);
        for (let i = 0; i < n; i++) {
          points.push(rd.point('D'));
          cps.push(c.decodeCp(rd));
        }
        rd.finish();
      } catch (ex) {
        throw new ViewError('undecodable', index, `not a decryption share: ${ex.message}`);
      }
      const trustee = manifest.trustees[j - 1];
      if (!trustee || c.hex(trustee.signingKey) !== c.hex(x.author)) throw new ViewError('unauthorised', index, `not signed by trustee ${j}`);
      if (shares.some((s) => s.trustee === j)) throw new ViewError('refused', index, `trustee ${j} posted twice`);
      if (proofs) {
        const vk = context.vks[j - 1];
        if (!vk) throw new ViewError('refused', index, `trustee ${j} has no verification key`);
        points.forEach((D, i) => {
          const [ci, o] = where[i];
          if (!c.cpVerify(cps[i], tally[i].alpha, vk, D, c.concat(context.E, c.u16(j), c.u16(ci), c.u16(o)))) {
            throw new ViewError('refused', index, `trustee ${j}'s share for contest ${ci}, option ${o} does not prove its decryption (invalid-decryption-share)`);
          }
        });
      }
      shares.push({ trustee: j, index, name: trustee.name, points });
      return;
    }
    if (x.kind === e.KIND.Result) {
      if (counts !== null) throw new ViewError('refused', index, 'a second Result');
      if (shares.length < manifest.threshold) throw new ViewError('refused', index, `${shares.length} decryption shares, ${manifest.threshold} needed`);
      try {
        counts = e.decodeResult(x.payload);
      } catch (ex) {
        throw new ViewError('undecodable', index, `not a result: ${ex.message}`);
      }
      const shaped = counts.length === manifest.contests.length && manifest.contests.every((ct, ci) => counts[ci].length === (ct.ranked ? 0 : ct.options.length));
      if (!shaped) throw new ViewError('refused', index, 'the counts do not have the manifest’s shape');
      if (proofs) {
        const chosen = shares.slice(0, manifest.threshold);
        const lambdas = lagrange(chosen.map((sh) => sh.trustee));
        where.forEach(([ci, o], i) => {
          let m = tally[i].beta;
          chosen.forEach((sh, k) => { m = m.subtract(c.mulPublic(sh.points[i], lambdas[k])); });
          if (!c.mulPublic(c.G, counts[ci][o]).equals(m)) throw new ViewError('refused', index, `the count of contest ${ci}, option ${o} is not what the shares decrypt (inconsistent-result)`);
        });
      }
      resultIndex = index;
      return;
    }
    throw new ViewError('wrong-phase', index, `kind ${x.kind} after the poll closed`);
  });
  return { counts, shares: shares.map(({ points, ...rest }) => rest), resultIndex, ranked, proofs };
}
