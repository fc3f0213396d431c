// The booth and the public election pages. Everything the voter is shown is checked here
// first: the board's signature, every entry against the signed Merkle root, the witnesses'
// cosignatures (asked of the witnesses themselves, not taken from the board), and the election
// key recomputed from the trustees' commitments. A ballot's standing and the result are shown
// only from the log the witness quorum covers. Ballots are encrypted and proved on this device;
// the board only ever sees ciphertexts.

import * as c from './crypto.js';
import * as e from './election.js';
import * as fork from './fork.js';
import * as l from './light.js';
import { pickLanguage, t, TAGS } from './i18n.js';
import { fetchRetrying } from './retry.js';
import { readQrFromImage, startCamera } from './qr.js';
import * as pub from './public.js';
import * as s from './standing.js';

const $ = (id) => document.getElementById(id);
let lang = pickLanguage(localStorage.getItem('urna-lang'), navigator.languages);
let board = null; // { origin, key, note, cp, entries, leaves, state, covered: { size, state, vouchers, withholding, unanswered } }
// The booth's light session (specs/board.md §5.2): what voting needs, without the log.
let session = null; // { origin, key, state, view, cp, note, info, cosigned, withholding }
// The public pages read the whole log only when the reader asks for it (`full`); otherwise they
// read what they show, each piece proven in the cosigned checkpoint (./public.js).
let full = false;

/** A failure the voter is told about in their language (`key` in the catalogue). */
class Failure extends Error {
  constructor(key, vars = {}, detail = '') {
    super(detail || key);
    this.key = key;
    this.vars = vars;
  }
}

function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'on') for (const [ev, f] of Object.entries(v)) n.addEventListener(ev, f);
    else if (v !== false && v !== undefined && v !== null) n.setAttribute(k, v === true ? '' : v);
  }
  for (const ch of children.flat()) if (ch !== null && ch !== undefined && ch !== false) n.append(ch);
  return n;
}

const tr = (key, vars) => t(lang, key, vars);
const tag = () => TAGS[lang];
const list = (items) => items.join(tr('listSep'));

// ---- texts from the manifest, in the voter's language (specs/election.md §2.4) ----

const electionTitle = (m) => e.pickText(m.title, m.titles, tag());
const contestTitle = (contest) => e.pickText(contest.title, contest.titles, tag());
const styleName = (style) => e.styleName(style, tag());
/** A referendum's fixed options are named in the interface's words, others by the manifest. */
const optionName = (contest, o) => (contest.kind === 'referendum' ? tr(`option-${o.id}`) : e.pickText(o.name, o.names, tag()));
const phaseName = (phase) => tr(`phase-${phase}`);

/** A tracking code whose groups never break inside; lines break only between groups. */
function codeEl(code, attrs = {}) {
  const groups = code.split('-');
  const parts = [];
  groups.forEach((g, i) => {
    parts.push(el('span', { class: 'group' }, i < groups.length - 1 ? `${g}-` : g));
    if (i < groups.length - 1) parts.push(el('wbr'));
  });
  return el('span', { class: 'code', ...attrs }, parts);
}

/**
 * A fork: two checkpoints signed by the board that cannot both be true, each `{ key, vars, note }`
 * (what it is, in the catalogue, and the signed note itself), shown as the evidence.
 */
class Forked extends Failure {
  constructor(key, vars, detail, first, second) {
    super(key, vars, detail);
    this.evidence = [first, second];
  }
}

/** A technical account, folded away behind a "details" disclosure. */
const details = (...children) => el('details', { class: 'details' }, el('summary', {}, tr('details')), ...children);

// ---- the status line: only what is happening now (loading, waiting, a failure) ----

function say(key, vars, cls) {
  const st = $('status');
  st.replaceChildren(key ? tr(key, vars) : '');
  st.className = cls || '';
}

function sayFailure(ex) {
  const st = $('status');
  st.className = 'error';
  if (ex instanceof Forked) {
    // The evidence, for the voter to pass on: both signed checkpoints, verbatim.
    st.replaceChildren(el('div', { id: 'fork' }, el('span', {}, tr(ex.key, ex.vars)),
      details(el('p', {}, tr('forkBoth')),
        ex.evidence.flatMap((ev) => [el('p', {}, tr(ev.key, ev.vars)), el('pre', { class: 'checkpoint' }, ev.note.trimEnd())]))));
  } else if (ex instanceof Failure) st.replaceChildren(el('span', {}, tr(ex.key, ex.vars)), ex.message !== ex.key ? details(el('p', {}, ex.message)) : null);
  else st.replaceChildren(el('span', {}, tr('failedUnknown')), details(el('p', {}, ex.message)));
}

// While the board is busy (429, 503) the voter is told, and the request is sent again.
const busy = (seconds) => say('busy', { seconds }, 'hint');
const fetchBusy = (path, init) => fetchRetrying(path, init, { onWait: busy });

async function fetchBytes(path) {
  const r = await fetchBusy(path);
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** How long the board's cosigned checkpoint may trail the witnesses' before it is withholding. */
const WITHHOLDING_GRACE_MS = 15000;

/**
 * Asks one witness the manifest names for its latest cosigned checkpoint of this log, checked:
 * signed by the board, carrying this witness's valid cosignature. `{ name, cp }` (cp null if it
 * has cosigned nothing yet) or `{ name, error }`.
 */
async function askWitness(w, manifest, key) {
  try {
    const r = await fetch(`${w.url.replace(/\/+$/, '')}${e.checkpointPath(manifest.electionId)}`, { cache: 'no-store' });
    if (r.status === 404) return { name: w.name, cp: null };
    if (!r.ok) return { name: w.name, error: `${r.status}` };
    const note = await r.text();
    const cp = e.openCheckpoint(note, manifest.electionId, key);
    if (!e.cosigners(cp, manifest.witnesses).includes(w.name)) throw new Error('no cosignature by this witness');
    return { name: w.name, cp, note };
  } catch (ex) {
    return { name: w.name, error: ex.message };
  }
}

/** How long a node may take to list its evidence, and how much of it is read. */
const EVIDENCE_TIMEOUT_MS = 10000;
const EVIDENCE_LIMIT = 1 << 20;

/**
 * The fork evidence a validating node publishes (`/node/evidence`), as a list; a node that cannot
 * be asked in time, or answers too much, shows none (what it cosigned is asked of it separately).
 */
async function askEvidence(w) {
  try {
    const r = await fetch(`${w.url.replace(/\/+$/, '')}/node/evidence`, { cache: 'no-store', signal: AbortSignal.timeout(EVIDENCE_TIMEOUT_MS) });
    const text = r.ok ? await r.text() : '[]';
    return { name: w.name, list: text.length <= EVIDENCE_LIMIT ? JSON.parse(text) : [] };
  } catch {
    return { name: w.name, list: [] };
  }
}

/** The board's `/checkpoint/cosigned`, checked against the policy and the log (null if none). */
async function boardCosigned(manifest, key, leaves, boardNote) {
  const r = await fetchBusy('/checkpoint/cosigned', { cache: 'no-store' });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`/checkpoint/cosigned: ${r.status}`);
  const note = await r.text();
  const cp = e.openCheckpoint(note, manifest.electionId, key);
  const names = e.cosigners(cp, manifest.witnesses);
  if (names.length < manifest.witnessQuorum) throw new Failure('errSignature', {}, 'the board’s cosigned checkpoint lacks the witness quorum');
  if (cp.size > leaves.length) return { size: cp.size, names, beyond: true };
  if (fork.contradicts(cp, leaves)) {
    throw new Forked('errForked', {}, 'the board’s cosigned checkpoint is not a prefix of the log it serves',
      { key: 'forkBoardCosigned', vars: {}, note }, { key: 'forkBoardServes', vars: {}, note: boardNote });
  }
  return { size: cp.size, names };
}

/**
 * What the witnesses say of the log (specs/board.md §6.2): each answer must be a prefix of the
 * log; their quorum covers the quorum-th largest size they cosigned; the board's cosigned
 * checkpoint must be at least that new (after a grace), or the board is withholding. The newest
 * covered checkpoint is the larger of the two.
 */
async function witnessView(manifest, key, leaves, answers, boardNote) {
  for (const a of answers) {
    if (!a.cp) continue;
    if (a.cp.size > leaves.length) throw new Failure('errRolledBack', {}, `witness ${a.name} has cosigned ${a.cp.size} entries but the board serves only ${leaves.length}`);
    if (fork.contradicts(a.cp, leaves)) {
      throw new Forked('errForked', {}, `witness ${a.name} cosigned a checkpoint that is not a prefix of the log the board serves`,
        { key: 'forkCosignedBy', vars: { name: a.name }, note: a.note }, { key: 'forkBoardServes', vars: {}, note: boardNote });
    }
  }
  const sizes = answers.filter((a) => a.cp).map((a) => a.cp.size);
  const cover = e.quorumCover(sizes, manifest.witnessQuorum);
  const started = Date.now();
  let fromBoard = await boardCosigned(manifest, key, leaves, boardNote);
  while (cover !== null && !fromBoard?.beyond && (fromBoard?.size ?? -1) < cover && Date.now() - started < WITHHOLDING_GRACE_MS) {
    await new Promise((done) => setTimeout(done, 500));
    fromBoard = await boardCosigned(manifest, key, leaves, boardNote);
  }
  const usable = fromBoard && !fromBoard.beyond ? fromBoard : null;
  const withholding = cover !== null && !fromBoard?.beyond && (usable?.size ?? -1) < cover ? { witnesses: cover, board: usable ? usable.size : null } : null;
  const size = Math.max(usable ? usable.size : 0, cover ?? 0);
  const vouchers = answers.filter((a) => a.cp && a.cp.size >= size).map((a) => a.name);
  for (const n of usable && usable.size === size ? usable.names : []) if (!vouchers.includes(n)) vouchers.push(n);
  return { size, vouchers, withholding, unanswered: answers.filter((a) => a.error) };
}

