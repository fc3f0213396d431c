// Fork evidence in the booth: a node's word is reported only where the board's own signatures
// and the log the booth checked prove it; forged or undecidable evidence is ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from '../src/crypto.js';
import * as e from '../src/election.js';
import * as fork from '../src/fork.js';

const ORIGIN = 'fork.urna.example/2026';
const seed = new Uint8Array(32).fill(7);
const key = c.publicKeyOf(seed);
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

/** A checkpoint note signed by `s` (the board's seed unless another is given). */
function note(size, root, s = seed) {
  const body = `${ORIGIN}\n${size}\n${b64(root)}\n`;
  const id = c.sha256(c.concat(c.utf8(ORIGIN), c.utf8('\n'), Uint8Array.of(1), c.publicKeyOf(s))).subarray(0, 4);
  return `${body}\n\u2014 ${ORIGIN} ${b64(c.concat(id, c.sign(s, c.utf8(body))))}\n`;
}

const leaves = [1, 2, 3, 4, 5].map((i) => e.leafHash(Uint8Array.of(i)));
const other = [1, 3, 2, 4, 5].map((i) => e.leafHash(Uint8Array.of(i)));
const root = (ls, n) => e.merkleRoot(ls.slice(0, n));

test('a checkpoint contradicts the log when its root is not the root of the prefix', () => {
  const cp = (ls, n) => e.openCheckpoint(note(n, root(ls, n)), ORIGIN, key);
  assert.equal(fork.contradicts(cp(leaves, 3), leaves), false);
  assert.equal(fork.contradicts(cp(other, 3), leaves), true);
  assert.equal(fork.contradicts(cp(other, 1), leaves), false, 'one shared first entry');
  assert.equal(fork.contradicts(cp(leaves, 5), leaves.slice(0, 4)), false, 'beyond the log: undecided here');
});

test('evidence against this log, or two roots for one size, is proof', () => {
  const mine = note(4, root(leaves, 4));
  const theirs = note(4, root(other, 4));
  assert.deepEqual(fork.proven({ validated: mine, received: theirs }, ORIGIN, key, leaves), { validated: mine, received: theirs });
  // Either side may be the one this booth was shown.
  assert.ok(fork.proven({ validated: theirs, received: mine }, ORIGIN, key, other));
  // Two roots for one size beyond the log are proof without it.
  assert.ok(fork.proven({ validated: mine, received: theirs }, ORIGIN, key, []));
  // A different size contradicting this log.
  assert.ok(fork.proven({ validated: note(5, root(leaves, 5)), received: note(3, root(other, 3)) }, ORIGIN, key, leaves));
  assert.ok(fork.firstProven([{}, { validated: mine, received: theirs }], ORIGIN, key, leaves));
});

test('forged, malformed or undecidable evidence proves nothing', () => {
  const mine = note(4, root(leaves, 4));
  const forged = note(4, root(other, 4), new Uint8Array(32).fill(9));
  assert.equal(fork.proven({ validated: mine, received: forged }, ORIGIN, key, leaves), null, 'not signed by the board');
  assert.equal(fork.proven({ validated: mine, received: mine }, ORIGIN, key, leaves), null, 'one checkpoint twice');
  assert.equal(fork.proven({ validated: note(3, root(leaves, 3)), received: note(4, root(leaves, 4)) }, ORIGIN, key, leaves), null, 'consistent');
  // Sizes beyond the log, which only a consistency proof could decide.
  assert.equal(fork.proven({ validated: note(4, root(leaves, 4)), received: note(5, root(other, 5)) }, ORIGIN, key, leaves.slice(0, 2)), null);
  for (const bad of [null, 'x', { validated: 1, received: mine }, { validated: 'a', received: 'b' }, { validated: mine }]) {
    assert.equal(fork.proven(bad, ORIGIN, key, leaves), null, JSON.stringify(bad));
  }
  assert.equal(fork.firstProven({ not: 'a list' }, ORIGIN, key, leaves), null);
  assert.equal(fork.firstProven([...Array(fork.MAX_EVIDENCE).fill({}), { validated: mine, received: note(4, root(other, 4)) }], ORIGIN, key, leaves), null, 'bounded');
});
