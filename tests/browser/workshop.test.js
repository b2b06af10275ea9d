// `caremesh serve`: the workshop page loads without errors, asks nothing of any address but
// its own 127.0.0.1 server, and moving a lever (highest tie level 7 → 2) changes the numbers.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { REPO, launchBrowser, startServer, stopServer } = require('./lib');

const SCENARIO = path.join(REPO, 'scenarios', 'training-small.yaml');

// Waits until the page has shown more than `after` results and is idle.
function waitForUpdate(page, after) {
  return page.waitForFunction(
    (n) => Number(document.body.dataset.updates) > n && document.body.dataset.state === 'ready',
    after,
    { timeout: 30_000 },
  );
}

const designNumbers = (page) =>
  page.$$eval('td[id^="design-"]', (tds) => tds.map((td) => `${td.id}=${td.textContent}`));

test('workshop page: levers change the comparison, no error, no foreign request', { timeout: 180_000 }, async (t) => {
  const server = await startServer([SCENARIO, '--replications', '2']);
  const origin = `http://127.0.0.1:${server.port}/`;
  const browser = await launchBrowser();
  try {
    const { page, requests, errors } = browser;
    await page.goto(origin, { waitUntil: 'load' });
    await waitForUpdate(page, 0);

    // levers built from GET /api/levers, results and the SVG chart drawn
    assert.equal(await page.inputValue('#lever-max_level'), '7');
    assert.equal(await page.textContent('#lever-max_level-value'), '7');
    const rows = await page.$$eval('#metrics tbody tr', (trs) => trs.length);
    assert.ok(rows >= 5, `result rows: ${rows}`);
    const bars = await page.$$eval('#chart rect', (rs) => rs.length);
    assert.ok(bars >= 2, `bars in the chart: ${bars}`);
    const before = await designNumbers(page);
    const beforeBars = await page.$$eval('#chart rect', (rs) => rs.map((r) => r.getAttribute('width')));
    assert.equal(before.length, rows);

    // highest tie level 7 → 2 with the keyboard, as a trainer would
    const updates = Number(await page.getAttribute('body', 'data-updates'));
    await page.focus('#lever-max_level');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowLeft');
    const t0 = Date.now();
    assert.equal(await page.inputValue('#lever-max_level'), '2');
    await waitForUpdate(page, updates);
    t.diagnostic(`lever update shown ${Date.now() - t0} ms after the last key press (250 ms debounce included)`);
    assert.equal(await page.textContent('#lever-max_level-value'), '2');
    const after = await designNumbers(page);
    assert.notDeepEqual(after, before, 'the displayed numbers did not change');
    const afterBars = await page.$$eval('#chart rect', (rs) => rs.map((r) => r.getAttribute('width')));
    assert.notDeepEqual(afterBars, beforeBars, 'the chart did not change');
    const overrides = await page.textContent('#overrides');
    assert.match(overrides, /"max_level":2/);

    // switching the coordinator off makes the network participant-governed
    const updates2 = Number(await page.getAttribute('body', 'data-updates'));
    await page.click('#lever-coordinator');
    assert.equal(await page.inputValue('#lever-governance'), 'shared');
    assert.ok(await page.isDisabled('#lever-collaboration_share'));
    await waitForUpdate(page, updates2);
    assert.match(await page.textContent('#overrides'), /"governance":"shared"/);
    assert.equal(await page.getAttribute('#status', 'class'), '');

    assert.deepEqual(errors, [], 'console errors');
    const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'));
    assert.deepEqual(foreign, [], 'requests to other addresses');
    assert.ok(requests.some((u) => u === `${origin}api/compare`));
    t.diagnostic(`${requests.length} requests, all to ${origin}`);
  } finally {
    await browser.close();
    const code = await stopServer(server);
    assert.equal(code, 0, `caremesh serve exit: ${code}\n${server.output.text}`);
    assert.match(server.output.text, /caremesh serve: stopped/);
  }
});
