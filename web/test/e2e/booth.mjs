// Drives the booth in headless Chromium (Debian's /usr/bin/chromium through playwright-core)
// against a real board, as voters and officials would, in English and in Simplified Chinese, at
// phone width (390 px) and desktop width (1280 px). Screenshots go to the output directory; every
// view is checked with axe-core; every view shown in Chinese is checked for English left over
// from the booth's catalogue.
//
// Usage: node booth.mjs <board url> <out dir> <mode> [arguments]
//   vote <ann> <bob> <cai> <letter of ann>  English: a credential read from the QR code of the
//        letter the CLI printed, the summary with "change", an audit keeping the choices, cast,
//        revote, a weighted voter, limits named by contest title, a second ballot style, the
//        ballot-tracking page (searched, paginated) and the lookup.
//   vote-zh <dee>                           the same voter journey in Chinese, audit then cast.
//   withholding <tracking code>             a board showing a stale cosigned view is reported.
//   fork <root> <roots> <name>              a board whose key signed two histories: the fork is
//                                           reported with both signed checkpoints (one holding
//                                           <root>, the other one of the comma-separated <roots>),
//                                           in English and Chinese, no standing shown; the
//                                           screenshots are named <name>.
//   ranked <ann> <ben>                      a ranked contest, ranked with the keyboard alone (no
//                                           dragging), a write-in, the summary, an audit keeping
//                                           the ranking, cast; then in Chinese.
//   ranked-result                           the rounds of the count in both languages.
//   result                                  the result page in both languages, at 1280 px and
//                                           printed (media print, and a PDF).
//   light-timing <credential>…              each voter from loading the booth to the verified
//                                           receipt, timed (`urna bench light --booth`).
//   camera <letter>                         the credential read live from a camera filming the
//                                           letter's QR code (Chromium's fake capture device).
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MESSAGES } from '../../src/i18n.js';

const [url, out, mode, ...args] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const launch = (extra = []) => chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: [...BROWSER_ARGS, ...extra] });

/**
 * A video of the letter's QR code held in front of a camera: the SVG the CLI wrote, rasterised
 * onto a 640×480 frame and written as Y4M (4:2:0, grey), the format Chromium's fake capture
 * device plays in a loop. Returns the flags that make it the camera.
 */
async function cameraFilming(letter) {
  const b = await launch();
  const p = await (await b.newContext({ viewport: { width: 640, height: 480 } })).newPage();
  await p.goto(`file://${letter}`);
  const png = (await p.locator('svg.qr').first().screenshot()).toString('base64');
  const grey = await p.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = 640;
    c.height = 480;
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, 640, 480);
    // As a phone holds it: the code fills most of the frame, its modules several pixels wide.
    const side = 440;
    g.imageSmoothingEnabled = false;
    g.drawImage(img, (640 - side) / 2, (480 - side) / 2, side, side);
    const d = g.getImageData(0, 0, 640, 480).data;
    const y = [];
    for (let i = 0; i < d.length; i += 4) y.push(Math.round(0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]));
    return y;
  }, png);
  await b.close();
  const luma = Buffer.from(grey);
  const chroma = Buffer.alloc((640 / 2) * (480 / 2), 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma, chroma]);
  const file = join(out, 'camera.y4m');
  writeFileSync(file, Buffer.concat([Buffer.from('YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n'), ...Array(10).fill(frame)]));
  return ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${file}`];
}

const browser = await launch(mode === 'camera' ? await cameraFilming(args[0]) : []);
const phone = { viewport: { width: 390, height: 844 } };
const desktop = { viewport: { width: 1280, height: 900 } };
let context;
let page;
let prefix = '';
async function open(locale, size) {
  if (context) await context.close();
  context = await browser.newContext({ acceptDownloads: true, locale, ...size });
  page = await context.newPage();
  page.on('console', (m) => process.stderr.write(`console: ${m.text()}\n`));
  // The log's tiles: the public pages read them, the voting path must not.
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/tile/')) report.tile_requests += 1;
  });
  page.on('pageerror', (err) => {
    process.stderr.write(`page error: ${err.message}\n`);
    report.page_errors.push(err.message);
  });
  prefix = `${locale.startsWith('zh') ? 'zh' : 'en'}-${size.viewport.width}-`;
}
const report = { receipts: [], codes: [], encrypt_ms: [], accessibility: {}, leftovers_checked: [], page_errors: [], tile_requests: 0 };
const fail = (what) => {
  throw new Error(what);
};
const shot = (name) => page.screenshot({ path: join(out, `${prefix}${name}.png`), fullPage: true });
const text = async (sel) => (await page.textContent(sel)).trim();

/** Runs axe-core on the current view; serious or critical violations fail the test. */
async function audit(name) {
  await page.addScriptTag({ path: new URL('../../node_modules/axe-core/axe.min.js', import.meta.url).pathname });
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  report.accessibility[`${prefix}${name}`] = result.violations.map((v) => `${v.impact}: ${v.id}`);
  if (bad.length > 0) fail(`accessibility (${prefix}${name}): ${bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`).join('; ')}`);
}