/**
 * Downloads the log through the entry tiles and checks it against the signed checkpoint. When the
 * manifest names witnesses they are asked first, so the log served afterwards must hold all they
 * cosigned; ballots' standing is then decided on the newest checkpoint their quorum covers.
 */
async function loadBoard() {
  const info = await (await fetchBusy('/info')).json();
  const first = await fetchBytes('/entries/0');
  const manifest = e.decodeManifest(e.parseEntry(first).payload);
  // The board key is the one the manifest (entry 0, under the signed root) names.
  const key = manifest.boardKey;
  if (info.board_key !== c.hex(key)) throw new Failure('errBoardKey');
  const [answers, evidence] = await Promise.all([
    Promise.all(manifest.witnesses.map((w) => askWitness(w, manifest, key))),
    Promise.all(manifest.witnesses.filter((w) => w.role === 'node').map(askEvidence)),
  ]);
  const note = await (await fetchBusy('/checkpoint', { cache: 'no-store' })).text();
  let cp;
  try {
    cp = e.openCheckpoint(note, manifest.electionId, key);
  } catch (ex) {
    throw new Failure('errSignature', {}, ex.message);
  }
  const entries = [];
  for (let n = 0; entries.length < cp.size; n++) {
    const w = Math.min(256, cp.size - n * 256);
    const path = `/tile/entries/${e.tileIndex(n)}${w === 256 ? '' : `.p/${w}`}`;
    entries.push(...e.parseBundle(await fetchBytes(path)));
  }
  if (entries.length === 0 || c.hex(entries[0]) !== c.hex(first)) throw new Failure('errForked', {}, 'the board served two different first entries');
  const leaves = entries.map(e.leafHash);
  if (c.hex(e.merkleRoot(leaves)) !== c.hex(cp.root)) throw new Failure('errSignature', {}, 'the entries do not match the signed root');
  const state = e.electionState(entries);
  // Without witnesses the board's signature is the whole policy; with them, what they cover.
  let covered = { size: cp.size, state, vouchers: [], withholding: null, unanswered: [] };
  if (manifest.witnesses.length > 0) {
    const view = await witnessView(manifest, key, leaves, answers, note);
    covered = { ...view, state: view.size === cp.size ? state : view.size > 0 ? e.electionState(entries.slice(0, view.size)) : null };
  }
  // A node's evidence is reported only where it proves a fork against this very log.
  for (const { name, list } of evidence) {
    const p = fork.firstProven(list, manifest.electionId, key, leaves);
    if (p) {
      throw new Forked('errForkEvidence', { name }, `validating node ${name} published two checkpoints signed by the board that cannot both be true`,
        { key: 'forkValidated', vars: { name }, note: p.validated }, { key: 'forkReceived', vars: {}, note: p.received });
    }
  }
  board = { origin: manifest.electionId, key, note, cp, entries, leaves, state, covered };
}

// ---- the light session: what the voter's ballot depends on, without the log ----

/** A light view that does not check out, in the voter's words (its code in the details). */
function viewFailure(ex) {
  if (!(ex instanceof l.ViewError)) return ex;
  if (ex.code === 'checkpoint' || ex.code === 'no-quorum') return new Failure('errSignature', {}, ex.message);
  if (ex.code === 'not-extending') return new Failure('errNotExtending', {}, ex.message);
  return new Failure('errView', { code: ex.code }, ex.message);
}

/** The board's RFC 9162 consistency proof from size `m` to size `n` (none needed when equal or from 0). */
async function consistencyProof(m, n) {
  if (m === 0 || m >= n) return [];
  const r = await fetchBusy(`/consistency/${m}/${n}`, { cache: 'no-store' });
  if (!r.ok) throw new Failure('errView', { code: 'malformed' }, `/consistency/${m}/${n}: ${r.status}`);
  return l.parseConsistency(await r.json(), m, n);
}

/**
 * The first piece of a node's fork evidence (specs/board.md §7) that is proof against the
 * checkpoint `cp` this booth checked, without the log: both notes signed by the board, and either
 * two roots for one size, or one note that `cp` does not extend (the board's consistency proof
 * does not verify). Null if none is.
 */
async function provenLight(list, origin, key, cp) {
  if (!Array.isArray(list)) return null;
  for (const ev of list.slice(0, fork.MAX_EVIDENCE)) {
    if (!ev || typeof ev.validated !== 'string' || typeof ev.received !== 'string') continue;
    let a;
    let b;
    try {
      a = e.openCheckpoint(ev.validated, origin, key);
      b = e.openCheckpoint(ev.received, origin, key);
    } catch {
      continue;
    }
    if (a.size === b.size && c.hex(a.root) !== c.hex(b.root)) return ev;
    for (const x of [a, b]) {
      if (x.size > cp.size) continue;
      const r = await fetchBusy(`/consistency/${x.size}/${cp.size}`, { cache: 'no-store' });
      // No answer proves nothing; only a proof that does not verify does.
      if (!r.ok) continue;
      const proof = await r.json().catch(() => null);
      let ok = false;
      try {
        ok = l.verifyConsistency(x.size, cp.size, x.size === 0 || x.size === cp.size ? [] : l.parseConsistency(proof, x.size, cp.size), x.root, cp.root);
      } catch {
        ok = false;
      }
      if (!ok) return ev;
    }
  }
  return null;
}

/**
 * Reads and checks the voter's view of the board (`GET /voter/<credential>`; the all-zero key
 * before the voter gives theirs, which gets the election's entries only): the manifest read first
 * (entry 0, which the view must prove), the checkpoint under the board's key, every inclusion
 * proof, the ceremony through the rules, the phase, the credential's entries (src/light.js).
 * Every checkpoint a witness cosigned, and the board's quorum-cosigned one, must be extended by
 * the view's (consistency proofs), as must the view this booth checked before. Other voters'
 * ballots are not downloaded.
 */
async function loadLight(cred) {
  const info = await (await fetchBusy('/info')).json();
  const first = await fetchBytes('/entries/0');
  const manifest = e.decodeManifest(e.parseEntry(first).payload);
  const key = manifest.boardKey;
  const origin = manifest.electionId;
  if (info.board_key !== c.hex(key)) throw new Failure('errBoardKey');
  // The public pages also read the validating nodes' fork evidence, as the whole log's did.
  const evidence = current() === 'vote' ? Promise.resolve([]) : Promise.all(manifest.witnesses.filter((w) => w.role === 'node').map(askEvidence));
  const answers = await Promise.all(manifest.witnesses.map((w) => askWitness(w, manifest, key)));
  const r = await fetchBusy(`/voter/${c.hex(cred ?? new Uint8Array(32))}`, { cache: 'no-store' });
  if (!r.ok) throw new Failure('errView', { code: 'malformed' }, `/voter: ${r.status}`);
  let view;
  try {
    view = l.checkView(await r.json().catch(() => null), origin, key, cred);
    if (c.hex(view.setup) !== c.hex(first)) throw new Failure('errForked', {}, 'the board served two different first entries');
    if (session && session.origin === origin) l.checkExtends(session.cp, view.cp, await consistencyProof(session.cp.size, view.cp.size));
  } catch (ex) {
    throw viewFailure(ex);
  }
  const extending = async (cp, name, cpNote) => {
    if (cp.size > view.cp.size) throw new Failure('errRolledBack', {}, `${name} has cosigned ${cp.size} entries but the board's checkpoint covers only ${view.cp.size}`);
    try {
      l.checkExtends(cp, view.cp, await consistencyProof(cp.size, view.cp.size));
    } catch (ex) {
      if (!(ex instanceof l.ViewError) || ex.code !== 'not-extending') throw viewFailure(ex);
      throw new Forked('errForked', {}, `${name} cosigned a checkpoint that the board's does not extend`, { key: name === 'the board' ? 'forkBoardCosigned' : 'forkCosignedBy', vars: { name }, note: cpNote }, { key: 'forkBoardServes', vars: {}, note: view.note });
    }
  };
  for (const a of answers) if (a.cp) await extending(a.cp, `witness ${a.name}`, a.note);
  let cosigned = null;
  let withholding = null;
  if (manifest.witnesses.length > 0) {
    const readCosigned = async () => {
      const rc = await fetchBusy('/checkpoint/cosigned', { cache: 'no-store' });
      if (rc.status === 404) return null;
      if (!rc.ok) throw new Error(`/checkpoint/cosigned: ${rc.status}`);
      const cosignedNote = await rc.text();
      let checked;
      try {
        checked = l.checkCosigned(cosignedNote, manifest, key);
      } catch (ex) {
        throw viewFailure(ex);
      }
      // Newer than the view: the board moved on in between, and nothing is decided on it here.
      if (checked.cp.size > view.cp.size) return null;
      await extending(checked.cp, 'the board', cosignedNote);
      return { ...checked, note: cosignedNote };
    };
    cosigned = await readCosigned();
    // What the witnesses' quorum covers must be in the board's cosigned checkpoint (after a
    // grace for the board to collect the cosignatures): else the board withholds it.
    const cover = e.quorumCover(answers.filter((a) => a.cp).map((a) => a.cp.size), manifest.witnessQuorum);
    const started = Date.now();
    while (cover !== null && (cosigned?.cp.size ?? -1) < cover && Date.now() - started < WITHHOLDING_GRACE_MS) {
      await new Promise((done) => setTimeout(done, 500));
      cosigned = await readCosigned();
    }
    if (cover !== null && (cosigned?.cp.size ?? -1) < cover) withholding = { witnesses: cover, board: cosigned?.cp.size ?? 0 };
    const vouchers = answers.filter((a) => a.cp && cosigned && a.cp.size >= cosigned.cp.size).map((a) => a.name);
    for (const n of cosigned?.names ?? []) if (!vouchers.includes(n)) vouchers.push(n);
    if (cosigned) cosigned.vouchers = vouchers;
  }
  for (const { name, list } of await evidence) {
    const p = await provenLight(list, origin, key, view.cp);
    if (p) {
      throw new Forked('errForkEvidence', { name }, `validating node ${name} published two checkpoints signed by the board that cannot both be true`,
        { key: 'forkValidated', vars: { name }, note: p.validated }, { key: 'forkReceived', vars: {}, note: p.received });
    }
  }
  const unanswered = answers.filter((a) => a.error);
  session = { origin, key, state: view.state, view, cp: view.cp, note: view.note, info, cosigned, withholding, unanswered };
}

