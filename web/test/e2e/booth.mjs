// Drives the booth in headless Chromium (Debian's /usr/bin/chromium through playwright-core)
// against a real board: audit (challenge), cast, revote, a second voter, the tracking-code
// lookup, the Chinese interface, and after the tally the result page. Screenshots go to the
// output directory. Usage: node booth.mjs <board url> <out dir> <mode: vote|result|withholding>
// [credential files… | the tracking code to look up, in withholding mode]
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [url, out, mode, ...creds] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 390, height: 844 }, locale: 'en-US' });
const page = await context.newPage();
page.on('console', (m) => process.stderr.write(`console: ${m.text()}\n`));
page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
const shot = (name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
const report = { receipts: [], codes: [], encrypt_ms: [], accessibility: {} };

/** Runs axe-core on the current view; serious or critical violations fail the test. */
async function audit(name) {
  await page.addScriptTag({ path: new URL('../../node_modules/axe-core/axe.min.js', import.meta.url).pathname });
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  report.accessibility[name] = result.violations.map((v) => `${v.impact}: ${v.id}`);
  if (bad.length > 0) throw new Error(`accessibility (${name}): ${bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`).join('; ')}`);
}

async function openBooth() {
  // A fresh load each time: a new voter (or a revote) starts from nothing in memory.
  await page.goto(`${url}/booth/?visit=${Date.now()}#vote`);
  try {
    await page.waitForSelector('#credential, .error', { timeout: 30000 });
  } catch (err) {
    process.stderr.write(`status: ${await page.textContent('#status')}\n`);
    throw err;
  }
}

async function useCredential(file) {
  await openBooth();
  await page.fill('#credential', readFileSync(file, 'utf8'));
  await page.click('#use-credential');
  await page.waitForSelector('#ballot');
}

async function choose(picks, scores = {}) {
  for (const id of picks) await page.check(`#${id}`);
  for (const [id, v] of Object.entries(scores)) await page.fill(`#${id}`, String(v));
  const t0 = Date.now();
  await page.click('#encrypt');
  await page.waitForSelector('#tracking-code');
  report.encrypt_ms.push(Date.now() - t0);
  return (await page.textContent('#tracking-code')).trim();
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
    await page.click('#lookup-code + button');
    await page.waitForFunction(() => document.querySelector('#lookup-result').textContent.length > 0);
    const text = await page.textContent('#lookup-result');
    if (text.includes(want)) return text;
    if (!text.includes('Independent witnesses') || tries >= 40) throw new Error(`lookup: wanted "${want}", got "${text}"`);
    await new Promise((done) => setTimeout(done, 500));
  }
}

async function castAndKeep(name) {
  await page.click('#cast');
  await page.waitForSelector('#cast-done');
  if (!(await page.textContent('#cast-pending')).includes('Independent witnesses confirm new ballots')) throw new Error('the witnesses were not explained');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#receipt')]);
  const path = join(out, `${name}.receipt`);
  await download.saveAs(path);
  report.receipts.push(path);
}

if (mode === 'vote') {
  const [ann, bob] = creds;
  // Ann audits the booth first: the challenged ballot opens to her choices and is published.
  await openBooth();
  await audit('credential form');
  await useCredential(ann);
  await shot('1-ballot');
  await audit('ballot');
  // c0 = the 10-candidate seat, c1 = council (approval), c2 = the referendum, c3 = the budget
  // (scores, proved with range proofs).
  let code = await choose(['c0-o3', 'c1-o0', 'c1-o2', 'c2-o0'], { 'c3-o0': 3, 'c3-o1': 5 });
  await shot('2-tracking-code');
  await audit('tracking code');
  await page.click('#challenge');
  await page.waitForSelector('#status.ok');
  if (!(await page.textContent('#status')).includes('Audit passed')) throw new Error('the challenge did not pass');
  if (!(await page.textContent('#audit')).includes('Dora = 1')) throw new Error('the opening was not shown');
  await shot('3-challenged');
  code = await choose(['c0-o3', 'c1-o0', 'c2-o0'], { 'c3-o2': 2 });
  await castAndKeep('ann-first');
  report.codes.push(code);
  await shot('4-cast');
  // Ann changes her mind: her revote supersedes the first ballot.
  await useCredential(ann);
  code = await choose(['c0-o7', 'c2-o1'], { 'c3-o0': 4, 'c3-o2': 4 });
  await castAndKeep('ann-second');
  report.codes.push(code);
  // Limits are explained and enforced as she chooses: three council seats is one too many.
  await useCredential(bob);
  await page.check('#c1-o0');
  await page.check('#c1-o1');
  await page.check('#c1-o2');
  await page.waitForSelector('#encrypt:disabled');
  if (!(await page.textContent('#ballot-error')).includes('at most 2')) throw new Error('the limit was not explained');
  await shot('5-limit');
  await page.uncheck('#c1-o2');
  code = await choose(['c0-o7', 'c2-o1']);
  await castAndKeep('bob');
  report.codes.push(code);
  // The public page, once the witnesses vouch for the ballots: the first ballot is superseded,
  // the revote counted.
  await lookUp(report.codes[0], 'superseded');
  await lookUp(report.codes[1], 'counted');
  await page.waitForSelector('#cosigned');
  await shot('6-lookup');
  await audit('election page');
  // Simplified Chinese.
  await page.selectOption('#lang', 'zh');
  await page.waitForFunction(() => document.querySelector('#title').textContent.includes('投票亭'));
  await shot('7-zh');
} else if (mode === 'withholding') {
  // The board shows a cosigned checkpoint older than what the witnesses cosigned: the page
  // says so, and a counted ballot's standing is not shown on the board's word.
  await page.goto(`${url}/booth/?visit=${Date.now()}#page`);
  await page.waitForSelector('#withholding', { timeout: 60000 });
  await page.fill('#lookup-code', creds[0]);
  await page.click('#lookup-code + button');
  await page.waitForFunction(() => document.querySelector('#lookup-result').textContent.length > 0);
  const text = await page.textContent('#lookup-result');
  if (!text.includes('withholding') || text.includes('counted')) throw new Error(`lookup through a withholding board: ${text}`);
  await shot('9-withholding');
  await audit('withholding warning');
} else {
  await page.goto(`${url}/booth/?visit=${Date.now()}#page`);
  await page.waitForSelector('table');
  await page.waitForSelector('#cosigned');
  report.result = await page.textContent('#page-view');
  await shot('8-result');
  await audit('result page');
}
writeFileSync(join(out, `report-${mode}.json`), JSON.stringify(report, null, 2));
console.log(JSON.stringify(report));
await browser.close();
