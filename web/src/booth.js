// The booth and the public election page. Everything the voter is shown is checked here
// first: the board's signature, every entry against the signed Merkle root, the witnesses'
// cosignatures (asked of the witnesses themselves, not taken from the board), and the election
// key recomputed from the trustees' commitments. A ballot's standing and the result are shown
// only from the log the witness quorum covers. Ballots are encrypted and proved on this device;
// the board only ever sees ciphertexts.

import * as c from './crypto.js';
import * as e from './election.js';
import { pickLanguage, t } from './i18n.js';
import { fetchRetrying } from './retry.js';

const $ = (id) => document.getElementById(id);
let lang = pickLanguage(localStorage.getItem('urna-lang'), navigator.languages);
let board = null; // { origin, key, note, cp, entries, state, covered: { size, state, vouchers, withholding, unanswered } }

function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'on') for (const [ev, f] of Object.entries(v)) n.addEventListener(ev, f);
    else if (v !== false && v !== undefined) n.setAttribute(k, v === true ? '' : v);
  }
  for (const ch of children.flat()) if (ch !== null && ch !== undefined) n.append(ch);
  return n;
}

const say = (key, vars, cls) => {
  const s = $('status');
  s.textContent = t(lang, key, vars);
  s.className = cls || '';
};

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
    const cp = e.openCheckpoint(await r.text(), manifest.electionId, key);
    if (!e.cosigners(cp, manifest.witnesses).includes(w.name)) throw new Error('no cosignature by this witness');
    return { name: w.name, cp };
  } catch (ex) {
    return { name: w.name, error: ex.message };
  }
}

/** The board's `/checkpoint/cosigned`, checked against the policy and the log (null if none). */
async function boardCosigned(manifest, key, leaves) {
  const r = await fetchBusy('/checkpoint/cosigned', { cache: 'no-store' });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`/checkpoint/cosigned: ${r.status}`);
  const cp = e.openCheckpoint(await r.text(), manifest.electionId, key);
  const names = e.cosigners(cp, manifest.witnesses);
  if (names.length < manifest.witnessQuorum) throw new Error('the board’s cosigned checkpoint lacks the witness quorum');
  if (cp.size > leaves.length) return { size: cp.size, names, beyond: true };
  if (c.hex(e.merkleRoot(leaves.slice(0, cp.size))) !== c.hex(cp.root)) {
    throw new Error('the board’s cosigned checkpoint is not a prefix of the log it serves: the board forked its log');
  }
  return { size: cp.size, names };
}

/**
 * What the witnesses say of the log (specs/board.md §6.2): each answer must be a prefix of the
 * log; their quorum covers the quorum-th largest size they cosigned; the board's cosigned
 * checkpoint must be at least that new (after a grace), or the board is withholding. The newest
 * covered checkpoint is the larger of the two.
 */