const witnessed = (from = board) => from.state.manifest.witnesses.length > 0;

/** What this browser checked, in plain words; the technical account behind "details". */
function checkedLines() {
  const m = board.state.manifest;
  const lines = [el('p', { id: 'checked' }, tr('checked'), details(el('p', {}, tr('checkedDetails', { size: board.cp.size }))))];
  if (!witnessed()) return lines;
  const { size, vouchers, withholding, unanswered } = board.covered;
  if (withholding) {
    lines.push(el('p', { class: 'error', role: 'alert', id: 'withholding' }, tr('withholding', { witnesses: withholding.witnesses, board: withholding.board ?? 0 })));
  } else if (size > 0) {
    lines.push(el('p', { class: 'ok', id: 'cosigned' }, tr('cosigned', { size }),
      details(el('p', {}, tr('cosignedDetails', { size, names: list(vouchers), got: vouchers.length, need: m.witnessQuorum })))));
  }
  if (size < board.cp.size) lines.push(el('p', { class: 'note' }, tr('notCosigned', { size })));
  for (const u of unanswered) lines.push(el('p', { class: 'hint' }, tr('witnessUnanswered', { name: u.name, error: u.error })));
  return lines;
}

const verifyCommand = () => `urna verify --board ${location.origin}`;

// ---- the public election page ----

function renderPage() {
  if (!full) return renderPageLight();
  const view = $('page-view');
  view.replaceChildren();
  if (!board) return;
  const { state } = board;
  const m = state.manifest;
  view.append(el('h2', { id: 'page-heading' }, electionTitle(m)));
  view.append(el('p', { id: 'phase' }, tr('phase', { phase: phaseName(state.phase) })));
  view.append(el('p', { id: 'counts' }, tr('counts', { ballots: state.ballots.filter((b) => b.kind === e.KIND.Ballot).length, voters: state.roll.size })));
  view.append(...checkedLines());
  view.append(lookupForm());
  view.append(el('p', {}, el('a', { href: '#ballots' }, tr('navBallots')), ' · ', el('a', { href: '#results' }, tr('navResults'))));
  view.append(el('p', { class: 'hint' }, tr('verifyYourself', { command: verifyCommand() })));
}

function lookupForm() {
  const input = el('input', { type: 'text', id: 'lookup-code', 'aria-describedby': 'lookup-help lookup-result', autocomplete: 'off', spellcheck: 'false' });
  const out = el('p', { id: 'lookup-result', role: 'status', 'aria-live': 'polite' });
  const submit = (ev) => {
    ev.preventDefault();
    out.textContent = '';
    Promise.resolve(full && board ? lookup(input.value) : lookupLight(input.value))
      .then((said) => { out.textContent = said; })
      .catch((ex) => { out.textContent = ex instanceof Failure ? tr(ex.key, ex.vars) : tr('failedUnknown'); });
  };
  return el('form', { id: 'lookup', on: { submit } },
    el('label', { for: 'lookup-code' }, tr('lookup')), el('p', { class: 'hint', id: 'lookup-help' }, tr(full ? 'lookupHelp' : 'lookupHelpLight')),
    el('div', { class: 'row' }, input, el('button', { type: 'submit', id: 'lookup-button' }, tr('lookupButton'))), out);
}

/** Every ballot's standing on the log the witness quorum covers (specs/board.md §6.2). */
const standings = () => s.standings(board.state, board.covered);

/** A ballot's standing in one sentence. */
function lookup(code) {
  const found = s.find(board.state, code);
  if (found.length > 1) return tr('lookupAmbiguous');
  if (found.length === 0) return tr('lookupMissing');
  const st = standings().find((x) => x.index === found[0].index);
  switch (st.status) {
    case 'withheld': return tr('lookupWithholding', { index: st.index });
    case 'pending': return tr('lookupPending', { index: st.index, size: board.covered.size });
    case 'unconfirmed': return tr('lookupNotCovered', { index: st.index, size: board.covered.size });
    case 'challenged': return tr('lookupChallenged', { index: st.index });
    case 'superseded': return tr('lookupSuperseded', { index: st.index, by: st.by }) + (st.final ? tr('final') : '');
    default: return tr('lookupCounted', { index: st.index }) + (st.final ? tr('final') : '');
  }
}

// ---- the ballot-tracking page: every ballot, paginated and searchable ----

/** Ballots per page of the tracking list: 20, or `?per=N` (1–500) for a shorter or whole list. */
const PAGE = (() => {
  const n = Number(new URLSearchParams(location.search).get('per'));
  return Number.isInteger(n) && n >= 1 && n <= 500 ? n : 20;
})();
let tracking = { query: '', page: 0 };

function standingText(st) {
  switch (st.status) {
    case 'superseded': return tr('stSuperseded', { by: st.by });
    case 'challenged': return tr('stChallenged');
    case 'pending': return tr('stPending');
    case 'unconfirmed': return tr('stUnconfirmed');
    case 'withheld': return tr('stWithheld');
    default: return tr('stCounted');
  }
}

function renderBallots() {
  if (!full) return renderBallotsLight();
  const view = $('ballots-view');
  view.replaceChildren();
  if (!board) return;
  view.append(el('h2', { id: 'ballots-heading' }, tr('ballotsHeading')), el('p', {}, tr('ballotsIntro')));
  view.append(...checkedLines());
  const search = el('input', { type: 'search', id: 'ballots-search', value: tracking.query, autocomplete: 'off', spellcheck: 'false', 'aria-controls': 'ballots-table' });
  const area = el('div', { id: 'ballots-list' });
  const all = standings().reverse();
  const draw = () => {
    const rows = s.filter(all, tracking.query);
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    tracking.page = Math.min(tracking.page, pages - 1);
    const shown = rows.slice(tracking.page * PAGE, (tracking.page + 1) * PAGE);
    area.replaceChildren(el('p', { id: 'ballots-count', role: 'status', 'aria-live': 'polite' },
      all.length === 0 ? tr('ballotsEmpty') : rows.length === 0 ? tr('ballotsNone') : tr('ballotsShown', { shown: rows.length, total: all.length })));
    if (shown.length > 0) {
      area.append(el('table', { id: 'ballots-table', class: 'ballots', 'aria-labelledby': 'ballots-heading' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, tr('colEntry')), el('th', { scope: 'col' }, tr('colCode')), el('th', { scope: 'col' }, tr('colStanding')))),
        el('tbody', {}, shown.map((st) => el('tr', { 'data-status': st.status },
          el('td', { class: 'n' }, String(st.index)), el('td', {}, codeEl(st.code)), el('td', {}, standingText(st)))))));
    }
    if (pages > 1) {
      const go = (d) => () => { tracking.page += d; draw(); $('ballots-count').focus?.(); };
      area.append(el('nav', { class: 'pages', 'aria-label': tr('pageOf', { page: tracking.page + 1, pages }) },
        el('button', { type: 'button', id: 'page-prev', class: 'secondary', disabled: tracking.page === 0, on: { click: go(-1) } }, tr('pagePrev')),
        el('span', { id: 'page-of' }, tr('pageOf', { page: tracking.page + 1, pages })),
        el('button', { type: 'button', id: 'page-next', class: 'secondary', disabled: tracking.page >= pages - 1, on: { click: go(1) } }, tr('pageNext'))));
    }
  };
  search.addEventListener('input', () => { tracking = { query: search.value, page: 0 }; draw(); });
  view.append(el('form', { role: 'search', on: { submit: (ev) => ev.preventDefault() } }, el('label', { for: 'ballots-search' }, tr('ballotsSearch')), search), area);
  draw();
  view.append(lookupForm());
}

// ---- the result: turnout, counts, shares and winners; printable as the official record ----

