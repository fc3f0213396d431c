// urna's consoles: the authority's, the registrar's and a trustee's page. Every act is one
// request to the console that served this page (which calls the same library as the CLI);
// the access token goes in a header, and a passphrase only in the body of the one request
// that needs the key — it is read from the dialog, sent, and dropped.

const meta = (n) => document.querySelector(`meta[name="${n}"]`).content;
const TOKEN = meta('urna-token');
const ROLE = meta('urna-role');
const main = document.getElementById('main');

/** An element: h('p', { class: 'x', onclick: f }, 'text', child, …). */
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'value') e.value = v;
    else if (k === 'checked') e.checked = !!v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.field = body?.error?.field;
    this.lines = body?.error?.lines;
  }
}

async function api(path, body) {
  const init = { headers: { 'X-Urna-Token': TOKEN } };
  if (body !== undefined) {
    init.method = 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(`/api${path}`, init);
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = null; }
  if (!r.ok) throw new ApiError(r.status, json);
  return json;
}

/** Asks for the key file's passphrase (and, for an act that cannot be undone, its word). */
function ask(text, word) {
  const d = document.getElementById('ask');
  const pass = document.getElementById('ask-pass');
  const confirm = document.getElementById('ask-confirm');
  document.getElementById('ask-text').textContent = text;
  document.getElementById('ask-confirm-row').hidden = !word;
  document.getElementById('ask-word').textContent = word || '';
  pass.value = '';
  confirm.value = '';
  return new Promise((resolve) => {
    const done = (v) => {
      d.close();
      pass.value = '';
      confirm.value = '';
      resolve(v);
    };
    document.getElementById('ask-cancel').onclick = () => done(null);
    document.getElementById('ask-form').onsubmit = (ev) => {
      ev.preventDefault();
      done({ passphrase: pass.value, confirm: confirm.value });
    };
    d.showModal();
    (word ? confirm : pass).focus();
  });
}

/** Runs `f`, showing its outcome in `out`; returns its value (or null on failure). */
async function act(out, f, okText) {
  out.replaceChildren(h('span', { class: 'muted' }, 'Working…'));
  try {
    const v = await f();
    out.replaceChildren(h('span', { class: 'ok', role: 'status' }, typeof okText === 'function' ? okText(v) : okText || 'Done.'));
    return v;
  } catch (e) {
    out.replaceChildren(h('span', { class: 'error', role: 'alert' }, e.message));
    return null;
  }
}

// ---------------------------------------------------------------- status, shared

let lastStatus = null;
const statusBox = h('section', { id: 'status', 'aria-labelledby': 'status-h' });

function ceremonyTable(st) {
  if (!st.trustees) return null;
  return h('table', { id: 'trustees' },
    h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Trustee'), h('th', {}, 'Key ceremony'), h('th', {}, 'Decryption share'))),
    h('tbody', {}, st.trustees.map((t) => h('tr', { 'data-trustee': t.index },
      h('td', {}, t.index), h('td', {}, t.name),
      h('td', { class: 'ceremony' }, t.disqualified ? 'disqualified' : t.ceremony_missing.length === 0 ? 'done' : `missing: ${t.ceremony_missing.join(', ')}`),
      h('td', { class: 'decrypted' }, t.decryption_share ? 'posted' : '—')))));
}

function renderStatus(st) {
  const b = st.ballots;
  const turnout = st.voters_on_roll ? ` (${((100 * b.counted) / st.voters_on_roll).toFixed(1)}% turnout)` : '';
  statusBox.replaceChildren(
    h('h2', { id: 'status-h' }, 'Election status'),
    h('p', {}, 'Phase: ', h('strong', { id: 'phase' }, st.phase), st.title ? ` · ${st.title}` : '', ` · log size ${st.log_size}`),
    h('p', { id: 'turnout' }, `Voters on the roll: ${st.voters_on_roll}; ballots cast ${b.cast}, counted ${b.counted}${turnout}, superseded ${b.superseded}, challenged ${b.challenged}.`),
    ...[
      st.trustees ? h('p', {}, `Threshold: ${st.threshold} of ${st.trustees.length}; decryption shares posted: `, h('span', { id: 'shares' }, String(st.decryption_shares))) : null,
      ceremonyTable(st),
    ].filter(Boolean),
  );
}

async function refreshStatus() {
  try {
    const st = await api('/status');
    const phaseChanged = !lastStatus || lastStatus.phase !== st.phase;
    lastStatus = st;
    renderStatus(st);
    if (phaseChanged) onPhase(st);
  } catch (e) {
    statusBox.replaceChildren(h('h2', { id: 'status-h' }, 'Election status'), h('p', { class: 'error', role: 'alert' }, `The board could not be read: ${e.message}`));
  }
}