async function witnessView(manifest, key, leaves, answers) {
  for (const a of answers) {
    if (!a.cp) continue;
    if (a.cp.size > leaves.length) throw new Error(`witness ${a.name} has cosigned ${a.cp.size} entries but the board serves only ${leaves.length}: the board rolled back or hides its log`);
    if (c.hex(e.merkleRoot(leaves.slice(0, a.cp.size))) !== c.hex(a.cp.root)) {
      throw new Error(`witness ${a.name} cosigned a checkpoint that is not a prefix of the log the board serves: the board forked its log`);
    }
  }
  const sizes = answers.filter((a) => a.cp).map((a) => a.cp.size);
  const cover = e.quorumCover(sizes, manifest.witnessQuorum);
  const started = Date.now();
  let fromBoard = await boardCosigned(manifest, key, leaves);
  while (cover !== null && !fromBoard?.beyond && (fromBoard?.size ?? -1) < cover && Date.now() - started < WITHHOLDING_GRACE_MS) {
    await new Promise((done) => setTimeout(done, 500));
    fromBoard = await boardCosigned(manifest, key, leaves);
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
  if (info.board_key !== c.hex(key)) throw new Error('the board states a key other than its manifest’s');
  const answers = await Promise.all(manifest.witnesses.map((w) => askWitness(w, manifest, key)));
  const note = await (await fetchBusy('/checkpoint', { cache: 'no-store' })).text();
  const cp = e.openCheckpoint(note, manifest.electionId, key);
  const entries = [];
  for (let n = 0; entries.length < cp.size; n++) {
    const w = Math.min(256, cp.size - n * 256);
    const path = `/tile/entries/${e.tileIndex(n)}${w === 256 ? '' : `.p/${w}`}`;
    entries.push(...e.parseBundle(await fetchBytes(path)));
  }
  if (entries.length === 0 || c.hex(entries[0]) !== c.hex(first)) throw new Error('the board served two different first entries');
  const leaves = entries.map(e.leafHash);
  if (c.hex(e.merkleRoot(leaves)) !== c.hex(cp.root)) throw new Error('the entries do not match the signed root');
  const state = e.electionState(entries);
  // Without witnesses the board's signature is the whole policy; with them, what they cover.
  let covered = { size: cp.size, state, vouchers: [], withholding: null, unanswered: [] };
  if (manifest.witnesses.length > 0) {
    const view = await witnessView(manifest, key, leaves, answers);
    covered = { ...view, state: view.size === cp.size ? state : view.size > 0 ? e.electionState(entries.slice(0, view.size)) : null };
  }
  board = { origin: manifest.electionId, key, note, cp, entries, state, covered };
}

const witnessed = () => board.state.manifest.witnesses.length > 0;
const closedPhase = (phase) => phase === 'tallying' || phase === 'finished';

function checkedLine() {
  const lines = [el('p', {}, t(lang, 'checked', { size: board.cp.size }))];
  const m = board.state.manifest;
  if (!witnessed()) return lines;
  const { size, vouchers, withholding, unanswered } = board.covered;
  if (withholding) {
    lines.push(el('p', { class: 'error', role: 'alert', id: 'withholding' }, t(lang, 'withholding', { witnesses: withholding.witnesses, board: withholding.board ?? 0 })));
  } else if (size > 0) {
    lines.push(el('p', { class: 'ok', id: 'cosigned' }, t(lang, 'cosigned', { size, names: vouchers.join(', '), got: vouchers.length, need: m.witnessQuorum })));
  }
  if (size < board.cp.size) lines.push(el('p', { class: 'hint' }, t(lang, 'notCosigned', { size })));
  for (const u of unanswered) lines.push(el('p', { class: 'hint' }, t(lang, 'witnessUnanswered', { name: u.name, error: u.error })));
  return lines;
}

// ---- the public election page ----

function renderPage() {
  const view = $('page-view');
  view.replaceChildren();
  if (!board) return;
  const { state } = board;
  const m = state.manifest;
  view.append(el('h2', { id: 'page-heading' }, m.title));
  view.append(el('p', {}, t(lang, 'phase', { phase: state.phase })));
  view.append(el('p', { id: 'counts' }, t(lang, 'counts', { ballots: state.ballots.filter((b) => b.kind === e.KIND.Ballot).length, voters: state.roll.size })));
  view.append(...checkedLine());
  const input = el('input', { type: 'text', id: 'lookup-code', 'aria-describedby': 'lookup-result', autocomplete: 'off' });
  const out = el('p', { id: 'lookup-result', role: 'status', 'aria-live': 'polite' });
  view.append(el('form', { on: { submit: (ev) => { ev.preventDefault(); out.textContent = lookup(input.value); } } },
    el('label', { for: 'lookup-code' }, t(lang, 'lookup')), input, el('button', { type: 'submit' }, t(lang, 'lookupButton'))), out);
  // The result only once the witness quorum covers it.
  const resultEntry = board.entries.slice(0, board.covered.size).map(e.parseEntry).find((x) => x.kind === e.KIND.Result);
  if (resultEntry) {
    const counts = e.decodeResult(resultEntry.payload);
    view.append(el('h3', {}, t(lang, 'result')));
    m.contests.forEach((contest, ci) => {
      view.append(el('table', { 'aria-label': contest.title }, el('caption', {}, contest.title),
        contest.options.map((o, k) => el('tr', {}, el('th', { scope: 'row' }, o.name), el('td', { class: 'n' }, String(counts[ci][k]))))));
    });
  }
  view.append(el('p', { class: 'hint' }, t(lang, 'verifyYourself', { command: `urna verify --board ${location.origin}` })));
}

/** A ballot's standing, decided only on the log the witness quorum covers (specs/board.md §6.2). */
function lookup(code) {
  const clean = code.replace(/-/g, '').toLowerCase().trim();
  const b = board.state.ballots.find((x) => {
    const full = e.trackingCode(x.leaf).replace(/-/g, '');
    return full === clean || c.hex(x.leaf) === clean;
  });
  if (!b) return t(lang, 'lookupMissing');
  const { size, state, withholding } = board.covered;
  if (withholding) return t(lang, 'lookupWithholding', { index: b.index });
  if (b.index >= size) return t(lang, closedPhase(board.state.phase) ? 'lookupNotCovered' : 'lookupPending', { index: b.index, size });
  if (b.kind === e.KIND.ChallengedBallot) return t(lang, 'lookupChallenged', { index: b.index });
  const later = state.ballots.some((x) => x.kind === e.KIND.Ballot && x.credential === b.credential && x.index > b.index);
  const final = closedPhase(state.phase) ? t(lang, 'final') : '';
  return `${t(lang, later ? 'lookupSuperseded' : 'lookupCounted', { index: b.index })}${final}`;
}

// ---- the booth ----

let voter = null; // { seed, pub, style, weight }

function renderVote() {
  const view = $('vote-view');
  view.replaceChildren();
  if (!board) return;
  const m = board.state.manifest;
  view.append(el('h2', { id: 'vote-heading' }, m.title));
  view.append(...checkedLine());
  if (board.state.phase !== 'voting') {
    view.append(el('p', { class: 'error' }, t(lang, 'notOpen', { phase: board.state.phase })));
    return;
  }
  if (!voter) {
    const area = el('textarea', { id: 'credential', rows: 4, 'aria-describedby': 'credential-help', spellcheck: 'false' });
    const file = el('input', { type: 'file', id: 'credential-file', 'aria-label': t(lang, 'credential') });
    file.addEventListener('change', async () => { area.value = await file.files[0].text(); });
    const err = el('p', { id: 'credential-error', class: 'error', role: 'alert' });
    view.append(el('form', { on: { submit: (ev) => { ev.preventDefault(); useCredential(area.value, err); } } },
      el('label', { for: 'credential' }, t(lang, 'credential')),
      el('p', { id: 'credential-help', class: 'hint' }, t(lang, 'credentialHelp')), area, file, err,
      el('button', { type: 'submit', id: 'use-credential' }, t(lang, 'useCredential'))));
    return;
  }
  view.append(el('p', {}, t(lang, 'weight', { style: m.styles[voter.style].id, weight: voter.weight })));
  view.append(el('p', { class: 'hint' }, t(lang, 'revoteNote')));
  const form = el('form', { id: 'ballot' });
  const errors = el('p', { id: 'ballot-error', class: 'error', role: 'alert' });
  for (const ci of m.styles[voter.style].contests) form.append(contestFieldset(m.contests[ci], ci));
  const submit = el('button', { type: 'submit', id: 'encrypt' }, t(lang, 'encrypt'));
  form.append(errors, submit);
  const validate = () => {
    const found = e.problems(m, voter.style, readChoices(form));
    errors.textContent = found.join(' · ');
    submit.disabled = found.length > 0;
  };
  form.addEventListener('change', validate);
  form.addEventListener('input', validate);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); prepare(readChoices(form)); });
  view.append(form);
  validate();
}