function renderResults() {
  if (!full) return renderResultsLight();
  const view = $('results-view');
  view.replaceChildren();
  if (!board) return;
  const m = board.state.manifest;
  view.append(el('h2', { id: 'results-heading' }, `${tr('resultHeading')}: ${electionTitle(m)}`));
  const { size, state } = board.covered;
  const resultEntry = board.entries.slice(0, size).map(e.parseEntry).find((x) => x.kind === e.KIND.Result);
  // The result is shown once the covered log finishes the election: the homomorphic Result
  // (if some contest has one) and every ranked contest's count.
  if (state.phase !== 'finished') {
    const onBoard = board.state.phase === 'finished';
    const ranked = m.contests.some((x) => x.ranked) && board.state.phase === 'tallying';
    view.append(el('p', { id: 'result-missing' }, onBoard ? tr('resultPending') : `${tr('resultNotYet')} ${tr('phase', { phase: phaseName(board.state.phase) })}${ranked ? ` ${tr('resultNotCounted')}` : ''}`));
    view.append(...checkedLines());
    return;
  }
  const r = s.summary(state, resultEntry ? e.decodeResult(resultEntry.payload) : []);
  view.append(el('p', { id: 'turnout' }, tr('turnout', { counted: r.turnout.counted, roll: r.turnout.roll, percent: r.turnout.percent.toFixed(1) })));
  if (r.weighted) view.append(el('p', { id: 'weighted', class: 'note' }, tr('weighted', { total: r.turnout.rollWeight })));
  r.contests.forEach((cr, ci) => {
    const contest = m.contests[ci];
    if (contest.ranked) {
      view.append(rankedResult(contest, ci, state.rankedCounts.get(ci)));
      return;
    }
    view.append(contestSection(contest, cr, ci));
  });
  const root = c.hex(e.merkleRoot(board.leaves.slice(0, size)));
  view.append(recordSection(size, root));
  view.append(el('button', { type: 'button', id: 'print', class: 'secondary no-print', on: { click: () => window.print() } }, tr('print')));
}

/** One contest counted homomorphically: each option's count and share, and the outcome. */
function contestSection(contest, cr, ci) {
  const name = (id) => optionName(contest, contest.options.find((o) => o.id === id));
  let outcome;
  if (cr.kind === 'referendum') outcome = cr.winners[0] === 'yes' ? tr('outAdopted') : cr.winners[0] === 'no' ? tr('outRejected') : cr.tie ? tr('outTied') : tr('outNone');
  else if (cr.winners.length === 0) outcome = tr('outNone');
  else if (cr.winners.length === 1) outcome = tr('outWinner', { name: name(cr.winners[0]) });
  else outcome = tr('outTie', { names: list(cr.winners.map(name)) });
  const hid = `contest-${ci}`;
  return el('section', { class: 'contest-result', 'aria-labelledby': hid },
    el('h3', { id: hid }, contestTitle(contest)),
    el('p', { class: 'hint' }, tr(`rule-${cr.kind}`)),
    el('table', { class: 'result', 'aria-labelledby': hid },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, tr('colOption')), el('th', { scope: 'col', class: 'n' }, tr(`col-${cr.kind}`)),
        el('th', { scope: 'col', class: 'n' }, tr('colShare')), cr.kind === 'referendum' ? null : el('th', { scope: 'col' }, tr('colWinner')))),
      el('tbody', {}, cr.options.map((o, k) => {
        // A referendum has an outcome, said below, not a winning option.
        const won = cr.kind !== 'referendum' && cr.winners.includes(o.id);
        return el('tr', { class: won ? 'won' : null },
          el('th', { scope: 'row' }, optionName(contest, contest.options[k])), el('td', { class: 'n' }, String(o.count)),
          el('td', { class: 'n' }, `${o.percent.toFixed(1)}%`), cr.kind === 'referendum' ? null : el('td', {}, won ? `✓ ${tr('winner')}` : ''));
      }))),
    el('p', { class: 'outcome' }, outcome));
}

/** The official record: the election, the checkpoint the result is read from, how to verify it. */
function recordSection(size, root) {
  const command = `${verifyCommand()} --final`;
  return el('section', { class: 'record', 'aria-labelledby': 'record-heading' },
    el('h3', { id: 'record-heading' }, tr('officialRecord')),
    el('p', {}, tr('recordElection', { id: (full && board ? board : session).origin })),
    el('p', {}, tr('recordCheckpoint', { size }), el('br'), el('code', { class: 'hash', id: 'record-root' }, root)),
    el('p', {}, tr('recordVerify'), el('br'), el('code', { id: 'record-command' }, command)),
    el('p', { class: 'hint' }, tr('recordPrinted', { date: new Date().toLocaleString(TAGS[lang]) })));
}

/** A ranked contest's published count: the ballots, every round (IRV, STV) or the pairwise matrix (Schulze), and who is elected. */
function rankedResult(contest, ci, count) {
  const hid = `contest-${ci}`;
  const section = el('section', { class: 'contest-result ranked-result', 'aria-labelledby': hid },
    el('h3', { id: hid }, contestTitle(contest)),
    el('p', { class: 'hint' }, tr(`rule-ranked-${contest.ranked.method}`, { seats: contest.ranked.seats })));
  if (!count) return section;
  const name = (k) => {
    const cand = count.candidates[k];
    return cand.writeIn !== undefined ? tr('writeInMark', { name: cand.writeIn }) : optionName(contest, contest.options[cand.option]);
  };
  const counted = count.rows - count.blank - count.invalid.length;
  section.append(el('p', { class: 'ranked-ballots' }, tr('rankedBallots', { rows: count.rows, counted, blank: count.blank, invalid: count.invalid.length })));
  const elected = new Set(count.elected);
  if (count.rounds) {
    const votes = (v) => (count.unit === 1n ? String(v) : (Number(v) / Number(count.unit)).toFixed(5));
    if (contest.ranked.method === 'stv') section.append(el('p', {}, tr('quota', { quota: votes(count.quota) })));
    const cap = `rounds-${ci}`;
    section.append(el('div', { class: 'scroll' }, el('table', { class: 'result rounds', id: cap, 'aria-labelledby': hid },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, tr('colCandidate')), count.rounds.map((_, i) => el('th', { scope: 'col', class: 'n' }, tr('colRound', { n: i + 1 }))))),
      el('tbody', {}, count.candidates.map((_, k) => el('tr', { class: elected.has(k) ? 'won' : null },
        el('th', { scope: 'row' }, elected.has(k) ? `✓ ${name(k)}` : name(k)), count.rounds.map((rd) => el('td', { class: 'n' }, votes(rd.tallies[k]))))),
        el('tr', { class: 'exhausted' }, el('th', { scope: 'row' }, tr('exhausted')), count.rounds.map((rd) => el('td', { class: 'n' }, votes(rd.exhausted))))))));
    section.append(el('ol', { class: 'round-notes' }, count.rounds.map((rd, i) => {
      const what = rd.action === 'first' ? tr('roundFirst', { n: i + 1 })
        : rd.action === 'exclusion' ? tr('roundExcluded', { n: i + 1, name: name(rd.candidate) }) : tr('roundSurplus', { n: i + 1, name: name(rd.candidate) });
      return el('li', {}, rd.elected.length ? `${what} ${tr('roundElected', { names: list(rd.elected.map(name)) })}` : what);
    })));
  } else {
    const n = count.candidates.length;
    section.append(el('div', { class: 'scroll' }, el('table', { class: 'result pairwise', id: `pairwise-${ci}` },
      el('caption', {}, tr('pairwiseCaption')),
      el('thead', {}, el('tr', {}, el('td', {}), count.candidates.map((_, j) => el('th', { scope: 'col', class: 'n' }, name(j))))),
      el('tbody', {}, [...Array(n).keys()].map((i) => el('tr', { class: elected.has(i) ? 'won' : null }, el('th', { scope: 'row' }, name(i)),
        [...Array(n).keys()].map((j) => el('td', { class: 'n' }, i === j ? '—' : String(count.d[i][j])))))))));
    section.append(el('p', {}, tr('schulzeOrder', { names: count.order.map(name).join(' > ') })));
  }
  section.append(el('p', { class: 'outcome' }, count.elected.length ? tr('outElected', { names: list(count.elected.map(name)) }) : tr('outNone')));
  return section;
}

// ---- the public pages, light: what each shows, proven in the cosigned checkpoint ----

/** The prefix the public pages decide on: the board's quorum-cosigned checkpoint (its latest signed one when the manifest names no witness). */
const coveredSize = () => (witnessed(session) ? session.cosigned?.cp.size ?? 0 : session.cp.size);
/** The receipt query for the covered checkpoint. */
const coveredQuery = () => (witnessed(session) ? '?cosigned=true' : '');

/** What this browser checked for the light pages, and what it leaves to the observers. */
function lightCheckedLines() {
  const m = session.state.manifest;
  const lines = [el('p', { id: 'checked' }, tr('publicChecked'), details(el('p', {}, tr('publicCheckedDetails', { size: session.cp.size }))))];
  if (!witnessed(session)) return lines;
  const size = coveredSize();
  if (session.withholding) {
    lines.push(el('p', { class: 'error', role: 'alert', id: 'withholding' }, tr('withholding', { witnesses: session.withholding.witnesses, board: session.withholding.board })));
  } else if (size > 0) {
    const vouchers = session.cosigned.vouchers;
    lines.push(el('p', { class: 'ok', id: 'cosigned' }, tr('cosigned', { size }),
      details(el('p', {}, tr('cosignedDetails', { size, names: list(vouchers), got: vouchers.length, need: m.witnessQuorum })))));
  }
  if (size < session.cp.size) lines.push(el('p', { class: 'note' }, tr('notCosigned', { size })));
  for (const u of session.unanswered) lines.push(el('p', { class: 'hint' }, tr('witnessUnanswered', { name: u.name, error: u.error })));
  return lines;
}

/** The explicit choice of the old path: the whole log downloaded and every ballot replayed here. */
function fullButton() {
  return el('p', { class: 'no-print' }, el('button', { type: 'button', id: 'full-check', class: 'secondary', on: { click: () => { full = true; board = null; route(); } } }, tr('fullCheck')),
    el('br'), el('span', { class: 'hint' }, tr('fullCheckHelp')));
}

