// `caremesh report`: the page of a training-small run opens from file:// without errors or any
// network request, every <svg> chart has content, and the network's time slider changes the
// network view.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { pathToFileURL } = require('node:url');
const { REPO, launchBrowser, caremesh, caremeshBinary } = require('./lib');

const SCENARIO = path.join(REPO, 'scenarios', 'training-small.yaml');

function reportAvailable() {
  const r = spawnSync(caremeshBinary(), ['report', '--help'], { encoding: 'utf8' });
  return r.status === 0;
}

// What the network view shows: the SVG of the slider's section and the slider's label.
const networkView = (page) =>
  page.$eval('input[type="range"]', (slider) => {
    const section = slider.closest('section') || document.body;
    const svgs = [...section.querySelectorAll('svg')].map((s) => s.outerHTML).join('');
    const label = slider.getAttribute('aria-describedby');
    const text = label && document.getElementById(label) ? document.getElementById(label).textContent : '';
    return `${text}|${svgs}`;
  });

test('report page: offline, charts drawn, the time slider moves the network', { timeout: 180_000 }, async (t) => {
  if (!reportAvailable()) {
    t.skip('caremesh report is not implemented in this build');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caremesh-report-'));
  const browser = await launchBrowser();
  try {
    caremesh(['run', SCENARIO, '-o', path.join(dir, 'run'), '-q']);
    const file = path.join(dir, 'report.html');
    caremesh(['report', path.join(dir, 'run'), '-o', file, '-q']);
    const url = pathToFileURL(file).href;
    const { page, requests, errors } = browser;
    await page.goto(url, { waitUntil: 'load' });

    // every chart has content
    const charts = await page.$$eval('svg', (svgs) =>
      svgs.map((s) => ({
        where: s.id || (s.closest('section') && s.closest('section').id) || '(page)',
        elements: s.querySelectorAll('*').length,
      })),
    );
    assert.ok(charts.length >= 1, 'no <svg> in the report');
    for (const c of charts) assert.ok(c.elements > 0, `empty <svg> in ${c.where}`);
    t.diagnostic(`${charts.length} svg charts: ${charts.map((c) => `${c.where}(${c.elements})`).join(', ')}`);

    // the time slider
    const sliders = await page.$$('input[type="range"]');
    assert.ok(sliders.length >= 1, 'no time slider (<input type="range">)');
    const slider = page.locator('input[type="range"]').first();
    const startValue = await slider.inputValue();
    const min = await slider.getAttribute('min');
    const before = await networkView(page);
    await slider.focus();
    await page.keyboard.press(startValue === min ? 'End' : 'Home');
    assert.notEqual(await slider.inputValue(), startValue, 'the slider did not move');
    const after = await networkView(page);
    assert.notEqual(after, before, 'moving the time slider did not change the network view');
    // half-way: different again from the end points
    await page.$eval('input[type="range"]', (s) => {
      s.value = String(Math.round((Number(s.min) + Number(s.max)) / 2));
      s.dispatchEvent(new Event('input', { bubbles: true }));
      s.dispatchEvent(new Event('change', { bubbles: true }));
    });
    const middle = await networkView(page);
    assert.notEqual(middle, after, 'the half-way network view equals the end point');

    assert.deepEqual(errors, [], 'console errors');
    const network = requests.filter((u) => u !== url && !u.startsWith('data:'));
    assert.deepEqual(network, [], 'the report made requests');
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
