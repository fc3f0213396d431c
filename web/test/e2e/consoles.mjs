// Drives urna's consoles in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core), as the officials would, each in their own browser: the trustees and the
// registrar read their public keys in their consoles; the authority builds the manifest in the
// form (bad input first: each problem must show at its field, and nothing be posted), previews
// it in both languages and posts it; the trustees take the key ceremony step by step; the
// registrar uploads the voters CSV (a bad one first: errors by line) and issues the
// credentials; the authority opens the polls; voters vote in the booth; the authority closes
// the polls; two trustees decrypt; the authority posts the result. Screenshots go to <out>.
//
// Usage: node consoles.mjs <out> <board url> <credentials dir> <passphrase> <authority url>
//          <registrar url> <trustee url>…   (console URLs as printed, with ?token=)
// Prints a JSON report as its last line.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [out, board, creds, passphrase, authorityUrl, registrarUrl, ...trusteeUrls] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const report = { page_errors: [], bad_input: {}, steps: [], accessibility: {} };
const fail = (what) => { throw new Error(what); };
const pages = [];
// On any failure: every page as it stood, to see why.
process.on('uncaughtException', async (err) => {
  process.stderr.write(`${err.stack || err}\n`);
  for (const [name, p] of pages) {
    try {
      await p.screenshot({ path: join(out, `console-failed-${name.replace(/\W+/g, '-')}.png`), fullPage: true });
      process.stderr.write(`${name}: ${(await p.textContent('main')).slice(0, 3000)}\n`);
    } catch { /* the page is gone */ }
  }
  process.exit(1);
});

/** A console in a browser of its own (as on the official's own machine). */
async function openConsole(url, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  pages.push([name, page]);
  page.on('pageerror', (err) => report.page_errors.push(`${name}: ${err.message}`));
  page.on('console', (m) => process.stderr.write(`${name} console: ${m.text()}\n`));
  await page.goto(url);
  // The token left the address bar for a cookie.
  if (page.url().includes('token=')) fail(`${name}: the token stayed in the address`);
  await page.waitForSelector('#phase');
  return page;
}

const AXE = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