function renderPageLight() {
  const view = $('page-view');
  view.replaceChildren();
  if (!session) return;
  const { state, info } = session;
  view.append(el('h2', { id: 'page-heading' }, electionTitle(state.manifest)));
  view.append(el('p', { id: 'phase' }, tr('phase', { phase: phaseName(state.phase) })));
  if (info?.counts) view.append(el('p', { id: 'counts' }, tr('countsBoard', { ballots: info.counts.ballots, voters: info.counts.voters })));
  view.append(...lightCheckedLines());
  view.append(lookupForm());
  view.append(el('p', {}, el('a', { href: '#ballots' }, tr('navBallots')), ' · ', el('a', { href: '#results' }, tr('navResults'))));
  view.append(el('p', { class: 'hint' }, tr('verifyYourself', { command: verifyCommand() })));
}

/** A board's answer that does not check out, for the page: never a standing. */
const lightFailure = (ex) => {
  if (ex instanceof l.ViewError) return new Failure('publicLied', { code: ex.code }, ex.message);
  return ex;
};

/** A receipt for `leaf` under the covered checkpoint, else under the latest: `{ text, covered }`, or null if the board has no such entry. */
async function receiptFor(leaf) {
  const hex = c.hex(leaf);
  let r = await fetchBusy(`/receipt/${hex}${coveredQuery()}`, { cache: 'no-store' });
  let covered = true;
  if (r.status === 404 && witnessed(session)) {
    covered = false;
    r = await fetchBusy(`/receipt/${hex}`, { cache: 'no-store' });
  }
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`/receipt: ${r.status}`);
  return { text: await r.text(), covered };
}

/** One ballot's standing in one sentence, from the board's answers about it alone (./public.js). */
async function lookupLight(text) {
  const leaf = pub.leafOf(text);
  if (!leaf) return tr('lookupWhole');
  const m = session.state.manifest;
  const got = await receiptFor(leaf);
  if (!got) return tr('lookupMissing');
  let index;
  let rsize;
  try {
    const parsed = e.parseReceipt(got.text);
    index = parsed.index;
    rsize = e.openCheckpoint(parsed.checkpoint, session.origin, session.key).size;
  } catch (ex) {
    throw new Failure('publicLied', { code: 'receipt' }, ex.message);
  }
  const entry = await fetchBytes(`/entries/${index}`);
  let x;
  try {
    x = e.parseEntry(entry);
  } catch (ex) {
    throw new Failure('publicLied', { code: 'undecodable' }, ex.message);
  }
  if (x.kind !== e.KIND.Ballot && x.kind !== e.KIND.ChallengedBallot) return tr('lookupMissing');
  const vr = await fetchBusy(`/voter/${c.hex(x.author)}`, { cache: 'no-store' });
  if (!vr.ok) throw new Failure('publicLied', { code: 'malformed' }, `/voter: ${vr.status}`);
  const wire = await vr.json().catch(() => null);
  let st;
  try {
    const consistency = await consistencyProof(rsize, wire?.size ?? 0);
    st = pub.ballotStanding({ manifest: m, key: session.key, leaf, receipt: got.text, covered: got.covered, entry, view: wire, consistency, withholding: session.withholding !== null });
  } catch (ex) {
    throw lightFailure(ex);
  }
  const size = coveredSize();
  switch (st.status) {
    case 'not-a-ballot': return tr('lookupMissing');
    case 'withheld': return tr('lookupWithholding', { index: st.index });
    case 'pending': return tr('lookupPending', { index: st.index, size });
    case 'unconfirmed': return tr('lookupNotCovered', { index: st.index, size });
    case 'challenged': return tr('lookupChallenged', { index: st.index });
    case 'superseded': return tr('lookupSuperseded', { index: st.index, by: st.by }) + (st.final ? tr('final') : '');
    default: return tr('lookupCounted', { index: st.index }) + (st.final ? tr('final') : '');
  }
}

/** The page of the light ballot list shown: 0 is the newest tile. */
let tilePage = 0;

/**
 * The ballot list, a tile at a time: the 256 entries of one tile, hashed here and checked
 * against the cosigned tree through the receipt of the tile's first entry (./public.js
 * `checkTile`). A ballot's standing needs its credential's later ballots: the lookup asks for them.
 */
async function renderBallotsLight() {
  const view = $('ballots-view');
  view.replaceChildren();
  if (!session) return;
  view.append(el('h2', { id: 'ballots-heading' }, tr('ballotsHeading')), el('p', {}, tr('ballotsLightIntro')));
  view.append(...lightCheckedLines());
  const area = el('div', { id: 'ballots-list' });
  view.append(area, lookupForm(), fullButton());
  const size = coveredSize();
  const tiles = Math.ceil(size / pub.TILE);
  if (tiles === 0) {
    area.append(el('p', { id: 'ballots-count', role: 'status' }, tr('ballotsEmpty')));
    return;
  }
  tilePage = Math.min(Math.max(0, tilePage), tiles - 1);
  const t = tiles - 1 - tilePage;
  let checked;
  try {
    const first = await fetchBytes(`/entries/${t * pub.TILE}`);
    const got = await receiptFor(e.leafHash(first));
    if (!got || !got.covered) throw new l.ViewError('receipt', t * pub.TILE, 'no receipt under the cosigned checkpoint');
    const rsize = e.openCheckpoint(e.parseReceipt(got.text).checkpoint, session.origin, session.key).size;
    const width = Math.min(pub.TILE, rsize - t * pub.TILE);
    const bundle = await fetchBytes(`/tile/entries/${e.tileIndex(t)}${width === pub.TILE ? '' : `.p/${width}`}`);
    checked = pub.checkTile(bundle, t, got.text, session.state.manifest, session.key, true);
  } catch (ex) {
    throw lightFailure(ex);
  }
  const rows = checked.rows.reverse();
  const to = Math.min(checked.cp.size, (t + 1) * pub.TILE) - 1;
  area.append(el('p', { id: 'ballots-count', role: 'status', 'aria-live': 'polite' },
    rows.length === 0 ? tr('ballotsTileEmpty', { from: t * pub.TILE, to }) : tr('ballotsTile', { n: rows.length, from: t * pub.TILE, to })));
  if (rows.length > 0) {
    area.append(el('table', { id: 'ballots-table', class: 'ballots', 'aria-labelledby': 'ballots-heading' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, tr('colEntry')), el('th', { scope: 'col' }, tr('colCode')), el('th', { scope: 'col' }, tr('colStanding')))),
      el('tbody', {}, rows.map((row) => {
        const challenged = row.kind === e.KIND.ChallengedBallot;
        return el('tr', { 'data-status': challenged ? 'challenged' : 'recorded' },
          el('td', { class: 'n' }, String(row.index)), el('td', {}, codeEl(row.code)), el('td', {}, tr(challenged ? 'stChallenged' : 'stRecorded')));
      }))));
  }
  if (tiles > 1) {
    const go = (d) => () => { tilePage -= d; renderBallotsLight().catch(sayFailure); };
    area.append(el('nav', { class: 'pages', 'aria-label': tr('pageOf', { page: tilePage + 1, pages: tiles }) },
      el('button', { type: 'button', id: 'page-prev', class: 'secondary', disabled: tilePage === 0, on: { click: go(-1) } }, tr('pagePrev')),
      el('span', { id: 'page-of' }, tr('pageOf', { page: tilePage + 1, pages: tiles })),
      el('button', { type: 'button', id: 'page-next', class: 'secondary', disabled: tilePage >= tiles - 1, on: { click: go(1) } }, tr('pageNext'))));
  }
}

/**
 * The result from the entries after the poll's close alone (./public.js `checkTally`), each
 * proven in the cosigned checkpoint. Ranked contests' counts need the mixes' entries: the page
 * offers the whole log for them.
 */
async function renderResultsLight() {
  const view = $('results-view');
  view.replaceChildren();
  if (!session) return;
  const m = session.state.manifest;
  view.append(el('h2', { id: 'results-heading' }, `${tr('resultHeading')}: ${electionTitle(m)}`));
  const size = coveredSize();
  const closed = session.view.closed;
  if (closed === null || closed >= size) {
    view.append(el('p', { id: 'result-missing' }, `${tr('resultNotYet')} ${tr('phase', { phase: phaseName(session.state.phase) })}`));
    view.append(...lightCheckedLines());
    return;
  }
  if (m.contests.some((x) => x.ranked) || size - closed - 1 > pub.MAX_TALLY_ENTRIES) {
    view.append(el('p', { id: 'result-full' }, tr('resultNeedsFull')), fullButton());
    return;
  }
  let tally;
  let cp = null;
  try {
    const items = [];
    for (let i = closed + 1; i < (cp?.size ?? size); i++) {
      const entry = await fetchBytes(`/entries/${i}`);
      const got = await receiptFor(e.leafHash(entry));
      if (!got || !got.covered) throw new l.ViewError('receipt', i, 'no receipt under the cosigned checkpoint');
      const r = pub.openReceipt(got.text, m, session.key, true);
      if (r.index !== i) throw new l.ViewError('receipt', i, `the receipt is for entry ${r.index}`);
      if (cp === null) cp = r.cp;
      else if (c.hex(cp.root) !== c.hex(r.cp.root) || cp.size !== r.cp.size) throw new l.ViewError('receipt', i, 'the receipts are under different checkpoints; look again');
      items.push({ index: i, entry, proof: r.proof });
    }
    // The encrypted tally the board serves: the shares' proofs and the counts are checked
    // against it here; that it is the sum of the counted ballots, by the observers.
    const rt = await fetchBusy('/tally', { cache: 'no-store' });
    if (!rt.ok) throw new l.ViewError('malformed', null, `/tally: ${rt.status}`);
    const encrypted = pub.parseTally(await rt.json().catch(() => null), m);
    tally = pub.checkTally(items, closed, cp ?? { size: closed + 1, root: new Uint8Array(32) }, m, session.state.context, encrypted);
  } catch (ex) {
    throw lightFailure(ex);
  }
  if (tally.counts === null) {
    view.append(el('p', { id: 'result-missing' }, `${tr('resultNotYet')} ${tr('phase', { phase: phaseName(session.state.phase) })}`));
    view.append(...lightCheckedLines());
    return;
  }
  const r = s.summary({ manifest: m, ballots: [], roll: new Map() }, tally.counts);
  const counts = session.info?.counts;
  if (counts) view.append(el('p', { id: 'turnout-board' }, tr('turnoutBoard', { counted: counts.counted, roll: counts.voters })));
  r.contests.forEach((cr, ci) => view.append(contestSection(m.contests[ci], cr, ci)));
  view.append(el('section', { id: 'result-checked', 'aria-labelledby': 'result-checked-heading' },
    el('h3', { id: 'result-checked-heading' }, tr('resultCheckedHeading')),
    el('p', {}, tr('resultChecked', { shares: tally.shares.length, threshold: m.threshold, names: list(tally.shares.map((x) => x.name)), index: tally.resultIndex })),
    el('p', { id: 'result-trust' }, tr('resultTrust'))));
  view.append(recordSection(cp.size, c.hex(cp.root)));
  view.append(el('button', { type: 'button', id: 'print', class: 'secondary no-print', on: { click: () => window.print() } }, tr('print')), fullButton());
}

