// What the public pages say about ballots and the result, computed from the log this browser
// verified: each ballot's standing under the witness-quorum rule (specs/board.md §6.2), finding
// a ballot by its tracking code, and the result as people read it — turnout, shares and winners
// by the same rules as `urna tally` (verifier/src/results.rs, README "Results").

import * as c from './crypto.js';
import * as e from './election.js';

const closed = (phase) => phase === 'tallying' || phase === 'finished';

/**
 * Every ballot on the board (`state`: the whole verified log), oldest first, with its standing
 * decided only on `covered` — the prefix the witness quorum covers (`size`, its `state`, and
 * whether the board is `withholding` it):
 * - `withheld`: the board withholds what the witnesses cosigned, so nothing is confirmed;
 * - `pending` / `unconfirmed`: beyond the covered prefix, while voting is open / after it closed;
 * - `challenged`: an audited ballot, never counted;
 * - `superseded` (`by`: the entry index of the credential's next ballot) or `counted`;
 * `final` once the covered log shows voting closed.
 */
export function standings(state, covered) {
  const later = new Map(); // entry index → the entry index of the same credential's next Ballot
  const last = new Map();
  for (const b of covered.state?.ballots ?? []) {
    if (b.kind !== e.KIND.Ballot) continue;
    if (last.has(b.credential)) later.set(last.get(b.credential), b.index);
    last.set(b.credential, b.index);
  }
  const final = covered.state ? closed(covered.state.phase) : false;
  return state.ballots.map((b) => {
    const row = { index: b.index, code: e.trackingCode(b.leaf), leaf: c.hex(b.leaf), kind: b.kind, final: false };
    if (covered.withholding) return { ...row, status: 'withheld' };
    if (b.index >= covered.size) return { ...row, status: closed(state.phase) ? 'unconfirmed' : 'pending' };
    if (b.kind === e.KIND.ChallengedBallot) return { ...row, status: 'challenged' };
    if (later.has(b.index)) return { ...row, status: 'superseded', by: later.get(b.index), final };
    return { ...row, status: 'counted', final };
  });
}

/** A tracking code as typed: without dashes, spaces or case. */
export const clean = (text) => text.replace(/[-\s]/g, '').toLowerCase();

/**
 * The ballots a typed code names: the whole code or its start (at least one group of four),
 * or the 64 hex digits of the leaf hash (specs/election.md §8).
 */
export function find(state, text) {
  const q = clean(text);
  if (q.length < 4) return [];
  return state.ballots.filter((b) => {
    const code = e.trackingCode(b.leaf).replace(/-/g, '');
    return code.startsWith(q) || c.hex(b.leaf) === q;
  });
}

/** The rows whose tracking code contains the typed text (all rows for an empty search). */
export function filter(rows, text) {
  const q = clean(text);
  return q === '' ? rows : rows.filter((r) => r.code.replace(/-/g, '').includes(q));
}

/** A share in percent, rounded to a tenth, as `urna tally` rounds it. */
export const percent = (n, total) => (total === 0 ? 0 : Math.round((n * 1000) / total) / 10);

/**
 * The result for people, from the decrypted `counts` (per contest, per option) and the election
 * `state` they were tallied from: turnout (credentials whose latest ballot counts, of those on
 * the roll), whether weights make the counts weighted, and per contest the total, each option's
 * count and share, and the winners — the highest count (all of them at a tie; none when every
 * count is 0), or for a referendum `yes` if more yes than no, `no` if fewer, none at a tie.
 */
export function summary(state, counts) {
  const m = state.manifest;
  const voted = new Set(state.ballots.filter((b) => b.kind === e.KIND.Ballot).map((b) => b.credential));
  let rollWeight = 0;
  for (const r of state.roll.values()) rollWeight += r.weight;
  const turnout = { counted: voted.size, roll: state.roll.size, percent: percent(voted.size, state.roll.size), rollWeight };
  const contests = m.contests.map((contest, ci) => {
    const values = (counts[ci] ?? []).map(Number);
    const total = values.reduce((a, b) => a + b, 0);
    const options = contest.options.map((o, k) => ({ id: o.id, count: values[k] ?? 0, percent: percent(values[k] ?? 0, total) }));
    let winners;
    if (contest.kind === 'referendum') {
      const of = (id) => options.find((o) => o.id === id)?.count ?? 0;
      winners = of('yes') > of('no') ? ['yes'] : of('yes') < of('no') ? ['no'] : [];
    } else {
      const top = Math.max(0, ...options.map((o) => o.count));
      winners = options.filter((o) => top > 0 && o.count === top).map((o) => o.id);
    }
    const tie = winners.length > 1 || (contest.kind === 'referendum' && winners.length === 0 && total > 0);
    return { id: contest.id, kind: contest.kind, total, options, winners, tie };
  });
  return { turnout, weighted: rollWeight !== state.roll.size, contests };
}
