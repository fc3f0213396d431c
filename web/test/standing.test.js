// The public pages' standings and result against the Rust-made record: every ballot's standing
// as the state machine decided it, finding ballots by tracking code, and the result summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as c from '../src/crypto.js';
import * as e from '../src/election.js';
import * as s from '../src/standing.js';

const record = JSON.parse(readFileSync(new URL('../../specs/vectors/election/record.json', import.meta.url)));
const entries = record.entries.map(c.unhex);
const state = e.electionState(entries);

test('standings on a fully covered log are the state machine’s', () => {
  const rows = s.standings(state, { size: entries.length, state, withholding: null });
  assert.equal(rows.length, record.final.ballots.length);
  rows.forEach((r, i) => {
    const want = record.final.ballots[i];
    assert.equal(r.index, want.index);
    assert.equal(r.code, want.tracking_code);
    if (typeof want.status === 'string') assert.equal(r.status, want.status);
    else assert.deepEqual({ status: r.status, by: r.by }, { status: 'superseded', by: want.status.superseded.by });
    if (r.status !== 'challenged') assert.equal(r.final, true, 'voting closed in the record');
  });
});

test('standings beyond the witnesses’ cover are not decided, and none under a withholding board', () => {
  const firstBallot = record.final.ballots[0].index;
  const cut = e.electionState(entries.slice(0, firstBallot));
  const rows = s.standings(state, { size: firstBallot, state: cut, withholding: null });
  // The record ends closed: a ballot the witnesses never covered is unconfirmed, not pending.
  assert.ok(rows.every((r) => r.status === 'unconfirmed'));
  const open = e.electionState(entries.slice(0, firstBallot + 3));
  const early = s.standings(open, { size: firstBallot + 1, state: e.electionState(entries.slice(0, firstBallot + 1)), withholding: null });
  assert.deepEqual(early.map((r) => r.status), ['counted', 'pending', 'pending'].slice(0, early.length));
  assert.equal(early[0].final, false);
  const held = s.standings(state, { size: entries.length, state, withholding: { witnesses: 9, board: 3 } });
  assert.ok(held.every((r) => r.status === 'withheld'));
});

test('a tracking code is found whole, by its first groups, or as hex; searches filter rows', () => {
  const b = record.final.ballots[2];
  assert.deepEqual(s.find(state, b.tracking_code).map((x) => x.index), [b.index]);
  assert.deepEqual(s.find(state, b.tracking_code.slice(0, 14).toUpperCase()).map((x) => x.index), [b.index]);
  assert.deepEqual(s.find(state, ` ${b.tracking_code.replaceAll('-', '')} `).map((x) => x.index), [b.index]);
  const leaf = c.hex(e.leafHash(entries[b.index]));
  assert.deepEqual(s.find(state, leaf).map((x) => x.index), [b.index]);
  assert.deepEqual(s.find(state, 'zz'), []);
  const rows = s.standings(state, { size: entries.length, state, withholding: null });
  assert.deepEqual(s.filter(rows, b.tracking_code.slice(5, 14)).map((r) => r.index), [b.index]);
  assert.equal(s.filter(rows, '').length, rows.length);
});

test('the result: turnout, shares rounded to a tenth, winners by each contest’s rule', () => {
  const counts = record.final.result.map((cs) => cs.map(BigInt));
  const r = s.summary(state, counts);
  assert.equal(r.turnout.counted, record.final.counts.counted);
  assert.equal(r.turnout.roll, record.final.counts.voters);
  assert.equal(r.weighted, true, 'the record has weights of 2');
  r.contests.forEach((cr, ci) => {
    const values = record.final.result[ci];
    assert.equal(cr.total, values.reduce((a, b) => a + b, 0));
    const top = Math.max(...values);
    if (cr.kind !== 'referendum') assert.deepEqual(cr.winners, cr.options.filter((o) => top > 0 && o.count === top).map((o) => o.id));
  });
  assert.equal(s.percent(1, 3), 33.3);
  assert.equal(s.percent(2, 3), 66.7);
  assert.equal(s.percent(0, 0), 0);
  // The referendum rule: more yes than no, blank votes aside; a tie names no winner.
  const m = state.manifest;
  const ri = m.contests.findIndex((x) => x.kind === 'referendum');
  const fake = m.contests.map((x) => x.options.map(() => 0n));
  fake[ri] = [3n, 3n, 9n];
  const tie = s.summary(state, fake).contests[ri];
  assert.deepEqual([tie.winners, tie.tie], [[], true]);
  fake[ri] = [4n, 3n, 9n];
  assert.deepEqual(s.summary(state, fake).contests[ri].winners, ['yes']);
  const none = s.summary(state, fake).contests[0];
  assert.deepEqual([none.winners, none.tie], [[], false]);
});