let onPhase = () => {};

// ---------------------------------------------------------------- the authority

const KINDS = ['plurality', 'approval', 'score', 'referendum', 'ranked'];

function newContest(n) {
  return { id: `contest${n}`, title: '', titles: {}, kind: 'plurality', exactly: true, min: '', max: '', budget: '', blank: false, method: 'irv', seats: '', ranks: '', write_ins: '', write_in_len: '', options: [{ id: 'a', name: '', names: {} }, { id: 'b', name: '', names: {} }] };
}

const draft = {
  election_id: '', title: '', titles: {}, opens: '', closes: '', revote: '', threshold: '2',
  keys: { authority: '', registrar: '', board: '' },
  trustees: [], witnesses: [], witness_quorum: '', mixers: [],
  contests: [newContest(1)],
  ballot_styles: [{ id: 'all', title: '', titles: {}, contests: ['contest1'] }],
};
let languages = [];

// The draft is public (keys, names, rules): it is kept in this browser as it is typed, so that
// a reload or a closed tab loses nothing. Never a passphrase.
const DRAFT_KEY = `urna-draft ${meta('urna-board')}`;
function saveDraft() {
  try { localStorage.setItem(DRAFT_KEY, JSON.stringify({ draft, languages })); } catch { /* storage full or off */ }
}
try {
  const kept = JSON.parse(localStorage.getItem(DRAFT_KEY) || 'null');
  if (kept?.draft) { Object.assign(draft, kept.draft); languages = kept.languages || []; }
} catch { /* nothing kept */ }

/** Parses `urna trustee init`'s output (or JSON) for a trustee's two keys. */
function parseTrusteeKeys(text) {
  const find = (name) => (text.match(new RegExp(`${name}"?\\s*[=:]\\s*"([0-9a-fA-F]+)"`)) || [])[1] || '';
  return { signing_key: find('signing_key'), ceremony_key: find('ceremony_key') };
}

function input(path, get, set, attrs = {}) {
  return h('input', { 'data-field': path, id: `f-${path}`, value: get() ?? '', oninput: (e) => set(e.target.value), ...attrs });
}

function labelled(text, path, control) {
  return h('div', { class: 'row' }, h('label', { for: `f-${path}` }, text), control);
}

/** A text and its translations, one input per language of the election. */
function texts(label, path, obj, key, plural) {
  return h('div', {},
    labelled(label, `${path}${key}`, input(`${path}${key}`, () => obj[key], (v) => { obj[key] = v; })),
    languages.map((lang) => h('div', { class: 'row lang' },
      h('label', { for: `f-${path}${plural}.${lang}` }, `${label} (${lang})`),
      input(`${path}${plural}.${lang}`, () => obj[plural][lang], (v) => { obj[plural][lang] = v; }, { lang }))));
}

function removeButton(list, i, what) {
  return h('button', { type: 'button', onclick: () => { list.splice(i, 1); renderBuilder(); } }, `Remove ${what}`);
}

