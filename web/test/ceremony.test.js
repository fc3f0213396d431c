// The booth's rules of the key ceremony (src/ceremony.js) against the Rust rules: the example
// record's ceremony is admitted and gives the same joint key, and every case of the election
// rejection corpus (specs/vectors/reject/election.json) whose entry is a Setup or a ceremony
// entry is refused with exactly the code the Rust rules give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as c from '../src/crypto.js';
import * as e from '../src/election.js';
import { Ceremony, Rejection, judgeComplaint, shareInfo, dkgCtx } from '../src/ceremony.js';

const load = (p) => JSON.parse(readFileSync(new URL(`../../specs/vectors/${p}`, import.meta.url)));
const corpus = load('reject/election.json');
const records = { main: load('election/record.json').entries, ranked: load('election/ranked.json').entries, ...corpus.records };
const threshold = load('threshold.json');

const JUDGED = new Set([e.KIND.Setup, e.KIND.DkgCommitment, e.KIND.DkgShares, e.KIND.DkgComplaint, e.KIND.DkgConfirm]);
const kindOf = (bytes) => {
  try {
    return e.parseEntry(bytes).kind;
  } catch {
    return null;
  }
};

/** The rules after the judged entries of a record's first `prefix` entries. */
function replay(entries) {
  const rules = new Ceremony();
  for (const h of entries) {
    const bytes = c.unhex(h);
    if (JUDGED.has(kindOf(bytes))) rules.apply(bytes);
  }
  return rules;
}

test("the example record's ceremony is admitted, with the joint key the verifier derives", () => {
  const entries = records.main;
  const rules = replay(entries.slice(0, 12));
  assert.equal(rules.phase, 'registration');
  const state = e.electionState(entries.map(c.unhex));
  assert.equal(c.hex(rules.context.E), c.hex(state.context.E));
  assert.equal(c.hex(rules.context.K.toBytes()), c.hex(state.context.K.toBytes()));
  for (const name of ['disqualified-dealer', 'failed-ceremony']) replay(records[name]);
});

// §2's rules of the manifest's texts are not the booth's to judge (src/ceremony.js says so).
const TEXTS = [
  'a manifest whose first contest has its title\'s translations out of tag order (zh-TW before zh-CN)',
  'a manifest whose title is translated under "zh_CN", not a BCP 47 tag',
];

test('every Setup or ceremony case of the rejection corpus is refused with its code', () => {
  const wrong = [];
  const run = [];
  for (const k of corpus.cases) {
    const bytes = c.unhex(k.entry);
    const kind = bytes.length > 65535 ? null : kindOf(bytes);
    if (!JUDGED.has(kind) || TEXTS.includes(k.name)) continue;
    const rules = replay(records[k.record].slice(0, k.prefix));
    const before = JSON.stringify([rules.phase, [...rules.commitments.keys()], [...rules.shares.keys()], [...rules.confirmed], [...rules.disqualified], rules.leaves.size]);
    let got = 'accepted';
    try {
      rules.apply(bytes);
    } catch (ex) {
      got = ex instanceof Rejection ? ex.code : `unexpected: ${ex.message}`;
    }
    const after = JSON.stringify([rules.phase, [...rules.commitments.keys()], [...rules.shares.keys()], [...rules.confirmed], [...rules.disqualified], rules.leaves.size]);
    if (got !== k.error) wrong.push(`${k.name}: expected ${k.error}, got ${got}`);
    if (before !== after) wrong.push(`${k.name}: the state changed`);
    run.push(k.error);
  }
  assert.deepEqual(wrong, []);
  // Every ceremony code the corpus has is among those run here.
  for (const code of ['unknown-trustee', 'already-posted', 'commitment-count', 'invalid-coefficient-proof', 'shares-before-commitments', 'share-recipients',
    'self-complaint', 'complaint-after-confirm', 'no-share-posted', 'invalid-reveal', 'false-complaint', 'dealer-disqualified', 'trustee-disqualified',
    'confirm-before-shares', 'ceremony-failed', 'unauthorised-author', 'invalid-manifest', 'duplicate', 'wrong-election', 'malformed']) {
    assert.ok(run.includes(code), `no case of ${code} was run`);
  }
});

test("the threshold vectors: every coefficient proof verifies, and the complaint's verdict is share-valid", () => {
  const ctx = c.unhex(threshold.ctx);
  const pt = (h) => c.decodePoint(c.unhex(h));
  for (const d of threshold.dealers) {
    d.commitments.forEach((C, k) => {
      const r = new c.Reader(c.unhex(d.coefficient_proofs[k]));
      const proof = c.decodeSchnorr(r);
      r.finish();
      const cctx = c.concat(ctx, c.utf8('/dkg-coefficient'), c.u16(d.dealer), c.u16(k));
      assert.ok(c.schnorrVerify(proof, pt(C), cctx), `dealer ${d.dealer} coefficient ${k}`);
      assert.ok(!c.schnorrVerify(proof, pt(C), c.concat(ctx, c.utf8('/dkg-coefficient'), c.u16(d.dealer), c.u16(k + 1))));
    });
  }
  const k = threshold.complaint;
  const dealer = threshold.dealers.find((d) => d.dealer === k.dealer);
  const enc = c.unhex(k.encrypted);
  const share = { R: c.decodePoint(enc.subarray(0, 32)), box: enc.subarray(32) };
  const rv = new c.Reader(c.unhex(k.reveal));
  const reveal = { S: rv.point('S'), proof: c.decodeCp(rv) };
  rv.finish();
  const Ej = pt(threshold.ceremony_keys[k.recipient - 1]);
  const commitments = dealer.commitments.map(pt);
  assert.equal(k.verdict, 'share-valid');
  assert.equal(judgeComplaint(share, reveal, Ej, commitments, k.dealer, k.recipient, ctx), 'share-valid');
  // Against another dealer's commitments the same share does not match: upheld.
  const other = threshold.dealers.find((d) => d.dealer !== k.dealer).commitments.map(pt);
  assert.equal(judgeComplaint(share, reveal, Ej, other, k.dealer, k.recipient, ctx), 'upheld');
  // The box altered: it does not open, upheld; the reveal for another recipient: bad-reveal.
  const box = share.box.slice();
  box[0] ^= 1;
  assert.equal(judgeComplaint({ ...share, box }, reveal, Ej, commitments, k.dealer, k.recipient, ctx), 'upheld');
  const Eother = pt(threshold.ceremony_keys[k.recipient % threshold.ceremony_keys.length]);
  assert.equal(judgeComplaint(share, reveal, Eother, commitments, k.dealer, k.recipient, ctx), 'bad-reveal');
  assert.equal(shareInfo(ctx, 1, 2, share.R, Ej).length, 17 + 2 + ctx.length + 4 + 64);
  assert.equal(c.hex(dkgCtx(new Uint8Array(32))).slice(0, 22), c.hex(c.utf8('urna-v1 dkg')));
});
