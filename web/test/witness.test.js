// The witness policy in the browser: the cosignature corpus the Rust implementation generates
// (specs/vectors/cosignatures.json) gets exactly the same verdicts here, and the rule that
// decides what the witnesses' quorum covers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as c from '../src/crypto.js';
import * as e from '../src/election.js';

const corpus = JSON.parse(readFileSync(new URL('../../specs/vectors/cosignatures.json', import.meta.url)));

test('every cosignature case gets the verdict the Rust verifier gives', () => {
  const key = c.unhex(corpus.board_key);
  const witnesses = corpus.witnesses.map((w) => ({ name: w.name, key: c.unhex(w.key) }));
  assert.ok(corpus.cases.length >= 10);
  for (const k of corpus.cases) {
    let verdict;
    try {
      const cp = e.openCheckpoint(k.note, corpus.origin, key);
      const names = e.cosigners(cp, witnesses);
      verdict = names.length >= corpus.quorum ? { accepted: true, cosigners: names } : { accepted: false, error: 'no-quorum' };
    } catch (ex) {
      verdict = { accepted: false, error: /witness/.test(ex.message) ? 'bad-cosignature' : /board key/.test(ex.message) ? 'bad-signature' : ex.message };
    }
    const want = k.accepted ? { accepted: true, cosigners: k.cosigners } : { accepted: false, error: k.error };
    assert.deepEqual(verdict, want, k.name);
  }
});

test('the quorum covers the quorum-th largest size the witnesses cosigned', () => {
  assert.equal(e.quorumCover([12, 11, 10], 2), 11);
  assert.equal(e.quorumCover([10, 12], 2), 10);
  assert.equal(e.quorumCover([12], 2), null);
  assert.equal(e.quorumCover([7, 7, 7], 3), 7);
});

test('witness checkpoint paths percent-encode like the Rust client', () => {
  assert.equal(e.checkpointPath('vote.example.org/2026/council'), '/checkpoint/vote.example.org/2026/council');
  assert.equal(e.checkpointPath('a b:c+d'), '/checkpoint/a%20b%3Ac%2Bd');
});