function contestFields(c, i) {
  const p = `contests.${i}.`;
  const num = (name, label) => labelled(label, `${p}${name}`, input(`${p}${name}`, () => c[name], (v) => { c[name] = v; }, { inputmode: 'numeric', size: 5 }));
  const kindFields = {
    plurality: [h('div', { class: 'row' }, h('label', { for: `f-${p}exactly` }, 'Exactly one choice'), h('input', { type: 'checkbox', id: `f-${p}exactly`, 'data-field': `${p}exactly`, checked: c.exactly, onchange: (e) => { c.exactly = e.target.checked; } }))],
    approval: [num('min', 'At least'), num('max', 'At most')],
    score: [num('max', 'Points per option'), num('budget', 'Points in all (empty: none)')],
    referendum: [h('div', { class: 'row' }, h('label', { for: `f-${p}blank` }, 'A blank option'), h('input', { type: 'checkbox', id: `f-${p}blank`, 'data-field': `${p}blank`, checked: c.blank, onchange: (e) => { c.blank = e.target.checked; } }))],
    ranked: [
      labelled('Method', `${p}method`, h('select', { id: `f-${p}method`, 'data-field': `${p}method`, onchange: (e) => { c.method = e.target.value; } }, ['irv', 'stv', 'schulze'].map((m) => h('option', { value: m, selected: c.method === m }, m)))),
      num('seats', 'Seats'), num('ranks', 'Ranks'), num('write_ins', 'Write-ins'), num('write_in_len', 'Write-in bytes'),
    ],
  }[c.kind] || [];
  return h('fieldset', { 'data-field': `contests.${i}` },
    h('legend', {}, `Contest ${i + 1}`),
    labelled('Id', `${p}id`, input(`${p}id`, () => c.id, (v) => {
      // The ballot styles name contests by id: they follow a renamed one.
      for (const s of draft.ballot_styles) s.contests = s.contests.map((x) => (x === c.id ? v : x));
      c.id = v;
    })),
    texts('Title', p, c, 'title', 'titles'),
    labelled('Kind', `${p}kind`, h('select', { id: `f-${p}kind`, 'data-field': `${p}kind`, onchange: (e) => { c.kind = e.target.value; renderBuilder(); } }, KINDS.map((k) => h('option', { value: k, selected: c.kind === k }, k)))),
    kindFields,
    c.kind === 'referendum' ? h('p', { class: 'muted' }, 'A referendum\'s options are yes, no (and blank).') : h('fieldset', { 'data-field': `${p}options`, id: `f-${p}options`, tabindex: '-1' },
      h('legend', {}, 'Options'),
      c.options.map((o, j) => h('div', { class: 'option' },
        labelled(`Option ${j + 1} id`, `${p}options.${j}.id`, input(`${p}options.${j}.id`, () => o.id, (v) => { o.id = v; }, { size: 12 })),
        texts(`Option ${j + 1} name`, `${p}options.${j}.`, o, 'name', 'names'),
        removeButton(c.options, j, `option ${j + 1}`))),
      h('button', { type: 'button', onclick: () => { c.options.push({ id: '', name: '', names: {} }); renderBuilder(); } }, 'Add an option')),
    removeButton(draft.contests, i, `contest ${i + 1}`));
}

function trusteeFields(t, i) {
  const p = `trustees.${i}.`;
  return h('fieldset', { 'data-field': `trustees.${i}` },
    h('legend', {}, `Trustee ${i + 1}`),
    labelled('Name', `${p}name`, input(`${p}name`, () => t.name, (v) => { t.name = v; })),
    labelled('Signing key', `${p}signing_key`, input(`${p}signing_key`, () => t.signing_key, (v) => { t.signing_key = v; }, { class: 'key' })),
    labelled('Ceremony key', `${p}ceremony_key`, input(`${p}ceremony_key`, () => t.ceremony_key, (v) => { t.ceremony_key = v; }, { class: 'key' })),
    h('div', { class: 'row' },
      h('label', { for: `f-${p}paste` }, 'Paste or upload'),
      h('textarea', { id: `f-${p}paste`, rows: 2, placeholder: 'the output of urna trustee init (or its console\'s keys)', oninput: (e) => { const k = parseTrusteeKeys(e.target.value); if (k.signing_key && k.ceremony_key) { Object.assign(t, k); renderBuilder(); } } }),
      h('input', { type: 'file', 'aria-label': `Upload trustee ${i + 1}'s keys`, onchange: async (e) => { const f = e.target.files[0]; if (f) { Object.assign(t, parseTrusteeKeys(await f.text())); renderBuilder(); } } })),
    removeButton(draft.trustees, i, `trustee ${i + 1}`));
}

function witnessFields(w, i) {
  const p = `witnesses.${i}.`;
  return h('fieldset', { 'data-field': `witnesses.${i}` },
    h('legend', {}, `Witness or validating node ${i + 1}`),
    labelled('Name', `${p}name`, input(`${p}name`, () => w.name, (v) => { w.name = v; })),
    labelled('Key', `${p}key`, input(`${p}key`, () => w.key, (v) => { w.key = v; }, { class: 'key' })),
    labelled('URL', `${p}url`, input(`${p}url`, () => w.url, (v) => { w.url = v; })),
    labelled('Role', `${p}role`, h('select', { id: `f-${p}role`, 'data-field': `${p}role`, onchange: (e) => { w.role = e.target.value; } },
      [['', 'witness (cosigns checkpoints)'], ['node', 'validating node (replicates, checks and cosigns every entry)']].map(([v, t]) => h('option', { value: v, selected: (w.role || '') === v }, t)))),
    removeButton(draft.witnesses, i, `witness ${i + 1}`));
}

function mixerFields(x, i) {
  const p = `mixers.${i}.`;
  return h('fieldset', { 'data-field': `mixers.${i}` },
    h('legend', {}, `Mixer ${i + 1}`),
    labelled('Name', `${p}name`, input(`${p}name`, () => x.name, (v) => { x.name = v; })),
    labelled('Key', `${p}key`, input(`${p}key`, () => x.key, (v) => { x.key = v; }, { class: 'key' })),
    removeButton(draft.mixers, i, `mixer ${i + 1}`));
}