/** Runs axe-core on the page as it stands; serious or critical violations fail the test. */
async function audit(page, name) {
  // Evaluated through the debugging protocol: the console's policy rightly refuses an
  // injected <script>.
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE);
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  report.accessibility[name] = result.violations.map((v) => `${v.impact}: ${v.id}`);
  if (bad.length > 0) fail(`accessibility (${name}): ${bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`).join('; ')}`);
}

const shot = (page, name) => page.screenshot({ path: join(out, `console-${name}.png`), fullPage: true });
const byId = (id) => `[id="${id}"]`;

/** Answers the passphrase dialog (and its confirmation word). */
async function answer(page, word) {
  await page.waitForSelector('#ask[open]');
  if (word) await page.fill('#ask-confirm', word);
  await page.fill('#ask-pass', passphrase);
  await page.click('#ask-ok');
  await page.waitForSelector('#ask:not([open])', { state: 'attached' });
}

/** Clicks `button`, answers the dialog, and waits for the outcome in `outSel`. */
async function actOn(page, button, outSel, word) {
  await page.click(button);
  await answer(page, word);
  await page.waitForSelector(`${outSel} .ok, ${outSel} .error`);
  const err = await page.$(`${outSel} .error`);
  if (err) fail(`${button}: ${await err.textContent()}`);
  return (await page.textContent(outSel)).trim();
}

const phase = async (page) => (await page.textContent('#phase')).trim();
async function waitPhase(page, want) {
  for (let i = 0; i < 60; i++) {
    if ((await phase(page)) === want) return;
    await page.waitForTimeout(500);
  }
  fail(`phase is ${await phase(page)}, not ${want}`);
}

// ---- each official's public keys, read in their own console
const trustees = [];
const trusteeKeys = [];
for (const [i, url] of trusteeUrls.entries()) {
  const page = await openConsole(url, `trustee ${i + 1}`);
  await actOn(page, '#show-keys', '#keys-out');
  trusteeKeys.push(await page.textContent('#public-keys'));
  trustees.push(page);
}
const registrar = await openConsole(registrarUrl, 'registrar');
await actOn(registrar, '#show-keys', '#keys-out');
const registrarKey = (await registrar.textContent('#public-keys')).trim();

// ---- the authority's form
const authority = await openConsole(authorityUrl, 'authority');
await authority.waitForSelector('#builder:not([hidden])');
await authority.waitForFunction(() => document.getElementById('f-keys.board').value.length === 64);
await authority.fill('#f-election_id', 'browser.urna.example/2026');
await authority.fill('#f-languages', 'zh-CN');
await authority.press('#f-languages', 'Tab');
await authority.fill('#f-title', 'Browser election');
await authority.fill(byId('f-titles.zh-CN'), '浏览器选举');
await authority.fill('#f-threshold', '2');
await authority.click('#my-key');
await answer(authority);
await authority.waitForFunction(() => document.getElementById('f-keys.authority').value.length === 64);
await authority.fill(byId('f-keys.registrar'), registrarKey);
for (const [i, keys] of trusteeKeys.entries()) {
  await authority.click('#add-trustee');
  await authority.fill(byId(`f-trustees.${i}.name`), `Trustee ${i + 1}`);
  await authority.fill(byId(`f-trustees.${i}.paste`), keys);
  await authority.waitForFunction((i) => document.getElementById(`f-trustees.${i}.ceremony_key`).value.length === 64, i);
}
await authority.fill(byId('f-contests.0.id'), 'mayor');
await authority.fill(byId('f-contests.0.title'), 'Mayor');
await authority.fill(byId('f-contests.0.titles.zh-CN'), '市长');
for (const [j, [id, name, zh]] of [['ada', 'Ada', '艾达'], ['ben', 'Ben', '本']].entries()) {
  await authority.fill(byId(`f-contests.0.options.${j}.id`), id);
  await authority.fill(byId(`f-contests.0.options.${j}.name`), name);
  await authority.fill(byId(`f-contests.0.options.${j}.names.zh-CN`), zh);
}
await authority.click('#add-contest');
await authority.fill(byId('f-contests.1.id'), 'measure');
await authority.selectOption(byId('f-contests.1.kind'), 'referendum');
await authority.fill(byId('f-contests.1.title'), 'Measure A');
await authority.fill(byId('f-contests.1.titles.zh-CN'), 'A 号议案');
await authority.check(byId('f-ballot_styles.0.c1'));
await authority.fill(byId('f-ballot_styles.0.title'), 'Residents');
await authority.fill(byId('f-ballot_styles.0.titles.zh-CN'), '居民');

/** Makes the form bad with `spoil`, posts, and checks that the problem shows at `field`. */
async function badInput(name, spoil, field, mend) {
  await spoil();
  await authority.click('#post-setup');
  try {
    await authority.waitForSelector(`.field-error[data-for="${field}"]`, { timeout: 20000 });
  } catch {
    fail(`${name}: no error at ${field}: ${await authority.textContent('#problem')}`);
  }
  const marked = await authority.$(`.invalid[data-field="${field}"]`);
  const said = await authority.$(`.field-error[data-for="${field}"]`);
  if (!marked || !said) fail(`${name}: no error at ${field}: ${await authority.textContent('#problem')}`);
  if (await authority.$('#ask[open]')) fail(`${name}: asked to post a bad manifest`);
  report.bad_input[name] = (await said.textContent()).trim();
  if (name === 'duplicate option id') await audit(authority, 'authority-field-error');
  await shot(authority, `bad-${name.replace(/\W+/g, '-')}`);
  await mend();
  if ((await phase(authority)) !== 'awaiting-setup') fail(`${name}: something was posted`);
}
await badInput('empty contest',
  () => authority.click('#f-contests\\.0\\.options button:has-text("Remove option 2")'),
  'contests.0.options',
  async () => {
    await authority.click('#f-contests\\.0\\.options button:has-text("Add an option")');
    await authority.fill(byId('f-contests.0.options.1.id'), 'ben');
    await authority.fill(byId('f-contests.0.options.1.name'), 'Ben');
    await authority.fill(byId('f-contests.0.options.1.names.zh-CN'), '本');
  });
await badInput('duplicate option id',
  () => authority.fill(byId('f-contests.0.options.1.id'), 'ada'),
  'contests.0.options.1.id',
  () => authority.fill(byId('f-contests.0.options.1.id'), 'ben'));
await badInput('threshold above the trustees',
  () => authority.fill('#f-threshold', '4'),
  'threshold',
  () => authority.fill('#f-threshold', '2'));
const goodKey = await authority.inputValue(byId('f-trustees.1.signing_key'));
await badInput('malformed key',
  () => authority.fill(byId('f-trustees.1.signing_key'), `${goodKey.slice(0, 60)}zzzz`),
  'trustees.1.signing_key',
  () => authority.fill(byId('f-trustees.1.signing_key'), goodKey));

// A reload loses nothing of the form.
await authority.reload();
await authority.waitForSelector('#builder:not([hidden])');
for (const [id, want] of [['#f-election_id', 'browser.urna.example/2026'], [byId('f-contests.1.titles.zh-CN'), 'A 号议案'], [byId('f-trustees.2.ceremony_key'), null]]) {
  const got = await authority.inputValue(id);
  if (want ? got !== want : got.length !== 64) fail(`after a reload, ${id} is ${got}`);
}
await authority.click('#check');
await authority.waitForSelector('#check-ok');
const zh = await authority.textContent('[data-lang="zh-CN"]');
for (const words of ['浏览器选举', '市长', '艾达', 'A 号议案', '居民']) if (!zh.includes(words)) fail(`the Chinese preview lacks ${words}: ${zh}`);
await shot(authority, 'preview');
await audit(authority, 'authority-preview');
await authority.click('#post-setup');
await answer(authority, 'setup');
await authority.waitForSelector('#setup-ok');
report.steps.push('setup posted');

// ---- the key ceremony, step by step in each trustee's console
for (const t of trustees) await waitPhase(t, 'key-ceremony');
for (let round = 0; round < 8; round++) {
  for (const [i, t] of trustees.entries()) {
    if ((await t.getAttribute('#next-step', 'data-step')) === 'complete') continue;
    const said = await actOn(t, '#take-step', '#ceremony-out');
    report.steps.push(`trustee ${i + 1}: ${said}`);
  }
  const done = await Promise.all(trustees.map((t) => t.getAttribute('#next-step', 'data-step')));
  if (done.every((s) => s === 'complete')) break;
}
await shot(trustees[0], 'trustee-ceremony');
await audit(trustees[0], 'trustee-ceremony');
await waitPhase(authority, 'registration');
const ceremony = await authority.$$eval('#trustees td.ceremony', (tds) => tds.map((t) => t.textContent));
if (!ceremony.every((c) => c === 'done')) fail(`ceremony as the authority sees it: ${ceremony}`);

// ---- the registrar: a bad CSV (errors by line), then the voters
await registrar.fill('#csv', 'voter_id,weight,style\nann,1,all\nann,1,all\nbob,two,all\n');
await registrar.click('#check-csv');
await registrar.waitForSelector('#bad-lines');
const lines = await registrar.$$eval('#bad-lines li', (ls) => ls.map((l) => Number(l.dataset.line)));
if (!lines.includes(3) || !lines.includes(4)) fail(`bad lines: ${lines}`);
report.bad_input['voters CSV'] = await registrar.textContent('#bad-lines');
await shot(registrar, 'registrar-bad-csv');
await audit(registrar, 'registrar-bad-csv');
await registrar.fill('#csv', 'voter_id,weight,style\nann,1,all\nbob,1,all\ncai,1,all\n');
await registrar.click('#issue');
await answer(registrar);
await registrar.waitForSelector('#issued');
await registrar.waitForSelector('#roll-table tr[data-voter="cai"]');
await registrar.click('#write-letters');
await registrar.waitForSelector('#letters-out .ok');
await shot(registrar, 'registrar-roll');

// ---- the polls open, with confirmation
await waitPhase(authority, 'registration');
await actOn(authority, '#open-polls', '#polls-out', 'open');
await waitPhase(authority, 'voting');

// ---- voters in the booth
const voter = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
voter.setDefaultTimeout(60000);
voter.on('pageerror', (err) => report.page_errors.push(`booth: ${err.message}`));
for (const [who, picks] of [['ann', ['c0-o0', 'c1-o0']], ['bob', ['c0-o0', 'c1-o1']]]) {
  await voter.goto(`${board}/booth/?visit=${Date.now()}#vote`);
  await voter.waitForSelector('#credential');
  await voter.fill('#credential', readFileSync(join(creds, `${who}.credential`), 'utf8'));
  await voter.click('#use-credential');
  await voter.waitForSelector('#ballot');
  for (const id of picks) await voter.check(`#${id}`);
  await voter.click('#review');
  await voter.waitForSelector('#summary');
  await voter.click('#encrypt');
  await voter.waitForSelector('#tracking-code');
  await voter.click('#cast');
  await voter.waitForSelector('#cast-done');
  report.steps.push(`${who} voted in the booth`);
}
// Live turnout in the authority's console.
await authority.waitForFunction(() => document.getElementById('turnout').textContent.includes('counted 2'), null, { timeout: 30000 });
await shot(authority, 'turnout');
await actOn(authority, '#close-polls', '#polls-out', 'close');
await waitPhase(authority, 'tallying');

// ---- two trustees decrypt; the authority follows and posts the result
for (const t of trustees.slice(0, 2)) {
  await waitPhase(t, 'tallying');
  await actOn(t, '#decrypt', '#decrypt-out');
}
await authority.waitForFunction(() => [...document.querySelectorAll('#trustees td.decrypted')].filter((t) => t.textContent === 'posted').length === 2, null, { timeout: 30000 });
await authority.click('#post-tally');
await authority.waitForSelector('#tally-out .ok, #tally-out .error');
if (await authority.$('#tally-out .error')) fail(`tally: ${await authority.textContent('#tally-out')}`);
await authority.waitForSelector('#result-text');
report.result = await authority.textContent('#result-text');
await shot(authority, 'result');
await audit(authority, 'authority-result');
const [download] = await Promise.all([authority.waitForEvent('download'), authority.click('a[download="result.csv"]')]);
report.result_csv = readFileSync(await download.path(), 'utf8');
await browser.close();
if (report.page_errors.length > 0) fail(`page errors: ${report.page_errors.join(' | ')}`);
console.log(JSON.stringify(report));