/**
 * Fails if any user-visible text of the current view (with every "details" disclosure opened:
 * the technical words must be translated too) still holds a message of the English catalogue.
 * Each message is matched by its literal parts between placeholders; short parts as whole words.
 */
const ENGLISH = Object.entries(MESSAGES.en)
  .filter(([key, en]) => MESSAGES.zh[key] !== en)
  .flatMap(([key, en]) => en.split(/\{\w+\}/).map((part) => ({ key, part: part.trim() })))
  .filter(({ part }) => part.length >= 2 && /[A-Za-z]{2}/.test(part));
async function noEnglishLeft(name) {
  // Tracking codes and hashes aside: "of" may be part of a code.
  const shown = await page.evaluate(() => {
    for (const d of document.querySelectorAll('details')) d.open = true;
    const attrs = [...document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')]
      .filter((n) => !n.closest('[hidden]'))
      .flatMap((n) => ['aria-label', 'title', 'placeholder', 'alt'].map((a) => n.getAttribute(a) || ''));
    // A signed checkpoint shown as evidence is data, not words: its base64 may spell anything.
    let body = document.body.innerText;
    for (const p of document.querySelectorAll('pre.checkpoint')) body = body.split(p.innerText).join(' ');
    return [document.title, body, ...attrs].join('\n');
  }).then((t) => t.replace(/[0-9a-z]{4}(-[0-9a-z]{4})+/g, ' ').replace(/[0-9a-f]{12,}/g, ' '));
  const left = ENGLISH.filter(({ part }) => {
    if (part.length > 12) return shown.includes(part);
    const escaped = part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^A-Za-z])${escaped}($|[^A-Za-z])`).test(shown);
  });
  report.leftovers_checked.push(`${prefix}${name}`);
  if (left.length > 0) fail(`English left in the Chinese view "${name}": ${left.map((l) => `${l.key}: "${l.part}"`).join('; ')}`);
  await page.evaluate(() => {
    for (const d of document.querySelectorAll('details')) d.open = false;
  });
}

/** Nothing red before the voter has done anything. */
async function noErrorShown(where) {
  const errors = await page.$$eval('.error, .problem', (ns) => ns.filter((n) => n.offsetParent !== null && n.textContent.trim() !== '').map((n) => n.textContent));
  if (errors.length > 0) fail(`${where}: an error is shown before the voter did anything: ${errors.join(' | ')}`);
}

async function openBooth() {
  // A fresh load each time: a new voter (or a revote) starts from nothing in memory.
  await page.goto(`${url}/booth/?visit=${Date.now()}#vote`);
  try {
    await page.waitForSelector('#credential, #not-open', { timeout: 30000 });
  } catch (err) {
    process.stderr.write(`status: ${await page.textContent('#status')}\n`);
    throw err;
  }
}

async function pasteCredential(file) {
  await openBooth();
  await page.fill('#credential', readFileSync(file, 'utf8'));
  await page.click('#use-credential');
  await page.waitForSelector('#ballot');
}

/** The letter's QR code as a phone would photograph it: the SVG the CLI wrote, rasterised. */
async function photographQr(letter) {
  const ctx = await browser.newContext({ deviceScaleFactor: 3, viewport: { width: 800, height: 1000 } });
  const p = await ctx.newPage();
  await p.goto(`file://${letter}`);
  const png = await p.locator('svg.qr').first().screenshot();
  await ctx.close();
  writeFileSync(join(out, 'letter-qr.png'), png);
  return png;
}

/** Picks options; `scores` fills score fields. Leaves the ballot form as it is. */
async function pick(picks, scores = {}) {
  for (const id of picks) await page.check(`#${id}`);
  for (const [id, v] of Object.entries(scores)) await page.fill(`#${id}`, String(v));
}

async function review() {
  await page.click('#review');
  await page.waitForSelector('#summary');
}

/** Encrypts from the summary; returns the tracking code, checked for the one format. */
async function encrypt() {
  const t0 = Date.now();
  await page.click('#encrypt');
  await page.waitForSelector('#tracking-code');
  report.encrypt_ms.push(Date.now() - t0);
  const code = await text('#tracking-code');
  if (!/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){12}$/.test(code)) fail(`tracking code format: ${code}`);
  // Each group of four on one line, whatever the width: lines break only between groups.
  const split = await page.$$eval('#tracking-code .group', (gs) => gs.filter((g) => g.getClientRects().length !== 1).length);
  if (split > 0) fail('a group of the tracking code is broken across lines');
  return code;
}