function styleFields(s, i) {
  const p = `ballot_styles.${i}.`;
  return h('fieldset', { 'data-field': `ballot_styles.${i}` },
    h('legend', {}, `Ballot style ${i + 1}`),
    labelled('Id', `${p}id`, input(`${p}id`, () => s.id, (v) => { s.id = v; })),
    texts('Title', p, s, 'title', 'titles'),
    h('fieldset', { 'data-field': `${p}contests`, id: `f-${p}contests`, tabindex: '-1' }, h('legend', {}, 'Contests on this ballot'),
      draft.contests.map((c, j) => h('div', { class: 'row' },
        h('input', { type: 'checkbox', id: `f-${p}c${j}`, checked: s.contests.includes(c.id), onchange: (e) => { s.contests = e.target.checked ? [...s.contests, c.id] : s.contests.filter((x) => x !== c.id); } }),
        h('label', { for: `f-${p}c${j}` }, c.id || `(contest ${j + 1})`)))),
    removeButton(draft.ballot_styles, i, `ballot style ${i + 1}`));
}

const builder = h('section', { id: 'builder', 'aria-labelledby': 'builder-h' });
const problemBox = h('div', { id: 'problem' });
const previewBox = h('div', { id: 'preview' });
const setupDone = h('div', { id: 'setup-done' });

function renderBuilder() {
  saveDraft();
  builder.replaceChildren(
    h('h2', { id: 'builder-h' }, 'The election\'s manifest'),
    h('p', { class: 'muted' }, 'Checked as the rules will check it; a problem is shown at its field. Nothing is posted until you post the setup.'),
    h('fieldset', {}, h('legend', {}, 'Election'),
      labelled('Election id', 'election_id', input('election_id', () => draft.election_id, (v) => { draft.election_id = v; }, { placeholder: 'vote.example.org/2026/council', size: 40 })),
      labelled('Other languages', 'languages', h('input', { id: 'f-languages', value: languages.join(', '), placeholder: 'zh-CN', onchange: (e) => { languages = e.target.value.split(/[\s,]+/).filter(Boolean); renderBuilder(); } })),
      texts('Title', '', draft, 'title', 'titles'),
      labelled('Polls open (RFC 3339)', 'opens', input('opens', () => draft.opens, (v) => { draft.opens = v; }, { placeholder: '2026-12-01T08:00:00Z' })),
      labelled('Polls close (RFC 3339)', 'closes', input('closes', () => draft.closes, (v) => { draft.closes = v; })),
      labelled('Revoting', 'revote', h('select', { id: 'f-revote', 'data-field': 'revote', onchange: (e) => { draft.revote = e.target.value; } },
        [['', 'the latest ballot counts'], ['forbidden', 'forbidden']].map(([v, t]) => h('option', { value: v, selected: draft.revote === v }, t)))),
      labelled('Threshold (trustees needed to decrypt)', 'threshold', input('threshold', () => draft.threshold, (v) => { draft.threshold = v; }, { inputmode: 'numeric', size: 4 }))),
    h('fieldset', {}, h('legend', {}, 'Keys'),
      labelled('Authority', 'keys.authority', input('keys.authority', () => draft.keys.authority, (v) => { draft.keys.authority = v; }, { class: 'key' })),
      h('button', { type: 'button', id: 'my-key', onclick: async () => {
        const a = await ask('Open the authority key file to read its public key.');
        if (!a) return;
        const v = await act(problemBox, () => api('/key', { passphrase: a.passphrase }), 'Filled in the authority key.');
        if (v) { draft.keys.authority = v.public_key; renderBuilder(); }
      } }, 'Use this console\'s key'),
      labelled('Registrar', 'keys.registrar', input('keys.registrar', () => draft.keys.registrar, (v) => { draft.keys.registrar = v; }, { class: 'key' })),
      labelled('Board', 'keys.board', input('keys.board', () => draft.keys.board, (v) => { draft.keys.board = v; }, { class: 'key' }))),
    h('fieldset', { 'data-field': 'trustees', id: 'f-trustees', tabindex: '-1' }, h('legend', {}, 'Trustees'),
      draft.trustees.map(trusteeFields),
      h('button', { type: 'button', id: 'add-trustee', onclick: () => { draft.trustees.push({ name: '', signing_key: '', ceremony_key: '' }); renderBuilder(); } }, 'Add a trustee')),
    h('fieldset', { 'data-field': 'witnesses', id: 'f-witnesses', tabindex: '-1' }, h('legend', {}, 'Witnesses and validating nodes'),
      draft.witnesses.map(witnessFields),
      h('button', { type: 'button', onclick: () => { draft.witnesses.push({ name: '', key: '', url: '', role: '' }); renderBuilder(); } }, 'Add a witness or node'),
      labelled('Quorum (empty: a majority)', 'witness_quorum', input('witness_quorum', () => draft.witness_quorum, (v) => { draft.witness_quorum = v; }, { inputmode: 'numeric', size: 4 }))),
    h('fieldset', { 'data-field': 'contests', id: 'f-contests', tabindex: '-1' }, h('legend', {}, 'Contests'),
      draft.contests.map(contestFields),
      h('button', { type: 'button', id: 'add-contest', onclick: () => { draft.contests.push(newContest(draft.contests.length + 1)); renderBuilder(); } }, 'Add a contest')),
    h('fieldset', { 'data-field': 'ballot_styles', id: 'f-ballot_styles', tabindex: '-1' }, h('legend', {}, 'Ballot styles'),
      draft.ballot_styles.map(styleFields),
      h('button', { type: 'button', onclick: () => { draft.ballot_styles.push({ id: '', title: '', titles: {}, contests: [] }); renderBuilder(); } }, 'Add a ballot style')),
    h('fieldset', { 'data-field': 'mixers', id: 'f-mixers', tabindex: '-1' }, h('legend', {}, 'Mixers of ranked contests (none: the trustees, in order)'),
      draft.mixers.map(mixerFields),
      h('button', { type: 'button', onclick: () => { draft.mixers.push({ name: '', key: '' }); renderBuilder(); } }, 'Add a mixer')),
    h('p', {},
      h('button', { type: 'button', id: 'check', class: 'primary', onclick: () => check() }, 'Check and preview'),
      h('button', { type: 'button', id: 'post-setup', class: 'danger', onclick: () => postSetup() }, 'Post the setup')),
    problemBox,
    previewBox,
  );
}

