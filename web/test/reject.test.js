// The rejection corpus (specs/vectors/reject/crypto.json): every case must be refused here too,
// for the reason it names (Ed25519 verification here only says yes or no).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as c from '../src/crypto.js';
import * as rp from '../src/range.js';

const corpus = JSON.parse(readFileSync(new URL('../../specs/vectors/reject/crypto.json', import.meta.url)));
const pt = (h) => c.decodePoint(c.unhex(h));

/** Runs one case; returns the error code this implementation gives (or 'accepted'). */
function run(op, input) {
  const whole = (hex, f) => {
    const r = new c.Reader(c.unhex(hex));
    const v = f(r);
    r.finish();
    return v;
  };
  const code = (err) => {
    const m = /(identity-point|identity-commitment|invalid-point|non-canonical-scalar|truncated|trailing-bytes|shape-mismatch|invalid)/.exec(err.message);
    return m ? m[1] : `unexpected: ${err.message}`;
  };
  try {
    switch (op) {
      case 'decode:Point':
        whole(input, (r) => r.point());
        return 'accepted';
      case 'decode:Scalar':
        whole(input, (r) => r.scalar());
        return 'accepted';
      case 'decode:Ciphertext':
        whole(input, c.decodeCiphertext);
        return 'accepted';
      case 'verify:disjunctive': {
        const p = whole(input.proof, c.decodeDisjunctive);
        const ct = whole(input.ciphertext, c.decodeCiphertext);
        return c.disjunctiveVerify(p, pt(input.K), ct, input.L, c.unhex(input.ctx)) ? 'accepted' : 'proof-invalid';
      }
      case 'verify:chaum_pedersen':
        return c.cpVerify(whole(input.proof, c.decodeCp), pt(input.U), pt(input.X), pt(input.Y), c.unhex(input.ctx)) ? 'accepted' : 'proof-invalid';
      case 'verify:partial_decryption':
        return c.cpVerify(whole(input.proof, c.decodeCp), pt(input.alpha), pt(input.VK), pt(input.D), c.unhex(input.ctx)) ? 'accepted' : 'proof-invalid';
      case 'verify:schnorr': {
        const X = c.decodePoint(c.unhex(input.X));
        return c.schnorrVerify(whole(input.proof, c.decodeSchnorr), X, c.unhex(input.ctx)) ? 'accepted' : 'proof-invalid';
      }
      case 'verify:range': {
        const p = whole(input.proof, rp.decodeRange);
        const cts = input.ciphertexts.map((h) => whole(h, c.decodeCiphertext));
        return rp.rangeVerify(p, pt(input.K), cts, input.maxima, c.unhex(input.ctx)) ? 'accepted' : 'proof-invalid';
      }
      case 'verify:ed25519':
        return c.verifySignature(c.unhex(input.public), c.unhex(input.message), c.unhex(input.signature)) ? 'accepted' : 'rejected';
      default:
        return `unknown op ${op}`;
    }
  } catch (err) {
    return code(err);
  }
}

test('every case of the rejection corpus fails for its named reason', () => {
  const wrong = [];
  for (const k of corpus.cases) {
    const got = run(k.op, k.input);
    const ok = k.op === 'verify:ed25519' ? got === 'rejected' : got === k.error;
    if (!ok) wrong.push(`${k.name}: expected ${k.error}, got ${got}`);
  }
  assert.deepEqual(wrong, []);
});