function contestFieldset(contest, ci) {
  const { p, min, max } = e.rule(contest);
  const hint = min === 1 && max === 1 ? t(lang, 'chooseExactly') : min === 0 ? t(lang, 'chooseUpTo', { max }) : t(lang, 'chooseBetween', { min, max });
  const fs = el('fieldset', { 'data-contest': contest.id }, el('legend', {}, contest.title));
  if (p > 1) {
    fs.append(el('p', { class: 'hint', id: `hint-${ci}` }, t(lang, 'scoreHint', { p, max })));
    contest.options.forEach((o, k) => {
      const id = `c${ci}-o${k}`;
      fs.append(el('label', { class: 'option', for: id },
        el('input', { type: 'number', id, min: '0', max: String(p), step: '1', value: '0', inputmode: 'numeric', 'aria-describedby': `hint-${ci}` }), ` ${o.name}`));
    });
    return fs;
  }
  fs.append(el('p', { class: 'hint', id: `hint-${ci}` }, hint));
  const single = max === 1;
  contest.options.forEach((o, k) => {
    const id = `c${ci}-o${k}`;
    fs.append(el('label', { class: 'option', for: id },
      el('input', { type: single ? 'radio' : 'checkbox', name: `contest-${ci}`, id, value: String(k), 'aria-describedby': `hint-${ci}` }), o.name));
  });
  return fs;
}

function readChoices(form) {
  const m = board.state.manifest;
  const out = {};
  for (const ci of m.styles[voter.style].contests) {
    const contest = m.contests[ci];
    const values = contest.options.map((_, k) => {
      const input = form.querySelector(`#c${ci}-o${k}`);
      if (input?.type === 'number') return input.value === '' ? 0 : Number(input.value);
      return input?.checked ? 1 : 0;
    });
    out[contest.id] = values;
  }
  return out;
}

function useCredential(text, err) {
  try {
    const lines = text.trim().split('\n');
    const id = /^election (.+)$/.exec(lines[1] || '')?.[1];
    const keyHex = /^key ([0-9a-f]{64})$/.exec(lines[2] || '')?.[1];
    if (lines[0] !== 'urna-credential-v1' || !id || !keyHex) throw new Error(t(lang, 'badCredential'));
    if (id !== board.origin) throw new Error(t(lang, 'otherElection', { id }));
    const seed = c.unhex(keyHex);
    const pub = c.publicKeyOf(seed);
    const entry = board.state.roll.get(c.hex(pub));
    if (!entry) throw new Error(t(lang, 'notOnRoll'));
    voter = { seed, pub, style: entry.style, weight: entry.weight };
    renderVote();
  } catch (ex) {
    err.textContent = ex.message;
  }
}