/** Clears earlier problems, then marks the field of `e` (if it names one). */
function showProblem(e) {
  for (const el of document.querySelectorAll('.invalid')) { el.classList.remove('invalid'); el.removeAttribute('aria-invalid'); el.removeAttribute('aria-describedby'); }
  for (const el of document.querySelectorAll('.field-error')) el.remove();
  if (!e) { problemBox.replaceChildren(); return; }
  let field = e.field || '';
  let el = null;
  // The field itself, or the nearest enclosing one that is on the page.
  while (field && !(el = document.querySelector(`[data-field="${CSS.escape(field)}"]`))) field = field.includes('.') ? field.slice(0, field.lastIndexOf('.')) : '';
  problemBox.replaceChildren(h('p', { class: 'error', role: 'alert', id: 'problem-text' }, e.field ? `${e.field}: ${e.message}` : e.message));
  if (el) {
    el.classList.add('invalid');
    el.setAttribute('aria-invalid', 'true');
    const msg = h('p', { class: 'field-error', id: 'field-error', 'data-for': e.field }, e.message);
    el.setAttribute('aria-describedby', 'field-error');
    el.after(msg);
    el.focus?.();
    el.scrollIntoView?.({ block: 'center' });
  }
}

function describeRule(r) {
  switch (r.kind) {
    case 'plurality': return r.exactly ? 'Choose exactly one.' : 'Choose at most one.';
    case 'approval': return `Choose between ${r.min} and ${r.max}.`;
    case 'score': return `Give each 0 to ${r.max} points${r.budget ? `, ${r.budget} in all` : ''}.`;
    case 'referendum': return 'Yes or no.';
    case 'ranked': return `Rank up to ${r.ranks} in order of preference.`;
    default: return r.kind;
  }
}

function renderPreview(preview) {
  return h('div', { id: 'ballots' }, h('h3', {}, 'The ballots as voters will see them'),
    preview.map((b) => h('div', { class: 'preview', lang: b.lang || 'en', 'data-lang': b.lang || 'default' },
      h('h4', {}, `${b.lang || 'default texts'}: ${b.title}`),
      b.styles.map((s) => h('div', {}, h('h5', {}, s.title),
        s.contests.map((c) => h('div', {}, h('strong', {}, c.title), ' ', h('span', { class: 'muted' }, describeRule(c.rule)),
          h('ul', {}, c.options.map(([, name]) => h('li', {}, name))))))))));
}

async function check() {
  showProblem(null);
  problemBox.replaceChildren(h('p', { class: 'muted' }, 'Checking…'));
  try {
    const v = await api('/draft/check', { draft });
    showProblem(null);
    problemBox.replaceChildren(h('p', { class: 'ok', role: 'status', id: 'check-ok' }, 'The rules accept this manifest.'));
    previewBox.replaceChildren(renderPreview(v.preview), h('details', {}, h('summary', {}, 'The manifest as TOML (what `urna authority setup` would post)'), h('pre', { id: 'toml' }, v.toml)));
    return true;
  } catch (e) {
    previewBox.replaceChildren();
    showProblem(e);
    return false;
  }
}

