// The browser's election layer against the Rust-made record of specs/vectors/election: it
// decodes the manifest, recomputes the election context from the dealers' commitments, and
// verifies the ballots' proofs; ballots it makes verify here and open correctly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as c from '../src/crypto.js';
import * as e from '../src/election.js';

const record = JSON.parse(readFileSync(new URL('../../specs/vectors/election/record.json', import.meta.url)));
const entries = record.entries.map(c.unhex);

test('the record: manifest, context and every ballot proof (0/1 and range)', () => {
  const state = e.electionState(entries);
  assert.equal(state.manifest.electionId, 'vote.example.org/2026/council');
  assert.equal(state.phase, 'finished');
  assert.ok(state.context, 'the ceremony completed');
  let checked = 0;
  for (const b of state.ballots) {
    const entry = e.parseEntry(entries[b.index]);
    assert.equal(c.verifySignature(entry.author, entry.signed, entry.signature), true);
    if (entry.kind !== e.KIND.Ballot) continue;
    assert.equal(e.verifyBallot(state, entry.author, entry.payload), true, `ballot at ${b.index}`);
    // The same proofs under another credential do not verify: they are bound to it.
    assert.equal(e.verifyBallot(state, new Uint8Array(32).fill(7), entry.payload), false);
    checked += 1;
  }
  assert.ok(checked > 0, 'some ballots had only 0/1 contests');
});

test('ballots made here verify here, open to their choices, and refuse bad choices', () => {
  const state = e.electionState(entries);
  const m = state.manifest;
  const style = 0;
  const seed = new Uint8Array(32).fill(3);
  const cred = c.publicKeyOf(seed);
  const choices = {};
  for (const ci of m.styles[style].contests) {
    const contest = m.contests[ci];
    const { p, min } = e.rule(contest);
    choices[contest.id] = contest.options.map((_, o) => (p > 1 ? (o === 0 ? 3 : o === 1 ? 2 : 0) : o < Math.max(min, 1) ? 1 : 0));
  }
  assert.ok(m.styles[style].contests.some((ci) => m.contests[ci].kind === 'score'), 'a score contest is included');
  const { payload, openings } = e.encryptBallot(state, cred, style, choices);
  assert.equal(e.verifyBallot(state, cred, payload), true);
  assert.equal(e.checkOpening(state.context.K, payload, openings), true);
  openings[0][0].value ^= 1;
  assert.equal(e.checkOpening(state.context.K, payload, openings), false);
  const entry = e.parseEntry(e.signEntry(m.electionId, e.KIND.Ballot, payload, seed));
  assert.equal(c.verifySignature(entry.author, entry.signed, entry.signature), true);
  const first = m.contests[m.styles[style].contests[0]];
  assert.throws(() => e.encryptBallot(state, cred, style, { ...choices, [first.id]: first.options.map(() => 1) }), /at most/);
  assert.throws(() => e.encryptBallot(state, cred, style, { nope: [1] }), /not on this ballot/);
});

test('tracking codes, tiles and the Merkle root', () => {
  const leaf = c.unhex('00'.repeat(31) + '01');
  assert.equal(e.trackingCode(leaf).replaceAll('-', '').length, 52);
  assert.equal(e.tileIndex(1234067), 'x001/x234/067');
  assert.equal(e.tileIndex(5), '005');
  const leaves = entries.map(e.leafHash);
  // The root of the whole record must be what the Rust board would sign; spot-check shapes.
  for (const n of [1, 2, 3, 5, 8, 13]) assert.equal(e.merkleRoot(leaves.slice(0, n)).length, 32);
  const bundle = c.concat(...entries.slice(0, 3).map((x) => c.concat(c.u16(x.length), x)));
  assert.deepEqual(e.parseBundle(bundle).map(c.hex), entries.slice(0, 3).map(c.hex));
});

test('the manifest vector: titles in other languages decode and are picked as in Rust', () => {
  const v = JSON.parse(readFileSync(new URL('../../specs/vectors/election/manifest.json', import.meta.url)));
  const m = e.decodeManifest(c.unhex(v.canonical));
  assert.equal(c.hex(c.sha256(c.concat(c.utf8('urna-v1 manifest'), c.unhex(v.canonical)))), v.manifest_hash);
  assert.deepEqual(m.titles, [{ lang: 'zh-CN', text: '2026 年示例市议会选举' }]);
  for (const p of v.picks) {
    assert.equal(e.pickText(m.title, m.titles, p.lang), p.title, p.lang);
    m.contests.forEach((contest, i) => {
      assert.equal(e.pickText(contest.title, contest.titles, p.lang), p.contests[i].title);
      assert.deepEqual(contest.options.map((o) => e.pickText(o.name, o.names, p.lang)), p.contests[i].options);
    });
    assert.deepEqual(m.styles.map((s) => e.styleName(s, p.lang)), p.ballot_styles);
  }
});

const ranked = JSON.parse(readFileSync(new URL('../../specs/vectors/election/ranked.json', import.meta.url)));
const rankedEntries = ranked.entries.map(c.unhex);