// ---- the booth ----

// The voter, once their credential is read: `draft` holds their choices (contest id → values)
// until they cast, through a review, a change, an audit or a switch of language; `audit` the
// openings of the ballot they last audited; `screen` redraws the step they are at (the summary,
// the tracking code, the confirmation), in the current language.
let voter = null; // { seed, pub, style, weight, draft, audit, screen }

function renderVote() {
  const view = $('vote-view');
  view.replaceChildren();
  if (!session) return;
  if (voter?.screen) {
    voter.screen();
    return;
  }
  const m = session.state.manifest;
  view.append(el('h2', { id: 'vote-heading', tabindex: '-1' }, electionTitle(m)));
  if (session.state.phase !== 'voting') {
    view.append(el('p', { id: 'not-open' }, tr('notOpen', { phase: phaseName(session.state.phase) })));
    return;
  }
  if (!voter) {
    view.append(credentialForm());
    return;
  }
  if (voter.audit) view.append(auditBox(voter.audit));
  view.append(...ballotForm());
}

/** What the audit of the last ballot showed: it passed, and what the opening revealed. */
function auditBox(openings) {
  const m = session.state.manifest;
  return el('div', { id: 'audit-box' },
    el('p', { class: 'ok', id: 'challenged', tabindex: '-1' }, tr('challenged')),
    el('details', { id: 'audit' }, el('summary', {}, tr('auditDetails')), el('p', {}, tr('auditHelp')),
      m.styles[voter.style].contests.map((ci, k) => el('p', {}, tr('labelled', { label: contestTitle(m.contests[ci]), value: '' }),
        m.contests[ci].ranked
          ? `${tr('auditRanked', { n: openings[k].length })}: ${openings[k].map((o) => `r = ${c.hex(c.encodeScalar(o.nonce)).slice(0, 12)}…`).join(tr('listSep'))}`
          : m.contests[ci].options.map((o, j) => `${optionName(m.contests[ci], o)} = ${openings[k][j].value} (r = ${c.hex(c.encodeScalar(openings[k][j].nonce)).slice(0, 12)}…)`).join(tr('listSep'))))));
}

function credentialForm() {
  const area = el('textarea', { id: 'credential', rows: 4, 'aria-describedby': 'credential-help credential-error', spellcheck: 'false', autocomplete: 'off' });
  const err = el('p', { id: 'credential-error', class: 'error', role: 'alert' });
  const note = el('p', { id: 'qr-status', class: 'hint', role: 'status', 'aria-live': 'polite' });
  const file = el('input', { type: 'file', id: 'credential-file', accept: '.credential,text/plain' });
  file.addEventListener('change', async () => {
    if (file.files[0]) area.value = await file.files[0].text();
  });
  const image = el('input', { type: 'file', id: 'qr-image', accept: 'image/*' });
  image.addEventListener('change', async () => {
    err.textContent = '';
    if (!image.files[0]) return;
    const text = await readQrFromImage(image.files[0]).catch(() => null);
    if (text === null) {
      note.textContent = '';
      err.textContent = tr('qrNone');
      return;
    }
    area.value = text;
    note.textContent = tr('qrRead');
  });
  const form = el('form', { id: 'credential-form', on: { submit: (ev) => { ev.preventDefault(); useCredential(area.value, err); } } },
    el('label', { for: 'credential' }, tr('credential')),
    el('p', { id: 'credential-help', class: 'hint' }, tr('credentialHelp')));
  // The camera only where the browser offers one (a secure context); a photo works everywhere.
  if (navigator.mediaDevices?.getUserMedia) {
    const video = el('video', { id: 'qr-video', playsinline: true, muted: true, hidden: true, 'aria-hidden': 'true' });
    let stop = null;
    const button = el('button', { type: 'button', id: 'qr-camera', class: 'secondary' }, tr('qrCamera'));
    button.addEventListener('click', async () => {
      if (stop) {
        stop();
        stop = null;
        video.hidden = true;
        button.textContent = tr('qrCamera');
        return;
      }
      err.textContent = '';
      try {
        video.hidden = false;
        note.textContent = tr('qrLooking');
        button.textContent = tr('qrStop');
        stop = await startCamera(video, (text) => {
          stop?.();
          stop = null;
          video.hidden = true;
          button.textContent = tr('qrCamera');
          area.value = text;
          note.textContent = tr('qrRead');
          useCredential(text, err);
        });
      } catch (ex) {
        video.hidden = true;
        button.textContent = tr('qrCamera');
        note.textContent = '';
        err.textContent = tr('cameraFailed', { error: ex.message });
      }
    });
    form.append(el('div', {}, button), video);
  }
  form.append(
    el('div', { class: 'file' }, el('label', { for: 'qr-image' }, tr('qrImage')), image),
    el('div', { class: 'file' }, el('label', { for: 'credential-file' }, tr('credentialFile')), file),
    note, area, err,
    el('button', { type: 'submit', id: 'use-credential' }, tr('useCredential')));
  return form;
}

/**
 * Reads a credential file's text (`specs`: urna-credential-v1, election, key), then the board's
 * light view for it: the voter's roll entry (weight, style) and their ballots, checked.
 */
async function useCredential(text, err) {
  let seed;
  let pub;
  try {
    const lines = text.trim().split(/\r?\n/).map((x) => x.trim());
    if (lines.length === 1 && lines[0] === '') throw new Failure('emptyCredential');
    const id = /^election (.+)$/.exec(lines[1] || '')?.[1];
    const keyHex = /^key ([0-9a-fA-F]{64})$/.exec(lines[2] || '')?.[1];
    if (lines[0] !== 'urna-credential-v1' || !id || !keyHex || lines.length > 3) throw new Failure('badCredential');
    if (id !== session.origin) throw new Failure('otherElection', { id });
    seed = c.unhex(keyHex.toLowerCase());
    pub = c.publicKeyOf(seed);
  } catch (ex) {
    err.textContent = ex instanceof Failure ? tr(ex.key, ex.vars) : tr('badCredential');
    return;
  }
  err.textContent = '';
  try {
    say('checkingCredential', {}, 'hint');
    await loadLight(pub);
    say(null);
  } catch (ex) {
    sayFailure(ex);
    return;
  }
  const entry = session.view.voter;
  if (!entry) {
    err.textContent = tr('notOnRoll');
    return;
  }
  voter = { seed, pub, style: entry.style, weight: entry.weight, draft: {}, audit: null, screen: null };
  renderVote();
  $('vote-heading').focus?.();
}

/** The words under a contest's title saying what may be chosen. */
function contestHint(contest) {
  if (contest.ranked) {
    const r = contest.ranked;
    const all = r.ranks >= contest.options.length + r.writeIns;
    const hint = all ? tr('rankHint') : tr('rankHintUpTo', { max: r.ranks });
    return r.writeIns > 0 ? `${hint} ${tr('rankWriteIns', { max: r.writeIns })}` : hint;
  }
  const { p, min, max } = e.rule(contest);
  if (p > 1) return tr(contest.budget ? 'scoreHint' : 'scoreHintFree', { p, max });
  if (min === 1 && max === 1) return tr('chooseOne');
  if (min === 0 && max === 1) return tr('chooseAtMostOne');
  if (min === 0) return tr('chooseUpTo', { max });
  if (min === max) return tr('chooseExactlyN', { min });
  if (max >= contest.options.length) return tr('chooseAtLeast', { min });
  return tr('chooseBetween', { min, max });
}

/**
 * What is wrong with one contest's choices, in words naming the contest by its title (null if
 * nothing). `early`: only what the voter has already overdone (too many, too many points) —
 * nothing is said about what they have not chosen yet.
 */