async function postSetup() {
  if (!(await check())) return;
  const a = await ask('Post this manifest as the election\'s setup: it cannot be changed afterwards.', 'setup');
  if (!a) return;
  if (a.confirm.trim() !== 'setup') { problemBox.replaceChildren(h('p', { class: 'error', role: 'alert' }, 'Not confirmed: nothing was posted.')); return; }
  try {
    const v = await api('/setup', { draft, passphrase: a.passphrase });
    // Outside the form, which the new phase hides.
    localStorage.removeItem(DRAFT_KEY);
    setupDone.replaceChildren(h('p', { class: 'ok', role: 'status', id: 'setup-ok' }, `The election ${v.election_id} is set up (entry ${v.index}). The trustees run the key ceremony next.`));
    await refreshStatus();
  } catch (e) {
    showProblem(e);
  }
}

function authority() {
  const polls = h('section', { id: 'polls', 'aria-labelledby': 'polls-h' });
  const tally = h('section', { id: 'tally', 'aria-labelledby': 'tally-h' });
  const pollsOut = h('div', { id: 'polls-out' });
  const tallyOut = h('div', { id: 'tally-out' });
  const resultBox = h('div', { id: 'result' });
  const confirmAct = (what, word) => async () => {
    const a = await ask(`${what}: this cannot be undone.`, word);
    if (!a) return;
    await act(pollsOut, () => api(`/${word}`, a), (v) => `${what}: done (entry ${v.index}).`);
    await refreshStatus();
  };
  polls.append(h('h2', { id: 'polls-h' }, 'Polls'),
    h('button', { type: 'button', id: 'open-polls', class: 'danger', onclick: confirmAct('Open the polls', 'open') }, 'Open the polls'),
    h('button', { type: 'button', id: 'close-polls', class: 'danger', onclick: confirmAct('Close the polls', 'close') }, 'Close the polls'),
    pollsOut);
  const showResult = async () => {
    const r = await fetch('/api/result.txt', { headers: { 'X-Urna-Token': TOKEN } });
    if (!r.ok) return;
    resultBox.replaceChildren(h('h3', {}, 'Result'), h('pre', { id: 'result-text' }, await r.text()),
      h('p', {}, 'Export: ', h('a', { href: '/api/result.json', download: 'result.json' }, 'JSON'), ' · ', h('a', { href: '/api/result.csv', download: 'result.csv' }, 'CSV'), ' · ', h('a', { href: '/api/result.txt', download: 'result.txt' }, 'text')));
  };
  tally.append(h('h2', { id: 'tally-h' }, 'Tally'),
    h('p', { class: 'muted' }, 'Once enough trustees have posted their decryption shares (see the table above), the result can be computed and posted; anyone may, and the rules check it.'),
    h('button', { type: 'button', id: 'post-tally', class: 'primary', onclick: async () => { await act(tallyOut, () => api('/tally', {}), 'The result is on the ledger.'); await refreshStatus(); await showResult(); } }, 'Compute and post the result'),
    tallyOut, resultBox);
  builder.addEventListener('input', saveDraft);
  builder.addEventListener('change', saveDraft);
  main.replaceChildren(statusBox, setupDone, builder, polls, tally);
  onPhase = (st) => {
    builder.hidden = st.phase !== 'awaiting-setup';
    // Kept in view once the election exists, so that the outcome of the last act stays read.
    polls.hidden = ['awaiting-setup', 'ceremony-failed'].includes(st.phase);
    document.getElementById('open-polls').disabled = st.phase !== 'registration';
    document.getElementById('close-polls').disabled = st.phase !== 'voting';
    tally.hidden = !['tallying', 'finished'].includes(st.phase);
    if (!draft.keys.board && st.board_key) { draft.keys.board = st.board_key; renderBuilder(); }
    if (st.phase === 'finished') showResult();
  };
  renderBuilder();
}

// ---------------------------------------------------------------- the registrar

