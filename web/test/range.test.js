// Range proofs (§5.4, §6) against the Rust-made vectors, and proofs made here checked here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as c from '../src/crypto.js';
import * as rp from '../src/range.js';

const v = JSON.parse(readFileSync(new URL('../../specs/vectors/range.json', import.meta.url)));
const group = JSON.parse(readFileSync(new URL('../../specs/vectors/group.json', import.meta.url)));

test('nothing-up-my-sleeve generators (§2.4)', () => {
  for (const g of group.nums_generators) assert.equal(c.hex(rp.nums(g.label).toBytes()), g.point);
  assert.equal(c.hex(rp.H.toBytes()), group.H);
});

test('the Rust-made range proofs verify here, and only for their statement', () => {
  const K = c.decodePoint(c.unhex(v.K));
  const ctx = c.unhex(v.ctx);
  for (const k of v.cases) {
    const cts = k.ciphertexts.map((h) => c.decodeCiphertext(new c.Reader(c.unhex(h))));
    const r = new c.Reader(c.unhex(k.proof));
    const p = rp.decodeRange(r);
    r.finish();
    assert.equal(c.hex(rp.encodeRange(p)), k.proof);
    assert.equal(rp.rangeVerify(p, K, cts, k.maxima, ctx), true, `maxima ${k.maxima}`);
    assert.equal(rp.rangeVerify(p, K, cts, k.maxima, c.utf8('elsewhere')), false);
  }
});

test('range proofs made here verify; a value above its maximum cannot be proved', () => {
  const K = c.mulG(c.randomScalar());
  const ctx = c.utf8('ctx');
  const values = [3, 0, 5];
  const nonces = values.map(() => c.randomScalar());
  const cts = values.map((x, i) => c.encrypt(K, x, nonces[i]));
  const p = rp.rangeProve(K, cts, values, nonces, [5, 5, 5], ctx);
  const bytes = rp.encodeRange(p);
  const back = rp.decodeRange(new c.Reader(bytes));
  assert.equal(rp.rangeVerify(back, K, cts, [5, 5, 5], ctx), true);
  assert.equal(rp.rangeVerify(back, K, cts, [5, 5, 4], ctx), false);
  assert.throws(() => rp.rangeProve(K, cts, [6, 0, 5], nonces, [5, 5, 5], ctx));
});