function contestProblem(contest, values, early) {
  const title = contestTitle(contest);
  if (contest.ranked) {
    try {
      e.rankedPlaintext(contest, values ?? []);
      return null;
    } catch (ex) {
      return tr(`problem-${ex.code ?? 'ranked-unknown'}`, { contest: title, max: ex.vars?.max ?? 0, name: ex.vars?.name ?? '' });
    }
  }
  const { p, min, max } = e.rule(contest);
  const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v > p);
  if (bad >= 0) return tr('problemRange', { contest: title, option: optionName(contest, contest.options[bad]), p });
  const total = values.reduce((a, b) => a + b, 0);
  if (total > max) return p > 1 ? tr('problemPoints', { contest: title, total, max }) : tr('problemMany', { contest: title, max });
  if (!early && total < min) return min === 1 && max === 1 ? tr('problemOne', { contest: title }) : tr('problemFew', { contest: title, min });
  return null;
}

function ballotForm() {
  const m = session.state.manifest;
  const style = m.styles[voter.style];
  const parts = [];
  // The style matters to the voter only where there is a choice of them, or a name for it.
  if (style.title || m.styles.length > 1) parts.push(el('p', { id: 'style' }, tr('style', { style: styleName(style) })));
  if (voter.weight !== 1) parts.push(el('p', { id: 'weight', class: 'note' }, tr('weight', { weight: voter.weight })));
  parts.push(el('p', { class: 'hint' }, tr('revoteNote')));
  parts.push(el('p', { class: 'hint', id: 'light-checked' }, tr('lightChecked')));
  const form = el('form', { id: 'ballot', novalidate: true });
  const summary = el('div', { id: 'ballot-error', class: 'error', role: 'alert' });
  for (const ci of style.contests) form.append(contestFieldset(m.contests[ci], ci));
  form.append(summary, el('button', { type: 'submit', id: 'review' }, tr('review')));
  const show = (early) => {
    const draft = readChoices(form);
    voter.draft = draft;
    const found = [];
    for (const ci of style.contests) {
      const contest = m.contests[ci];
      const problem = contestProblem(contest, draft[contest.id], early);
      const fs = form.querySelector(`fieldset[data-contest="${ci}"]`);
      const slot = fs.querySelector('.problem');
      slot.textContent = problem ?? '';
      fs.classList.toggle('invalid', problem !== null);
      if (problem) found.push({ ci, problem });
    }
    summary.replaceChildren(...(early ? [] : found.map((f) => el('p', {}, f.problem))));
    return found;
  };
  // Nothing is said before the voter has done anything, nor about what they have not chosen
  // yet while they choose: only what they overdid. The rest when they ask to review.
  form.addEventListener('change', () => show(true));
  form.addEventListener('input', () => show(true));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const found = show(false);
    if (found.length > 0) {
      form.querySelector(`fieldset[data-contest="${found[0].ci}"] :is(input, button:not([disabled]))`)?.focus();
      return;
    }
    renderSummary();
  });
  return [...parts, form];
}

/** A preference of a ranking, by name: an option's, or a written-in name marked as such. */
function prefName(contest, pref) {
  return pref.writeIn !== undefined ? tr('writeInMark', { name: pref.writeIn }) : optionName(contest, contest.options[pref.option]);
}

/**
 * A ranked contest: the voter's ranking as an ordered list, each candidate with buttons to move
 * it up or down (or the arrow keys while on them) and to remove it, then the candidates not
 * ranked, each with a button to rank it, and a field to write a name in. Nothing is dragged:
 * every step is a button a keyboard or a screen reader reaches; each move is announced.
 */
function rankedFieldset(contest, ci) {
  const r = contest.ranked;
  const prefs = voter.draft[contest.id] ?? [];
  const fs = el('fieldset', { 'data-contest': String(ci), id: `contest-${ci}`, class: 'ranked', 'aria-describedby': `hint-${ci} problem-${ci}` },
    el('legend', {}, contestTitle(contest)), el('p', { class: 'hint', id: `hint-${ci}` }, contestHint(contest)));
  const update = (next, focusIds, announce) => {
    voter.draft[contest.id] = next;
    const fresh = rankedFieldset(contest, ci);
    fs.replaceWith(fresh);
    fresh.querySelector(`#rank-status-${ci}`).textContent = announce ?? '';
    const target = focusIds.map((id) => $(id)).find((b) => b && !b.disabled) ?? fresh.querySelector('button:not([disabled])');
    target?.focus();
    $('ballot')?.dispatchEvent(new Event('change'));
  };
  const move = (k, d) => {
    if (k + d < 0 || k + d >= prefs.length) return;
    const next = [...prefs];
    [next[k], next[k + d]] = [next[k + d], next[k]];
    const to = k + d;
    update(next, [`c${ci}-${d < 0 ? 'up' : 'down'}-${to}`, `c${ci}-${d < 0 ? 'down' : 'up'}-${to}`], tr('rankMoved', { name: prefName(contest, prefs[k]), place: to + 1 }));
  };
  const ranking = el('ol', { class: 'ranking', id: `ranking-${ci}`, 'aria-label': tr('yourRanking') });
  prefs.forEach((pref, k) => {
    const name = prefName(contest, pref);
    const item = el('li', { class: 'ranked-item' }, el('span', { class: 'rank-name' }, name), ' ',
      el('span', { class: 'rank-buttons' },
        el('button', { type: 'button', class: 'secondary small', id: `c${ci}-up-${k}`, disabled: k === 0, 'aria-label': tr('rankUpLabel', { name }), on: { click: () => move(k, -1) } }, `↑ ${tr('rankUp')}`),
        el('button', { type: 'button', class: 'secondary small', id: `c${ci}-down-${k}`, disabled: k === prefs.length - 1, 'aria-label': tr('rankDownLabel', { name }), on: { click: () => move(k, 1) } }, `↓ ${tr('rankDown')}`),
        el('button', { type: 'button', class: 'secondary small', id: `c${ci}-remove-${k}`, 'aria-label': tr('rankRemoveLabel', { name }),
          on: { click: () => update(prefs.filter((_, j) => j !== k), [`c${ci}-remove-${Math.min(k, prefs.length - 2)}`, `c${ci}-add-0`], '') } }, tr('rankRemove'))));
    item.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowUp' || ev.key === 'ArrowDown') {
        ev.preventDefault();
        move(k, ev.key === 'ArrowUp' ? -1 : 1);
      }
    });
    ranking.append(item);
  });
  fs.append(el('h4', {}, tr('yourRanking')), prefs.length ? ranking : el('p', { class: 'hint', id: `ranking-${ci}` }, tr('nobodyRanked')));
  const full = prefs.length >= r.ranks;
  const rest = contest.options.map((o, k) => k).filter((k) => !prefs.some((x) => x.option === k));
  if (rest.length > 0) {
    fs.append(el('h4', {}, tr('notRanked')), el('ul', { class: 'unranked', id: `unranked-${ci}` }, rest.map((k, j) => {
      const name = optionName(contest, contest.options[k]);
      return el('li', {}, el('span', { class: 'rank-name' }, name), ' ',
        el('button', { type: 'button', class: 'secondary small', id: `c${ci}-add-${j}`, 'data-option': String(k), disabled: full, 'aria-label': tr('rankAddLabel', { name }),
          on: { click: () => update([...prefs, { option: k }], [`c${ci}-up-${prefs.length}`, `c${ci}-remove-${prefs.length}`], tr('rankMoved', { name, place: prefs.length + 1 })) } }, tr('rankAdd')));
    })));
  }
  const written = prefs.filter((x) => x.writeIn !== undefined).length;
  if (r.writeIns > 0 && written < r.writeIns) {
    const id = `c${ci}-writein`;
    const input = el('input', { type: 'text', id, autocomplete: 'off', disabled: full });
    const add = () => {
      const name = input.value.trim();
      if (name) update([...prefs, { writeIn: name }], [`c${ci}-up-${prefs.length}`, `c${ci}-remove-${prefs.length}`], tr('rankMoved', { name: tr('writeInMark', { name }), place: prefs.length + 1 }));
    };
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        add();
      }
    });
    fs.append(el('p', { class: 'write-in' }, el('label', { for: id }, tr('writeInLabel')), ' ', input, ' ',
      el('button', { type: 'button', class: 'secondary small', id: `c${ci}-writein-add`, disabled: full, on: { click: add } }, tr('writeInAdd'))));
  }
  fs.append(el('p', { class: 'hint', id: `rank-status-${ci}`, role: 'status', 'aria-live': 'polite' }));
  fs.append(el('p', { class: 'problem error', id: `problem-${ci}` }));
  return fs;
}

function contestFieldset(contest, ci) {
  if (contest.ranked) return rankedFieldset(contest, ci);
  const { p, max } = e.rule(contest);
  const values = voter.draft[contest.id] ?? contest.options.map(() => 0);
  const fs = el('fieldset', { 'data-contest': String(ci), id: `contest-${ci}`, 'aria-describedby': `hint-${ci} problem-${ci}` },
    el('legend', {}, contestTitle(contest)), el('p', { class: 'hint', id: `hint-${ci}` }, contestHint(contest)));
  if (p > 1) {
    contest.options.forEach((o, k) => {
      const id = `c${ci}-o${k}`;
      fs.append(el('label', { class: 'option score', for: id },
        el('input', { type: 'number', id, min: '0', max: String(p), step: '1', value: String(values[k]), inputmode: 'numeric', 'aria-label': tr('pointsLabel', { option: optionName(contest, o) }) }),
        el('span', {}, optionName(contest, o))));
    });
  } else {
    const single = max === 1;
    contest.options.forEach((o, k) => {
      const id = `c${ci}-o${k}`;
      fs.append(el('label', { class: 'option', for: id },
        el('input', { type: single ? 'radio' : 'checkbox', name: `contest-${ci}`, id, value: String(k), checked: values[k] === 1 }), el('span', {}, optionName(contest, o))));
    });
  }
  fs.append(el('p', { class: 'problem error', id: `problem-${ci}` }));
  return fs;
}