function registrar() {
  const voters = h('section', { id: 'voters', 'aria-labelledby': 'voters-h' });
  const csv = h('textarea', { id: 'csv', 'data-field': 'csv', rows: 8, placeholder: 'voter_id,weight,style\nann,1,all' });
  const out = h('div', { id: 'voters-out' });
  const showLines = (e) => {
    if (e.lines) out.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message), h('ul', { id: 'bad-lines' }, e.lines.map((l) => h('li', { 'data-line': l.line }, `line ${l.line}: ${l.message}`))));
    else out.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
    csv.classList.add('invalid');
  };
  const checkCsv = async () => {
    csv.classList.remove('invalid');
    try {
      const v = await api('/voters/check', { csv: csv.value });
      out.replaceChildren(h('p', { class: 'ok', role: 'status', id: 'csv-ok' }, `${v.voters} voter(s), every line well formed${v.styles_checked ? ' and every ballot style known' : ''}.`));
      return true;
    } catch (e) { showLines(e); return false; }
  };
  voters.append(h('h2', { id: 'voters-h' }, 'Voters'),
    h('p', {}, h('label', { for: 'csv' }, 'The voters CSV (voter_id[,weight][,style])'), h('input', { type: 'file', accept: '.csv,text/csv', 'aria-label': 'Upload the voters CSV', onchange: async (e) => { const f = e.target.files[0]; if (f) { csv.value = await f.text(); checkCsv(); } } })),
    csv,
    h('p', {},
      h('button', { type: 'button', id: 'check-csv', onclick: checkCsv }, 'Check'),
      h('button', { type: 'button', id: 'issue', class: 'danger', onclick: async () => {
        if (!(await checkCsv())) return;
        const a = await ask('Issue a credential to each new voter and post the roll.');
        if (!a) return;
        try {
          const v = await api('/credentials', { csv: csv.value, passphrase: a.passphrase });
          out.replaceChildren(h('p', { class: 'ok', role: 'status', id: 'issued' }, `Issued ${v.ids.length} credential(s); ${v.posted} roll batch(es) posted.`));
          await refreshRoll();
          await refreshStatus();
        } catch (e) { showLines(e); }
      } }, 'Issue credentials and post the roll')),
    out);
  const letters = h('section', { id: 'letters', 'aria-labelledby': 'letters-h' });
  const lettersOut = h('div', { id: 'letters-out' });
  letters.append(h('h2', { id: 'letters-h' }, 'Letters'),
    h('p', { class: 'muted' }, 'Each letter holds a voter\'s secret credential (as text and QR code). Print it or save it; delete the credential file once delivered.'),
    h('button', { type: 'button', id: 'write-letters', onclick: () => act(lettersOut, () => api('/letters', {}), (v) => `${v.written} letter(s) written to ${v.out}${v.missing.length ? `; no credential file for ${v.missing.join(', ')}` : ''}.`) }, 'Write every letter to the letters directory'),
    lettersOut);
  const rollBox = h('section', { id: 'roll', 'aria-labelledby': 'roll-h' });
  const refreshRoll = async () => {
    try {
      const r = await api('/roll');
      rollBox.replaceChildren(h('h2', { id: 'roll-h' }, 'The roll'),
        h('p', {}, `On the board's roll: ${r.voters} credential(s), weight ${r.total_weight}, in ${r.batches} batch(es).`),
        h('table', { id: 'roll-table' }, h('thead', {}, h('tr', {}, ['Voter', 'Weight', 'Style', 'On the board\'s roll', 'Letter'].map((t) => h('th', {}, t)))),
          h('tbody', {}, r.registry.map((v) => h('tr', { 'data-voter': v.voter_id }, h('td', {}, v.voter_id), h('td', {}, v.weight), h('td', {}, v.style), h('td', {}, v.on_roll ? 'yes' : 'not yet'),
            h('td', {}, v.credential_file ? [h('a', { href: `/api/letters/${encodeURIComponent(v.voter_id)}`, target: '_blank', rel: 'noopener' }, 'print'), ' · ', h('a', { href: `/api/letters/${encodeURIComponent(v.voter_id)}`, download: `${v.voter_id}.html` }, 'download')] : 'credential delivered'))))));
    } catch (e) { rollBox.replaceChildren(h('h2', { id: 'roll-h' }, 'The roll'), h('p', { class: 'error' }, e.message)); }
  };
  const keyBox = h('section', { id: 'keys', 'aria-labelledby': 'keys-h' });
  const keyOut = h('div', { id: 'keys-out' });
  keyBox.append(h('h2', { id: 'keys-h' }, 'Public key for the manifest'),
    h('button', { type: 'button', id: 'show-keys', onclick: async () => {
      const a = await ask('Open the key file to read its public key.');
      if (!a) return;
      const v = await act(keyOut, () => api('/key', { passphrase: a.passphrase }), 'Send this key to the authority ([keys] registrar):');
      if (v) keyOut.append(h('pre', { id: 'public-keys' }, v.public_key));
    } }, 'Show my public key'),
    keyOut);
  main.replaceChildren(statusBox, keyBox, voters, letters, rollBox);
  onPhase = () => refreshRoll();
}