async function castAndKeep(name, calm) {
  await page.click('#cast');
  await page.waitForSelector('#cast-done');
  // The witnesses' delay reads as normal, not as an alarm.
  const pending = page.locator('#cast-pending');
  if (!(await pending.textContent()).includes(calm) || (await pending.getAttribute('class')) !== 'note') fail('the witnesses were not explained calmly');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#receipt')]);
  const path = join(out, `${name}.receipt`);
  await download.saveAs(path);
  report.receipts.push(path);
}

/**
 * Looks a tracking code up on a freshly loaded election page until the answer says `want`: a
 * ballot the witnesses have not confirmed yet is reported as recorded, and they confirm it
 * within moments.
 */
async function lookUp(code, want) {
  for (let tries = 0; ; tries++) {
    await page.goto(`${url}/booth/?visit=${Date.now()}#page`);
    await page.waitForSelector('#lookup-code');
    await page.fill('#lookup-code', code);
    await page.click('#lookup-button');
    await page.waitForFunction(() => document.querySelector('#lookup-result').textContent.length > 0);
    const said = await text('#lookup-result');
    if (said.includes(want)) return said;
    if (tries >= 60) fail(`lookup: wanted "${want}", got "${said}"`);
    await new Promise((done) => setTimeout(done, 500));
  }
}

/**
 * The tracking page once the witnesses confirmed `ballots` ballots (the light list: a tile at a
 * time), or, `full`, every ballot's standing decided from the whole log, which the reader asks for.
 */
async function trackingPage(query = '', { full = false, ballots = 0 } = {}) {
  for (let tries = 0; ; tries++) {
    await page.goto(`${url}/booth/?visit=${Date.now()}${query}#ballots`);
    await page.waitForSelector('#ballots-count');
    if (full) {
      await page.click('#full-check');
      await page.waitForSelector('#ballots-search');
    }
    const pending = await page.$$('tr[data-status="pending"]');
    const rows = await page.$$('#ballots-table tbody tr');
    if (pending.length === 0 && rows.length >= ballots) return;
    if (tries >= 60) fail('the witnesses never confirmed the ballots');
    await new Promise((done) => setTimeout(done, 500));
  }
}

async function checked(sel, want) {
  const is = await page.isChecked(sel);
  if (is !== want) fail(`${sel} should ${want ? '' : 'not '}be checked`);
}