async function post(bytes) {
  const r = await fetchBusy('/entries', { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  const text = await r.text();
  if (!r.ok) throw new Error(JSON.parse(text).message);
  return text;
}

function prepare(choices) {
  const view = $('vote-view');
  try {
    const { payload, openings } = e.encryptBallot(board.state, voter.pub, voter.style, choices);
    const entry = e.signEntry(board.origin, e.KIND.Ballot, payload, voter.seed);
    const code = e.trackingCode(e.leafHash(entry));
    view.replaceChildren(el('h2', { id: 'vote-heading' }, t(lang, 'tracking')),
      el('p', { class: 'code', id: 'tracking-code' }, code), el('p', { class: 'hint' }, t(lang, 'trackingHelp')),
      el('button', { id: 'cast', on: { click: () => cast(entry, code) } }, t(lang, 'cast')),
      el('button', { id: 'challenge', class: 'secondary', on: { click: () => challenge(payload, openings) } }, t(lang, 'challenge')));
    $('cast').focus();
  } catch (ex) {
    say('failed', { error: ex.message }, 'error');
  }
}

async function challenge(payload, openings) {
  try {
    if (!e.checkOpening(board.state.context.K, payload, openings)) throw new Error('the encryption does not open to the choices');
    const entry = e.signEntry(board.origin, e.KIND.ChallengedBallot, e.challengedPayload(payload, openings), voter.seed);
    await post(entry);
    await refresh();
    renderVote();
    // Show what the opening revealed, next to the choices it had to match.
    const m = board.state.manifest;
    const audit = el('details', { id: 'audit', open: true }, el('summary', {}, t(lang, 'auditDetails')),
      m.styles[voter.style].contests.map((ci, k) => el('p', {}, `${m.contests[ci].title}: `,
        m.contests[ci].options.map((o, j) => `${o.name} = ${openings[k][j].value} (r = ${c.hex(c.encodeScalar(openings[k][j].nonce)).slice(0, 12)}…)`).join(', '))));
    $('vote-view').prepend(audit);
    say('challenged', {}, 'ok');
  } catch (ex) {
    say('failed', { error: ex.message }, 'error');
  }
}

async function cast(entry, code) {
  try {
    const text = await post(entry);
    const receipt = e.parseReceipt(text);
    const cp = e.openCheckpoint(receipt.checkpoint, board.origin, board.key);
    if (!e.verifyInclusion(e.leafHash(entry), receipt.index, cp.size, receipt.proof, cp.root)) throw new Error('the receipt does not prove inclusion');
    const file = `urna-ballot-receipt-v1\nelection ${board.origin}\nboard-key ${c.hex(board.key)}\ntracking ${code}\nentry ${c.hex(entry)}\n\n${text}`;
    const link = el('a', { id: 'receipt', href: URL.createObjectURL(new Blob([file], { type: 'text/plain' })), download: `ballot-${code.slice(0, 9)}.receipt` }, t(lang, 'receipt'));
    $('vote-view').replaceChildren(el('h2', { id: 'vote-heading' }, t(lang, 'tracking')), el('p', { class: 'code' }, code),
      el('p', { class: 'ok', id: 'cast-done' }, t(lang, 'castDone', { index: receipt.index })),
      witnessed() ? el('p', { class: 'hint', id: 'cast-pending' }, t(lang, 'castPending')) : null, link,
      el('p', { class: 'hint' }, t(lang, 'receiptHelp')), el('p', { class: 'hint' }, t(lang, 'revoteNote')));
    say('castDone', { index: receipt.index }, 'ok');
    await refresh();
  } catch (ex) {
    say('failed', { error: ex.message }, 'error');
  }
}

// ---- navigation and language ----

async function refresh() {
  await loadBoard();
  renderPage();
}

function route() {
  const vote = location.hash === '#vote';
  $('vote-view').hidden = !vote;
  $('page-view').hidden = vote;
  if (vote) renderVote();
  else renderPage();
}

function applyLanguage() {
  document.documentElement.lang = lang === 'zh' ? 'zh-Hans' : 'en';
  document.title = t(lang, 'title');
  $('title').textContent = t(lang, 'title');
  $('lang-label').textContent = t(lang, 'language');
  $('nav-page').textContent = t(lang, 'page');
  $('nav-vote').textContent = t(lang, 'booth');
  $('lang').value = lang;
}

$('lang').addEventListener('change', () => {
  lang = $('lang').value;
  localStorage.setItem('urna-lang', lang);
  applyLanguage();
  route();
});
window.addEventListener('hashchange', route);

applyLanguage();
say('loading');
refresh()
  .then(() => {
    say('phase', { phase: board.state.phase });
    route();
  })
  .catch((ex) => say('failed', { error: ex.message }, 'error'));