test('the ranked record: mixers, ranked ballots, the counts and the finished phase', () => {
  const state = e.electionState(rankedEntries);
  const m = state.manifest;
  assert.equal(state.phase, 'finished');
  assert.equal(c.hex(state.context.E), ranked.final.context_hash);
  assert.equal(m.mixers.length, 3);
  assert.deepEqual(m.contests.filter((x) => x.ranked).map((x) => x.ranked.method), ['stv', 'irv']);
  let rows = 0;
  for (const b of state.ballots) {
    const entry = e.parseEntry(rankedEntries[b.index]);
    if (entry.kind !== e.KIND.Ballot) continue;
    const decoded = e.decodeBallot(entry.payload);
    rows += decoded.contests.filter((x) => x.optionKind === 3).length;
    assert.equal(e.verifyBallot(state, entry.author, entry.payload), true, `ballot at ${b.index}`);
    assert.equal(e.verifyBallot(state, new Uint8Array(32).fill(7), entry.payload), false);
  }
  assert.ok(rows > 0, 'ranked rows were checked');
  for (const want of ranked.final.ranked) {
    const count = state.rankedCounts.get(want.contest);
    assert.ok(count, `the count of contest ${want.contest}`);
    assert.deepEqual(count.elected, want.elected);
    assert.equal(count.rows, want.ballots.length);
    assert.equal(count.invalid.length, want.ballots.filter((x) => x.invalid).length);
    // The last round's tallies hold the elected (STV: the quota) and add up with what was
    // exhausted and lost to no more than the ballots' value.
    if (count.rounds) assert.ok(count.rounds.length >= 1);
  }
  // Cut short, a count is not a count (and the election not finished).
  const bytes = c.unhex(ranked.final.ranked[0].count);
  assert.equal(e.decodeRankedCount(bytes.subarray(0, bytes.length - 1)), null);
});

test('ranked ballots made here verify, open to the ranking shown, and bad rankings are refused', () => {
  const state = e.electionState(rankedEntries);
  const m = state.manifest;
  const seed = new Uint8Array(32).fill(5);
  const cred = c.publicKeyOf(seed);
  const board = m.contests.findIndex((x) => x.id === 'board');
  const chair = m.contests.findIndex((x) => x.id === 'chair');
  const choices = {
    mayor: m.contests[0].options.map((_, k) => (k === 0 ? 1 : 0)),
    board: [{ option: 2 }, { writeIn: 'Zoë Ng' }, { option: 0 }],
    chair: [{ option: 1 }],
  };
  const { payload, openings } = e.encryptBallot(state, cred, 0, choices);
  assert.equal(e.verifyBallot(state, cred, payload), true);
  assert.equal(e.checkOpening(state.context.K, payload, openings), true);
  // The plaintext of the board row is the ranking shown, byte for byte (§5.5).
  const plain = e.rankedPlaintext(m.contests[board], choices.board);
  assert.deepEqual([...plain.subarray(0, 4)], [3, 5, 1, 0]);
  // An opening claiming another ranking does not open.
  const other = e.rankedPayloads(e.rankedPlaintext(m.contests[chair], [{ option: 2 }]));
  const lying = openings.map((o) => o.map((x) => ({ ...x })));
  lying[2][0].payload = other[0];
  assert.equal(e.checkOpening(state.context.K, payload, lying), false);
  const refused = (prefs) => {
    try {
      e.rankedPlaintext(m.contests[board], prefs);
      return null;
    } catch (err) {
      return err.code;
    }
  };
  assert.equal(refused([{ option: 1 }, { option: 1 }]), 'ranked-twice');
  assert.equal(refused([{ option: 0 }, { option: 1 }, { option: 2 }, { option: 3 }, { writeIn: 'A' }]), 'ranked-too-many');
  assert.equal(refused([{ writeIn: 'A' }, { writeIn: 'B' }]), 'write-in-too-many');
  assert.equal(refused([{ writeIn: ' A' }]), 'write-in-text');
  assert.equal(refused([{ writeIn: 'x'.repeat(25) }]), 'write-in-too-long');
  assert.equal(refused([{ option: 9 }]), 'ranked-unknown');
});

test('a Schulze count decodes to its matrices and order (§7.3)', () => {
  // contest 2, Schulze (3), 1 seat, 5 rows, 0 blank, no invalid row, candidates x, y, z,
  // the lot, d, p, the order, and the elected.
  const u32s = (...xs) => xs.map(c.u32);
  const bytes = c.concat(c.u16(2), c.u8(3), c.u16(1), c.u32(5), c.u32(0), c.u32(0),
    c.u32(3), c.u8(1), c.u8(0), c.u8(1), c.u8(1), c.u8(1), c.u8(2),
    ...u32s(2, 0, 1),
    ...u32s(0, 2, 4, 3, 0, 4, 1, 0, 0),
    ...u32s(0, 0, 4, 3, 0, 4, 0, 0, 0),
    ...u32s(1, 0, 2),
    c.u16(1), c.u32(1));
  const count = e.decodeRankedCount(bytes);
  assert.equal(count.method, 'schulze');
  assert.deepEqual(count.d, [[0, 2, 4], [3, 0, 4], [1, 0, 0]]);
  assert.deepEqual(count.p[1], [3, 0, 4]);
  assert.deepEqual(count.order, [1, 0, 2]);
  assert.deepEqual(count.elected, [1]);
  assert.equal(count.rounds, undefined);
  assert.equal(e.decodeRankedCount(c.concat(bytes, Uint8Array.of(0))), null);
});
