// Fork evidence (specs/board.md §7): two checkpoints signed by the board key that cannot both be
// true of one append-only log. The booth trusts no one's word that the board forked, a
// validating node's included: it reports a fork only on what it proves itself, from the board's
// signatures and the log it downloaded and checked.
import * as c from './crypto.js';
import * as e from './election.js';

/** Most pieces of evidence looked at per node (a node is bounded too, but is not trusted). */
export const MAX_EVIDENCE = 16;

/**
 * Whether a board-signed checkpoint contradicts the log the booth checked (its leaf hashes): it
 * covers no more than the log, and its root is not the root of the log's prefix of that size.
 */
export function contradicts(cp, leaves) {
  return cp.size <= leaves.length && c.hex(e.merkleRoot(leaves.slice(0, cp.size))) !== c.hex(cp.root);
}

/**
 * Checks one piece of evidence a node published (`{ validated, received }`, two notes): it is
 * proof when both notes are signed by the board key and either they state two roots for one size,
 * or one of them contradicts the log the booth checked. Returns the two notes, or null when it
 * proves nothing here (malformed, not signed by the board, or about sizes beyond this log that
 * only a consistency proof could decide).
 */
export function proven(ev, origin, key, leaves) {
  if (!ev || typeof ev.validated !== 'string' || typeof ev.received !== 'string') return null;
  let a;
  let b;
  try {
    a = e.openCheckpoint(ev.validated, origin, key);
    b = e.openCheckpoint(ev.received, origin, key);
  } catch {
    return null;
  }
  const twoRoots = a.size === b.size && c.hex(a.root) !== c.hex(b.root);
  if (!twoRoots && !contradicts(a, leaves) && !contradicts(b, leaves)) return null;
  return { validated: ev.validated, received: ev.received };
}

/** The first piece of a node's `/node/evidence` list that is proof here (null if none is). */
export function firstProven(list, origin, key, leaves) {
  if (!Array.isArray(list)) return null;
  for (const ev of list.slice(0, MAX_EVIDENCE)) {
    const p = proven(ev, origin, key, leaves);
    if (p) return p;
  }
  return null;
}