if (mode === 'vote') {
  const [ann, bob, cai, annLetter] = args;
  await open('en-US', phone);
  await openBooth();
  await noErrorShown('credential form');
  await shot('1-credential');
  await audit('credential form');
  // A picture without a QR code is explained; the letter's QR code is read.
  await page.setInputFiles('#qr-image', { name: 'not-a-qr.png', mimeType: 'image/png', buffer: await page.screenshot() });
  await page.waitForFunction(() => document.querySelector('#credential-error').textContent.includes('No QR code'));
  await page.setInputFiles('#qr-image', { name: 'letter.png', mimeType: 'image/png', buffer: await photographQr(annLetter) });
  await page.waitForFunction(() => document.querySelector('#qr-status').textContent.includes('QR code was read'));
  if ((await page.inputValue('#credential')).trim() !== readFileSync(ann, 'utf8').trim()) fail('the QR code did not hold the credential file');
  await page.click('#use-credential');
  await page.waitForSelector('#ballot');
  // Nothing red before Ann does anything; no weight of 1; her style by its name.
  await noErrorShown('ballot');
  if (await page.$('#weight')) fail('a weight of 1 is shown');
  if (!(await text('#style')).includes('Residents')) fail('the style is not named');
  await shot('2-ballot');
  await audit('ballot');
  // Reviewing an empty ballot names what is missing, by contest title.
  await page.click('#review');
  const missing = await text('#ballot-error');
  if (!missing.includes('One seat, ten candidates: please choose one.') || /\bseat:/.test(missing)) fail(`problems: ${missing}`);
  await shot('3-problems');
  await audit('problems');
  // c0 = the 10-candidate seat, c1 = council (approval), c2 = the referendum, c3 = the budget.
  await pick(['c0-o3', 'c1-o0', 'c1-o2', 'c2-o0'], { 'c3-o0': 3, 'c3-o1': 5 });
  await review();
  const summary = await text('#summary');
  for (const w of ['Dora', 'Dan, Fay', 'Yes', 'Park: 3 points', 'Bikes: 5 points']) if (!summary.includes(w)) fail(`summary lacks ${w}: ${summary}`);
  await shot('4-summary');
  await audit('summary');
  // "Change" goes back with the choices kept.
  await page.click('#change-1');
  await page.waitForSelector('#ballot');
  await checked('#c0-o3', true);
  await checked('#c1-o2', true);
  await page.uncheck('#c1-o2');
  await review();
  if (!(await text('#summary')).includes('Dan') || (await text('#summary')).includes('Fay')) fail('the change was not kept');
  let code = await encrypt();
  await shot('5-tracking-code');
  await audit('tracking code');
  // Ann audits: the opening matches, is published, and her choices are kept for a fresh ballot.
  await page.click('#challenge');
  await page.waitForSelector('#challenged');
  if (!(await text('#challenged')).includes('Audit passed')) fail('the audit did not pass');
  await page.click('#audit summary');
  if (!(await text('#audit')).includes('Dora = 1')) fail('the opening was not shown');
  await checked('#c0-o3', true);
  await checked('#c1-o0', true);
  if ((await page.inputValue('#c3-o1')) !== '5') fail('the scores were not kept');
  await shot('6-challenged');
  await audit('challenged');
  await review();
  const fresh = await encrypt();
  if (fresh === code) fail('the fresh encryption has the audited ballot’s code');
  code = fresh;
  await castAndKeep('ann-first', 'It is normal');
  report.codes.push(code);
  await shot('7-cast');
  await audit('cast');
  // From the credential to the verified receipt, an audit on the way: the voter's light view
  // only, not one tile of the log (specs/board.md §5.2).
  if (report.tile_requests > 0) fail(`the voting path read ${report.tile_requests} tiles of the log`);
  // Ann changes her mind: her revote replaces the first ballot.
  await pasteCredential(ann);
  await pick(['c0-o7', 'c2-o1'], { 'c3-o0': 4, 'c3-o2': 4 });
  await review();
  code = await encrypt();
  await castAndKeep('ann-second', 'It is normal');
  report.codes.push(code);
  // Bob's weight is said; limits are explained as he chooses, naming the contest by its title.
  await pasteCredential(bob);
  if (!(await text('#weight')).includes('counts 2 times')) fail('the weight is not explained');
  await page.check('#c1-o0');
  await page.check('#c1-o1');
  await noErrorShown('two of two');
  await page.check('#c1-o2');
  await page.waitForFunction(() => document.querySelector('#problem-1').textContent.length > 0);
  if ((await text('#problem-1')) !== 'Council (up to 2): please choose at most 2.') fail(`limit: ${await text('#problem-1')}`);
  // Only what he overdid: the contests he has not reached say nothing yet.
  if ((await text('#problem-0')) !== '') fail('an untouched contest complains');
  await shot('8-limit');
  await audit('limit');
  await page.uncheck('#c1-o2');
  await pick(['c0-o7', 'c2-o1']);
  await review();
  code = await encrypt();
  await castAndKeep('bob', 'It is normal');
  report.codes.push(code);
  // Cai has the students' ballot: two contests.
  await pasteCredential(cai);
  if (!(await text('#style')).includes('Students')) fail('the student style is not named');
  if ((await page.$$('#ballot fieldset')).length !== 2) fail('the student ballot has other than 2 contests');
  await pick(['c0-o0', 'c2-o0']);
  await review();
  code = await encrypt();
  await castAndKeep('cai', 'It is normal');
  report.codes.push(code);
  // The public pages, once the witnesses vouch for the ballots.
  await lookUp(report.codes[0], 'replaced by a later ballot');
  await lookUp(report.codes[1], 'is the one counted');
  // Without the whole log the board is asked about one whole code, never a prefix.
  await lookUp(report.codes[1].slice(0, 14), 'Type the whole tracking code');
  await page.waitForSelector('#cosigned');
  await shot('9-lookup');
  await audit('election page');
  // The light list: the five ballots of the confirmed record, checked a tile at a time.
  await trackingPage('', { ballots: 5 });
  const light = await page.$$eval('#ballots-table tbody tr', (trs) => trs.map((tr) => tr.dataset.status));
  if (light.length !== 5 || light.filter((r) => r === 'recorded').length !== 4 || !light.includes('challenged')) fail(`light list: ${light}`);
  await shot('10-tracking-light');
  await audit('tracking page, light');
  // Every ballot, with its standing, once the reader asks for the whole log: five (one audited, one replaced).
  await trackingPage('', { full: true });
  const rows = await page.$$eval('#ballots-table tbody tr', (trs) => trs.map((tr) => tr.dataset.status));
  if (rows.length !== 5 || rows.filter((r) => r === 'counted').length !== 3 || !rows.includes('challenged') || !rows.includes('superseded')) fail(`standings: ${rows}`);
  const groups = await page.$$eval('#ballots-table .group', (gs) => gs.filter((g) => g.getClientRects().length !== 1).length);
  if (groups > 0) fail('a tracking code breaks inside a group in the list');
  await shot('10-tracking');
  await audit('tracking page');
  await page.fill('#ballots-search', report.codes[0].slice(0, 14));
  await page.waitForFunction(() => document.querySelectorAll('#ballots-table tbody tr').length === 1);
  if (!(await text('#ballots-table tbody')).includes(`replaced by entry`)) fail('the search did not find the replaced ballot');
  await shot('11-tracking-search');
  // Two to a page: three pages, the next page reachable.
  await trackingPage('&per=2', { full: true });
  if ((await text('#page-of')) !== 'Page 1 of 3') fail(`pages: ${await text('#page-of')}`);
  await page.click('#page-next');
  await page.waitForFunction(() => document.querySelector('#page-of').textContent === 'Page 2 of 3');
  await audit('tracking page, paginated');
} else if (mode === 'vote-zh') {
  // Dee reads Chinese first: the whole journey in Chinese, and no English left in any view.
  const [dee] = args;
  await open('zh-CN', phone);
  await openBooth();
  await noErrorShown('credential form');
  await noEnglishLeft('credential form');
  await audit('credential form');
  await shot('1-credential');
  await page.fill('#credential', 'not a credential');
  await page.click('#use-credential');
  await page.waitForFunction(() => document.querySelector('#credential-error').textContent.length > 0);
  await noEnglishLeft('credential error');
  await page.fill('#credential', readFileSync(dee, 'utf8'));
  await page.click('#use-credential');
  await page.waitForSelector('#ballot');
  await noErrorShown('ballot');
  if (!(await text('#vote-heading')).includes('测试选举')) fail('the election title is not in Chinese');
  if (!(await text('#style')).includes('居民')) fail('the style is not named in Chinese');
  for (const w of ['一个席位，十位候选人', '花', '赞成', '反对', '空白票', '预算', '图书馆']) if (!(await text('#ballot')).includes(w)) fail(`the ballot lacks ${w}`);
  await noEnglishLeft('ballot');
  await shot('2-ballot');
  await audit('ballot');
  await page.click('#review');
  if (!(await text('#ballot-error')).includes('一个席位，十位候选人：请选择一项。')) fail(`problems: ${await text('#ballot-error')}`);
  await noEnglishLeft('problems');
  await shot('3-problems');
  await pick(['c0-o0', 'c1-o1', 'c2-o2'], { 'c3-o2': 2 });
  await review();
  const summary = await text('#summary');
  for (const w of ['艾达', '伊芙', '空白票', '图书馆：2 分']) if (!summary.includes(w)) fail(`summary lacks ${w}: ${summary}`);
  await noEnglishLeft('summary');
  await shot('4-summary');
  await audit('summary');
  await encrypt();
  await noEnglishLeft('tracking code');
  await shot('5-tracking-code');
  await page.click('#challenge');
  await page.waitForSelector('#challenged');
  if (!(await text('#challenged')).includes('审计通过')) fail('the audit did not pass');
  await checked('#c0-o0', true);
  await checked('#c2-o2', true);
  await noEnglishLeft('challenged');
  await shot('6-challenged');
  await audit('challenged');
  await review();
  const code = await encrypt();
  await castAndKeep('dee', '是正常的');
  report.codes.push(code);
  await noEnglishLeft('cast');
  await shot('7-cast');
  await audit('cast');
  // Switching language keeps the voter where they are, in the other language.
  await page.selectOption('#lang', 'en');
  await page.waitForFunction(() => document.querySelector('#cast-done').textContent.includes('Your ballot is cast'));
  await page.selectOption('#lang', 'zh');
  await page.waitForFunction(() => document.querySelector('#cast-done').textContent.includes('您的选票已投出'));
  const said = await lookUp(code, '被计入的那一张');
  if (!said.includes('此选票在公告板上')) fail(said);
  await noEnglishLeft('election page');
  await shot('8-lookup');
  await audit('election page');
  await trackingPage();
  await noEnglishLeft('tracking page');
  await shot('9-tracking');
  await audit('tracking page');
  await page.goto(`${url}/booth/?visit=${Date.now()}#results`);
  await page.waitForSelector('#result-missing');
  await noEnglishLeft('result not yet');
} else if (mode === 'ranked') {
  const [ann, ben] = args;
  await open('en-US', phone);
  await pasteCredential(ann);
  await noErrorShown('ranked ballot');
  if (!(await text('#contest-1')).includes('Rank the candidates in order of preference')) fail('no ranking instructions');
  await audit('ranked ballot');
  await shot('r1-ranked-ballot');
  await page.check('#c0-o0');
  // Every step by keyboard: Enter on "Rank", then the arrow keys on a ranked candidate.
  await page.focus('#c1-add-1');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#c1-remove-0');
  await page.focus('#c1-add-0');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#c1-remove-1');
  await page.focus('#c1-remove-1');
  await page.keyboard.press('ArrowUp');
  await page.waitForFunction(() => document.querySelector('#rank-status-1').textContent.includes('Dan is now number 1'));
  const focused = await page.evaluate(() => document.activeElement?.id);
  if (!focused?.startsWith('c1-')) fail(`focus was lost after a move: ${focused}`);
  await page.fill('#c1-writein', 'Zoë Ng');
  await page.press('#c1-writein', 'Enter');
  await page.waitForSelector('#c1-remove-2');
  const order = await text('#ranking-1');
  if (!(order.indexOf('Dan') < order.indexOf('Eve') && order.indexOf('Eve') < order.indexOf('Zoë Ng (written in)'))) fail(`ranking: ${order}`);
  await noErrorShown('ranked ballot, ranked');
  await audit('ranked ballot, ranked');
  await shot('r2-ranked');
  await review();
  const summary = await text('#summary');
  if (!summary.includes('1. Dan, 2. Eve, 3. Zoë Ng (written in)')) fail(`summary: ${summary}`);
  await audit('ranked summary');
  await shot('r3-ranked-summary');
  await encrypt();
  await page.click('#challenge');
  await page.waitForSelector('#challenged');
  if (!(await text('#ranking-1')).startsWith('Dan')) fail('the ranking was not kept after the audit');
  await shot('r4-ranked-challenged');
  await review();
  report.codes.push(await encrypt());
  await castAndKeep('ann-ranked', 'It is normal');
  // The same in Chinese, with no English left.
  await open('zh-CN', phone);
  await pasteCredential(ben);
  await noErrorShown('ranked ballot');
  await noEnglishLeft('ranked ballot');
  await page.check('#c0-o1');
  await page.click('#c1-add-2');
  await page.waitForSelector('#c1-remove-0');
  await page.click('#c1-add-0');
  await page.waitForSelector('#c1-remove-1');
  await noEnglishLeft('ranked ballot, ranked');
  await audit('ranked ballot, ranked');
  await shot('r5-ranked');
  await review();
  const zhSummary = await text('#summary');
  if (!zhSummary.includes('1．费伊') || !zhSummary.includes('2．丹')) fail(`summary: ${zhSummary}`);
  await noEnglishLeft('ranked summary');
  await encrypt();
  await noEnglishLeft('ranked tracking code');
  await castAndKeep('ben-ranked', '是正常的');
  await noEnglishLeft('ranked cast');
} else if (mode === 'ranked-result') {
  for (const [locale, words] of [['en-US', ['Round 1', 'excluded', 'Elected: ']], ['zh-CN', ['第 1 轮', '淘汰', '当选：']]]) {
    await open(locale, desktop);
    await page.goto(`${url}/booth/?visit=${Date.now()}#results`);
    // Ranked counts are read from every mixed ballot: the page asks before reading the whole log.
    await page.waitForSelector('#result-full');
    await page.click('#full-check');
    await page.waitForSelector('#rounds-1');
    const body = await page.innerText('main');
    report[`result_${prefix}`] = body;
    for (const w of words) if (!body.includes(w)) fail(`the ranked result lacks ${w}: ${body}`);
    if (locale.startsWith('zh')) await noEnglishLeft('ranked result');
    await audit('ranked result');
    await shot('r-result');
    await page.emulateMedia({ media: 'print' });
    await shot('r-result-print');
    await page.emulateMedia({ media: 'screen' });
  }
} else if (mode === 'withholding') {
  // The board shows a cosigned checkpoint older than what the witnesses cosigned: the page
  // says so, and a counted ballot's standing is not shown on the board's word.
  await open('en-US', phone);
  await page.goto(`${url}/booth/?visit=${Date.now()}#page`);
  await page.waitForSelector('#withholding', { timeout: 60000 });
  await page.fill('#lookup-code', args[0]);
  await page.click('#lookup-button');
  await page.waitForFunction(() => document.querySelector('#lookup-result').textContent.length > 0);
  const said = await text('#lookup-result');
  if (!said.includes('withholding') || said.includes('counted')) fail(`lookup through a withholding board: ${said}`);
  await shot('withholding');
  await audit('withholding warning');
} else if (mode === 'fork') {
  // The booth asks the witnesses and nodes: the board's key signed two histories. It shows the
  // fork with both signed checkpoints behind "details", in both languages, and no standing.
  const [rootA, rootB, name] = args;
  for (const [locale, key] of [['en-US', 'en'], ['zh-CN', 'zh']]) {
    await open(locale, phone);
    await page.goto(`${url}/booth/?visit=${Date.now()}#page`);
    await page.waitForSelector('#fork', { timeout: 60000 });
    const said = await text('#fork > span');
    if (![MESSAGES[key].errForked, MESSAGES[key].errForkEvidence.split('{name}')[1]].some((m) => said.includes(m))) fail(`the fork warning: ${said}`);
    await page.click('#fork summary');
    const notes = await page.$$eval('#fork pre.checkpoint', (ns) => ns.map((n) => n.textContent));
    if (notes.length !== 2 || notes[0] === notes[1]) fail(`the fork's evidence: ${JSON.stringify(notes)}`);
    if (!notes.some((n) => n.includes(rootA)) || !notes.some((n) => rootB.split(',').some((r) => n.includes(r)))) fail(`the fork's evidence lacks a root: ${JSON.stringify(notes)}`);
    if (await page.$('#lookup-result, #standings, #result')) fail('a standing is shown on a forked view');
    const body = await page.evaluate(() => document.body.innerText);
    if (/counted/i.test(body) || body.includes(MESSAGES.zh.lookupCounted.split('{index}')[0])) fail(`a ballot is shown counted on a forked view: ${body}`);
    await shot(name);
    await audit(`${name} warning`);
    if (key === 'zh') await noEnglishLeft(name);
  }
} else if (mode === 'light-timing') {
  // Each voter from loading the booth to the receipt it verified, against a board of many
  // ballots (`urna bench light --booth`): a fresh page, the credential pasted, the first option
  // of each contest, review, encrypt, cast. The booth reads only the voter's light view.
  // Each step timed too: the booth loaded with the election's view, the voter's view, the
  // ballot encrypted and proved, the cast with the receipt's checks.
  report.light_ms = [];
  report.light_steps_ms = [];
  await open('en-US', desktop);
  for (const cred of args) {
    const t0 = Date.now();
    await openBooth();
    const t1 = Date.now();
    await page.fill('#credential', readFileSync(cred, 'utf8'));
    await page.click('#use-credential');
    await page.waitForSelector('#ballot');
    const t2 = Date.now();
    for (const fs of await page.$$('#ballot fieldset')) await (await fs.$('input'))?.check();
    await review();
    const t3 = Date.now();
    await page.click('#encrypt');
    await page.waitForSelector('#tracking-code');
    const t4 = Date.now();
    report.codes.push(await text('#tracking-code'));
    await page.click('#cast');
    await page.waitForSelector('#cast-done', { timeout: 120000 });
    const t5 = Date.now();
    report.light_ms.push(t5 - t0);
    if (report.tile_requests > 0) fail(`the voting path read ${report.tile_requests} tiles of the log`);
    report.light_steps_ms.push({ booth: t1 - t0, voter_view: t2 - t1, encrypt: t4 - t3, cast: t5 - t4 });
  }
  // The public pages without the log: each cast ballot looked up on a fresh election page, and
  // the newest page of the ballot list; time and the bytes of the board's answers (bodies and
  // headers; the booth's own files under /booth/, which a browser caches, are left out).
  let bytes = 0;
  page.on('requestfinished', async (r) => {
    if (new URL(r.url()).pathname.startsWith('/booth')) return;
    const sizes = await r.sizes().catch(() => null);
    if (sizes) bytes += sizes.responseBodySize + sizes.responseHeadersSize;
  });
  const settle = () => new Promise((done) => setTimeout(done, 200));
  report.lookup_ms = [];
  report.lookup_bytes = [];
  for (const code of report.codes) {
    await settle();
    bytes = 0;
    const t0 = Date.now();
    await page.goto(`${url}/booth/?visit=${Date.now()}#page`);
    await page.waitForSelector('#lookup-code');
    await page.fill('#lookup-code', code);
    await page.click('#lookup-button');
    await page.waitForFunction(() => document.querySelector('#lookup-result').textContent.length > 0);
    report.lookup_ms.push(Date.now() - t0);
    const said = await text('#lookup-result');
    if (!said.includes('is the one counted')) fail(`lookup: ${said}`);
    await settle();
    report.lookup_bytes.push(bytes);
  }
  report.ballots_page_ms = [];
  report.ballots_page_bytes = [];
  for (let k = 0; k < 3; k++) {
    await settle();
    bytes = 0;
    const t0 = Date.now();
    await page.goto(`${url}/booth/?visit=${Date.now()}#ballots`);
    await page.waitForSelector('#ballots-table');
    report.ballots_page_ms.push(Date.now() - t0);
    await settle();
    report.ballots_page_bytes.push(bytes);
  }
  // The old path for comparison, when asked (URNA_BENCH_FULL=1): the whole log downloaded and
  // replayed in the browser, to the full ballot list.
  if (process.env.URNA_BENCH_FULL === '1') {
    await settle();
    await page.goto(`${url}/booth/?visit=${Date.now()}#ballots`);
    await page.waitForSelector('#full-check');
    bytes = 0;
    const t0 = Date.now();
    await page.click('#full-check');
    await page.waitForSelector('#ballots-search', { timeout: 3600000 });
    report.full_ballots_ms = Date.now() - t0;
    await settle();
    report.full_ballots_bytes = bytes;
  }
} else if (mode === 'camera') {
  await open('en-US', phone);
  await openBooth();
  await page.click('#qr-camera');
  // The booth reads the code from the video and goes on to the voter's ballot by itself.
  try {
    await page.waitForSelector('#ballot', { timeout: 120000 });
  } catch (err) {
    await shot('camera-failed');
    const said = await page.evaluate(() => ['#qr-status', '#credential-error'].map((s) => document.querySelector(s)?.textContent ?? '').join(' | '));
    fail(`the camera's QR code was not read (${said}): ${err.message}`);
  }
  report.camera_read = await text('#style');
  await shot('camera-ballot');
} else {
  for (const [locale, words] of [['en-US', { phase: 'Status:', weighted: 'weighted', verify: 'urna verify --board' }], ['zh-CN', { phase: '状态：', weighted: '加权', verify: 'urna verify --board' }]]) {
    await open(locale, desktop);
    await page.goto(`${url}/booth/?visit=${Date.now()}#results`);
    // Without the whole log: the result and the shares, proven in the confirmed record, and
    // what is left to the observers said plainly.
    await page.waitForSelector('#result-checked');
    if (!(await text('#result-trust')).includes('urna verify --final')) fail('the page does not say what it leaves to the observers');
    if (!/^[0-9a-f]{64}$/.test(await text('#record-root'))) fail('no checkpoint root on the light result');
    report[`result_light_${prefix}`] = await page.innerText('main');
    if (locale.startsWith('zh')) await noEnglishLeft('light result');
    await audit('light result page');
    await shot('0-result-light');
    await page.click('#full-check');
    await page.waitForSelector('#turnout');
    const body = await page.innerText('main');
    report[`result_${prefix}`] = body;
    if (body.split(words.phase).length > 2) fail('the phase is said more than once');
    if (!(await text('#weighted')).includes(words.weighted)) fail('the weights are not noted');
    if (!(await text('#record-command')).includes(`${words.verify} ${url} --final`)) fail('no verification command');
    if (!/^[0-9a-f]{64}$/.test(await text('#record-root'))) fail('no checkpoint root');
    // Contest titles read on one line at 1280 px: never squeezed to a few characters.
    const wrapped = await page.$$eval('.contest-result h3', (hs) => hs.filter((h) => h.getBoundingClientRect().height > 1.8 * parseFloat(getComputedStyle(h).lineHeight)).map((h) => h.textContent));
    if (wrapped.length > 0) fail(`contest titles wrap: ${wrapped}`);
    if (locale.startsWith('zh')) await noEnglishLeft('result');
    await shot('1-result');
    await audit('result page');
    // The official record: printed without the booth around it.
    await page.emulateMedia({ media: 'print' });
    if (await page.isVisible('#nav')) fail('the navigation is printed');
    if (!(await page.isVisible('#record-command')) || !(await page.isVisible('#turnout'))) fail('the record is not printed');
    await shot('2-print');
    await page.pdf({ path: join(out, `${prefix}result.pdf`), format: 'A4', printBackground: true });
    await page.emulateMedia({ media: 'screen' });
    // The other pages after the close: voting is not open; ballots are final.
    await page.goto(`${url}/booth/?visit=${Date.now()}#vote`);
    await page.waitForSelector('#not-open');
    if (locale.startsWith('zh')) await noEnglishLeft('voting closed');
    await audit('voting closed');
    await page.goto(`${url}/booth/?visit=${Date.now()}#page`);
    await page.waitForSelector('#cosigned');
    if (locale.startsWith('zh')) await noEnglishLeft('election page, finished');
    await shot('3-finished');
    await page.goto(`${url}/booth/?visit=${Date.now()}#ballots`);
    await page.waitForSelector('#ballots-table');
    if (locale.startsWith('zh')) await noEnglishLeft('tracking page, finished');
    await shot('4-tracking');
    await audit('tracking page, finished');
  }
}
if (report.page_errors.length > 0) fail(`errors in the page: ${report.page_errors.join('; ')}`);
writeFileSync(join(out, `report-${mode}.json`), JSON.stringify(report, null, 2));
console.log(JSON.stringify(report));
await browser.close();