// ---------------------------------------------------------------- the trustee

const STEPS = {
  commitments: 'Post this trustee\'s commitments (a fresh secret polynomial is made and sealed into the key file first).',
  shares: 'Post the shares, each encrypted to the trustee it is for.',
  confirmation: 'Every share received checks out: post a confirmation.',
  complaint: 'A share received does not match its dealer\'s commitments: post a public complaint revealing it.',
  wait: 'Nothing to post until other trustees act.',
  complete: 'The key ceremony is complete.',
  failed: 'The key ceremony failed.',
};

function describeNext(n) {
  const base = STEPS[n.step] || n.step;
  if (n.step === 'complaint') return `${base} (against trustee ${n.dealer})`;
  if (n.step === 'wait') return `${base} ${n.why}`;
  if (n.step === 'complete') return `${base} Joint election key: ${n.joint_key}`;
  if (n.step === 'failed') return `${base} ${n.why}`;
  return base;
}

function trustee() {
  const keys = h('section', { id: 'keys', 'aria-labelledby': 'keys-h' });
  const keysOut = h('div', { id: 'keys-out' });
  keys.append(h('h2', { id: 'keys-h' }, 'Public keys for the manifest'),
    h('button', { type: 'button', id: 'show-keys', onclick: async () => {
      const a = await ask('Open the key file to read its public keys.');
      if (!a) return;
      const v = await act(keysOut, () => api('/key', { passphrase: a.passphrase }), 'Send these two lines to the authority:');
      if (v) keysOut.append(h('pre', { id: 'public-keys' }, `signing_key = "${v.signing_key}"\nceremony_key = "${v.ceremony_key}"`));
    } }, 'Show my public keys'),
    keysOut);
  const cer = h('section', { id: 'ceremony', 'aria-labelledby': 'ceremony-h' });
  const next = h('p', { id: 'next-step' });
  const cerOut = h('div', { id: 'ceremony-out' });
  cer.append(h('h2', { id: 'ceremony-h' }, 'Key ceremony, step by step'),
    h('p', { class: 'muted' }, 'Each step is decided from the ledger; see what it will post, then take it.'),
    next,
    h('button', { type: 'button', id: 'preview-step', onclick: async () => {
      const a = await ask('Open the key file to see the next step.');
      if (!a) return;
      const v = await act(cerOut, () => api('/ceremony/preview', { passphrase: a.passphrase }), (v) => `You are trustee ${v.index}.`);
      if (v) next.textContent = `Next: ${describeNext(v.next)}`;
    } }, 'What is the next step?'),
    h('button', { type: 'button', id: 'take-step', class: 'primary', onclick: async () => {
      const a = await ask('Take the next step of the key ceremony (the key file is updated).');
      if (!a) return;
      const v = await act(cerOut, () => api('/ceremony/step', { passphrase: a.passphrase }), (v) => `Done: ${describeNext(v.done)}`);
      if (v) { next.textContent = `Next: ${describeNext(v.next)}`; next.dataset.step = v.next.step; }
      await refreshStatus();
    } }, 'Take the next step'),
    cerOut);
  const dec = h('section', { id: 'decryption', 'aria-labelledby': 'decryption-h' });
  const decOut = h('div', { id: 'decrypt-out' });
  dec.append(h('h2', { id: 'decryption-h' }, 'After the polls close'),
    h('button', { type: 'button', id: 'mix', onclick: async () => {
      const a = await ask('Mix the ranked contests in this trustee\'s turn.');
      if (!a) return;
      await act(decOut, () => api('/mix', { passphrase: a.passphrase }), (v) => v.notes.join(' ') || 'Nothing to mix.');
    } }, 'Mix the ranked contests'),
    h('button', { type: 'button', id: 'decrypt', class: 'primary', onclick: async () => {
      const a = await ask('Post this trustee\'s decryption share of the tally.');
      if (!a) return;
      await act(decOut, () => api('/decrypt', { passphrase: a.passphrase }), (v) => (v.posted ? `Posted. ${v.notes.join(' ')}` : 'This trustee\'s decryption shares are on the ledger already.'));
      await refreshStatus();
    } }, 'Decrypt'),
    decOut);
  main.replaceChildren(statusBox, keys, cer, dec);
  onPhase = (st) => {
    cer.hidden = !['key-ceremony', 'registration', 'ceremony-failed'].includes(st.phase);
    dec.hidden = !['tallying', 'finished'].includes(st.phase);
  };
}

({ authority, registrar, trustee })[ROLE]();
refreshStatus();
setInterval(refreshStatus, 3000);