function readChoices(form) {
  const m = session.state.manifest;
  const out = {};
  for (const ci of m.styles[voter.style].contests) {
    const contest = m.contests[ci];
    if (contest.ranked) {
      out[contest.id] = voter.draft[contest.id] ?? [];
      continue;
    }
    out[contest.id] = contest.options.map((_, k) => {
      const input = form.querySelector(`#c${ci}-o${k}`);
      if (input?.type === 'number') return input.value.trim() === '' ? 0 : Number(input.value);
      return input?.checked ? 1 : 0;
    });
  }
  return out;
}

/** The voter's choices in words, each contest with a "change" button; nothing encrypted yet. */
function renderSummary() {
  voter.screen = renderSummary;
  const m = session.state.manifest;
  const view = $('vote-view');
  const rows = m.styles[voter.style].contests.map((ci) => {
    const contest = m.contests[ci];
    const values = voter.draft[contest.id];
    const { p } = e.rule(contest);
    let words;
    if (contest.ranked) {
      const prefs = values ?? [];
      words = prefs.length === 0 ? tr('nobodyRanked') : list(prefs.map((x, k) => tr('rankingWords', { place: k + 1, name: prefName(contest, x) })));
    } else {
      const chosen = contest.options.map((o, k) => ({ name: optionName(contest, o), v: values[k] })).filter((x) => x.v > 0);
      words = chosen.length === 0 ? tr('noChoice') : list(chosen.map((x) => (p > 1 ? tr('labelled', { label: x.name, value: tr('points', { n: x.v }) }) : x.name)));
    }
    return el('div', { class: 'choice', 'data-contest': String(ci) },
      el('dt', {}, contestTitle(contest)),
      el('dd', {}, el('span', { class: 'chosen' }, words), ' ',
        el('button', { type: 'button', class: 'secondary small', id: `change-${ci}`, 'aria-label': tr('changeContest', { contest: contestTitle(contest) }), on: { click: () => change(ci) } }, tr('change'))));
  });
  view.replaceChildren(el('h2', { id: 'vote-heading', tabindex: '-1' }, tr('summaryHeading')),
    el('p', { class: 'hint' }, tr('summaryHelp')), el('dl', { id: 'summary' }, rows),
    el('button', { type: 'button', id: 'encrypt', on: { click: () => prepare() } }, tr('encrypt')),
    el('button', { type: 'button', id: 'change', class: 'secondary', on: { click: () => change(null) } }, tr('change')));
  $('vote-heading').focus();
}

function change(ci) {
  voter.screen = null;
  renderVote();
  const target = (ci === null ? $('ballot') : $(`contest-${ci}`))?.querySelector('input, button:not([disabled])');
  target?.focus();
}

async function post(bytes) {
  const r = await fetchBusy('/entries', { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  const text = await r.text();
  if (!r.ok) {
    let reason = text;
    try {
      reason = JSON.parse(text).message;
    } catch {
      // not JSON: the text as sent
    }
    throw new Failure('errRefused', { reason });
  }
  return text;
}

async function prepare() {
  const view = $('vote-view');
  say('encrypting', {}, 'hint');
  // Let the status paint before the proofs take the main thread.
  await new Promise((done) => setTimeout(done, 30));
  try {
    const { payload, openings } = e.encryptBallot(session.state, voter.pub, voter.style, voter.draft);
    const entry = e.signEntry(session.origin, e.KIND.Ballot, payload, voter.seed);
    const code = e.trackingCode(e.leafHash(entry));
    voter.screen = () => $('vote-view').replaceChildren(el('h2', { id: 'vote-heading', tabindex: '-1' }, tr('tracking')),
      el('p', { class: 'code-box' }, codeEl(code, { id: 'tracking-code' })), el('p', { class: 'hint' }, tr('trackingHelp')),
      el('button', { id: 'cast', on: { click: () => cast(entry, code) } }, tr('cast')),
      el('button', { id: 'challenge', class: 'secondary', on: { click: () => challenge(payload, openings) } }, tr('challenge')));
    voter.screen();
    say(null);
    $('cast').focus();
  } catch (ex) {
    sayFailure(ex);
  }
}

async function challenge(payload, openings) {
  try {
    if (!e.checkOpening(session.state.context.K, payload, openings)) throw new Failure('errOpening');
    const entry = e.signEntry(session.origin, e.KIND.ChallengedBallot, e.challengedPayload(payload, openings), voter.seed);
    await post(entry);
    await refresh();
    // Back to the ballot with the choices kept, and what the opening revealed beside them.
    voter.audit = openings;
    voter.screen = null;
    renderVote();
    $('challenged').focus();
    say(null);
  } catch (ex) {
    sayFailure(ex);
  }
}

async function cast(entry, code) {
  try {
    $('cast').disabled = true;
    const text = await post(entry);
    // The receipt: the ballot's inclusion under a board-signed checkpoint that extends the
    // one this booth checked the voter's view under.
    let receipt;
    try {
      const rcp = e.openCheckpoint(e.parseReceipt(text).checkpoint, session.origin, session.key);
      receipt = l.checkReceipt(text, entry, session.view, session.origin, session.key, await consistencyProof(session.cp.size, rcp.size));
    } catch (ex) {
      if (ex instanceof Failure) throw ex;
      if (ex instanceof l.ViewError && ex.code === 'not-extending') throw new Failure('errNotExtending', {}, ex.message);
      throw new Failure('errReceipt', {}, ex.message);
    }
    const file = `urna-ballot-receipt-v1\nelection ${session.origin}\nboard-key ${c.hex(session.key)}\ntracking ${code}\nentry ${c.hex(entry)}\n\n${text}`;
    const href = URL.createObjectURL(new Blob([file], { type: 'text/plain' }));
    voter.draft = {};
    voter.audit = null;
    voter.screen = () => $('vote-view').replaceChildren(el('h2', { id: 'vote-heading', tabindex: '-1' }, tr('tracking')),
      el('p', { class: 'code-box' }, codeEl(code, { id: 'cast-code' })),
      el('p', { class: 'ok', id: 'cast-done' }, tr('castDone', { index: receipt.index })),
      witnessed(session) ? el('p', { class: 'note', id: 'cast-pending' }, tr('castPending')) : null,
      el('p', {}, el('a', { id: 'receipt', class: 'button', href, download: `ballot-${code.slice(0, 14)}.receipt` }, tr('receipt'))),
      el('p', { class: 'hint' }, tr('receiptHelp')), el('p', { class: 'hint' }, tr('revoteNote')));
    voter.screen();
    $('vote-heading').focus();
    await refresh();
    // The voter's view after casting must hold the ballot the board gave a receipt for.
    const { view } = session;
    if (view.cp.size > receipt.index && view.omitted === 0 && !view.ballots.some((b) => b.index === receipt.index && c.hex(b.entry) === c.hex(entry))) {
      throw new Failure('errReceipt', {}, `the board's view of this credential does not hold the ballot at ${receipt.index} it gave a receipt for`);
    }
  } catch (ex) {
    if ($('cast')) $('cast').disabled = false;
    sayFailure(ex);
  }
}

// ---- navigation and language ----

const VIEWS = { page: renderPage, ballots: renderBallots, results: renderResults, vote: renderVote };

/** Reads the board again: the light view (the voter's, once known), or the whole log if the reader chose it. */
async function refresh() {
  if (current() === 'vote' || !full) {
    await loadLight(voter?.pub ?? null);
    // The public pages read the log again when next shown.
    board = null;
    if (current() !== 'vote') await VIEWS[current()]();
    return;
  }
  await loadBoard();
  VIEWS[current()]();
}

/** The light view serves the booth and the public pages; the whole log only when the reader chose it (`full`). */
async function ensureLoaded(name) {
  const light = name === 'vote' || !full;
  if (light ? session : board) return;
  say('loading', {}, 'hint');
  if (light) await loadLight(null);
  else await loadBoard();
  say(null);
}

function current() {
  const name = location.hash.slice(1);
  return VIEWS[name] ? name : 'page';
}

function route() {
  const name = current();
  for (const v of Object.keys(VIEWS)) {
    $(`${v}-view`).hidden = v !== name;
    // One view in the page at a time: its ids are the page's.
    if (v !== name) $(`${v}-view`).replaceChildren();
    const link = $(`nav-${v}`);
    if (v === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.body.dataset.view = name;
  ensureLoaded(name)
    .then(() => {
      if (current() !== name) return;
      applyLanguage();
      return VIEWS[name]();
    })
    .catch(sayFailure);
}

function applyLanguage() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  const shown = current() === 'vote' || !full ? session : board;
  document.title = shown ? `${electionTitle(shown.state.manifest)} — ${tr('title')}` : tr('title');
  $('title').textContent = tr('title');
  $('lang-label').textContent = tr('language');
  $('nav').setAttribute('aria-label', tr('sections'));
  for (const [v, key] of [['page', 'navPage'], ['ballots', 'navBallots'], ['results', 'navResults'], ['vote', 'navVote']]) $(`nav-${v}`).textContent = tr(key);
  $('lang').value = lang;
}

$('lang').addEventListener('change', () => {
  lang = $('lang').value;
  localStorage.setItem('urna-lang', lang);
  applyLanguage();
  // A voter mid-ballot keeps their choices: the form is drawn again from the draft.
  route();
});
window.addEventListener('hashchange', route);

applyLanguage();
route();
