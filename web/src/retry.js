// Trying again when the board is busy. The board answers 429 (a budget of specs/board.md §5.1
// is spent) and 503 (at capacity) with Retry-After in whole seconds; the booth waits at least
// that long, backing off, and tells the voter. Resending is safe: submission is idempotent.

export const BUSY = [429, 503];
export const MAX_ATTEMPTS = 8;

/**
 * Milliseconds to wait after attempt `attempt` (1-based) was answered `status` with the
 * Retry-After header value `retryAfter` (a string or null), or null not to try again.
 */
export function retryDelay(status, retryAfter, attempt, random = Math.random) {
  if (!BUSY.includes(status) || attempt >= MAX_ATTEMPTS) return null;
  const backoff = Math.min(8000, 250 * 2 ** (attempt - 1));
  const asked = /^\s*\d+\s*$/.test(retryAfter ?? '') ? Math.min(Number(retryAfter), 3600) * 1000 : 0;
  return Math.max(asked, backoff) + Math.floor((random() * backoff) / 4);
}

/**
 * `fetch`, tried again while the board answers 429 or 503; `onWait(seconds, status)` is called
 * before each wait. Returns the last response.
 */
export async function fetchRetrying(url, init, { onWait, fetchImpl = fetch, sleep = (ms) => new Promise((r) => setTimeout(r, ms)) } = {}) {
  for (let attempt = 1; ; attempt++) {
    const r = await fetchImpl(url, init);
    const wait = retryDelay(r.status, r.headers.get('retry-after'), attempt);
    if (wait === null) return r;
    onWait?.(Math.ceil(wait / 1000), r.status);
    await sleep(wait);
  }
}
