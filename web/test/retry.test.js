// The booth tries again when the board is busy, waiting at least as long as Retry-After asks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchRetrying, retryDelay, MAX_ATTEMPTS } from '../src/retry.js';

test('retry delays honour Retry-After and back off', () => {
  const none = () => 0;
  assert.equal(retryDelay(429, '3', 1, none), 3000);
  assert.equal(retryDelay(503, null, 1, none), 250);
  assert.equal(retryDelay(503, null, 3, none), 1000);
  assert.equal(retryDelay(429, '1', 7, none), 8000);
  // An HTTP date or nonsense is ignored; an absurd wait is capped.
  assert.equal(retryDelay(429, 'Wed, 21 Oct 2015 07:28:00 GMT', 1, none), 250);
  assert.equal(retryDelay(429, '999999', 1, none), 3600 * 1000);
  // Jitter adds at most a quarter of the backoff.
  assert.ok(retryDelay(429, '0', 1, () => 0.999) < 250 + 63);
  // Other answers, and too many attempts, are not retried.
  for (const s of [200, 400, 403, 408, 422, 500]) assert.equal(retryDelay(s, '1', 1, none), null);
  assert.equal(retryDelay(429, '1', MAX_ATTEMPTS, none), null);
});

test('fetchRetrying waits, tells, and returns the answer that is not busy', async () => {
  const answers = [
    { status: 429, headers: new Map([['retry-after', '2']]) },
    { status: 503, headers: new Map() },
    { status: 200, headers: new Map() },
  ];
  let calls = 0;
  const waits = [];
  const told = [];
  const r = await fetchRetrying('/entries', { method: 'POST' }, {
    fetchImpl: async () => answers[calls++],
    sleep: async (ms) => waits.push(ms),
    onWait: (seconds, status) => told.push([seconds, status]),
  });
  assert.equal(r.status, 200);
  assert.equal(calls, 3);
  assert.ok(waits[0] >= 2000 && waits[1] >= 500, String(waits));
  assert.deepEqual(told.map(([, s]) => s), [429, 503]);
  assert.ok(told[0][0] >= 2);
});
