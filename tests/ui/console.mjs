// Drives the web console in headless Chromium for tests/tests/ui.rs:
//   node console.mjs http://127.0.0.1:PORT SCREENSHOT.png
// The worker has a connector `ui-panics` whose task failed and a JDBC source `ui-snapshot`
// whose snapshot waits with 30 of 59 rows read. Through the console, this script reads that
// trace, sees the snapshot's progress, creates `ui-ticks` (after the editor has shown a missing key), watches it
// run, edits its config, pauses it, reads its records in the topic browser and deletes it. Each step prints
// "<step> ... ok"; the first that fails ends the script with a non-zero exit.

import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const [base, screenshot] = process.argv.slice(2);
assert.ok(base && screenshot, 'usage: node console.mjs BASE_URL SCREENSHOT');
// Bounded, whatever hangs.
setTimeout(() => { console.error('the console test took more than 3 minutes'); process.exit(2); }, 180_000).unref();

const WAIT = { timeout: 30_000 };
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const page = await browser.newPage({ viewport: { width: 1280, height: 640 } });
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
page.on('dialog', (dialog) => dialog.accept());

/** The REST API directly, to check that what the console shows is what the worker has. */
async function rest(path) {
  const response = await fetch(base + path);
  return { status: response.status, body: await response.json() };
}

async function step(name, action) {
  process.stdout.write(`${name} ... `);
  await action();
  console.log('ok');
}

const row = (name) => page.locator(`tr[data-connector="${name}"]:not(.failure)`);
const ticksConfig = { 'connector.class': 'ChaosSource', 'chaos.behaviour': 'records', 'tasks.max': '1' };

try {
  await step('open', async () => {
    await page.goto(`${base}/ui`);
    assert.equal(page.url(), `${base}/ui/`);
    await page.getByRole('heading', { name: 'Connectors' }).waitFor(WAIT);
  });

  await step('failed task trace', async () => {
    await row('ui-panics').locator('td.task-states', { hasText: 'FAILED' }).waitFor(WAIT);
    const failure = page.locator('tr.failure[data-connector="ui-panics"]', { hasText: 'deliberate panic' });
    await failure.waitFor(WAIT);
    // The trace's first line, which says what to do, comes whole.
    assert.match(await failure.locator('strong').textContent(), /^The plugin crashed.*restart the task\.$/);
    await row('ui-panics').getByRole('link', { name: 'ui-panics' }).click();
    await page.locator('figure.trace pre', { hasText: 'deliberate panic' }).waitFor(WAIT);
    await page.locator('table.tasks tr[data-task="0"]', { hasText: 'FAILED' }).waitFor(WAIT);
  });

  await step('snapshot progress', async () => {
    await page.getByRole('link', { name: 'Connectors', exact: true }).click();
    await row('ui-snapshot').locator('td.num', { hasText: /^29$/ }).waitFor(WAIT);
    await row('ui-snapshot').getByRole('link', { name: 'ui-snapshot' }).click();
    const bar = page.locator('table.tasks tr[data-task="0"] td.snapshot progress');
    await bar.waitFor(WAIT);
    assert.deepEqual([await bar.getAttribute('value'), await bar.getAttribute('max')], ['30', '59']);
  });

  await step('validation feedback', async () => {
    await page.getByRole('link', { name: 'Connectors', exact: true }).click();
    await page.getByRole('link', { name: 'New connector' }).click();
    await page.getByRole('heading', { name: 'New connector' }).waitFor(WAIT);
    await page.locator('#plugin option[value="wasmconnect.testing.ChaosSource"]').waitFor({ state: 'attached', ...WAIT });
    await page.selectOption('#plugin', 'wasmconnect.testing.ChaosSource');
    // The template has the plugin's required keys.
    await page.waitForFunction(() => document.querySelector('#connector-json').value.includes('"chaos.behaviour"'), null, WAIT);
    await page.fill('#connector-json', JSON.stringify({ name: 'ui-ticks', config: ticksConfig }));
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.locator('.problems tr[data-key="topic"]', { hasText: 'missing required configuration' }).waitFor(WAIT);
    // Create refuses it too, with the same per-key problem, and nothing is created.
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('.report p.problem', { hasText: 'Not saved' }).waitFor(WAIT);
    await page.locator('.problems tr[data-key="topic"]').waitFor(WAIT);
    assert.equal((await rest('/connectors/ui-ticks')).status, 404);
  });

  await step('create', async () => {
    await page.fill('#connector-json', JSON.stringify({ name: 'ui-ticks', config: { ...ticksConfig, topic: 'ui-ticks-out' } }, null, 2));
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.locator('.report p.ok', { hasText: 'Valid' }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/#\/connectors\/ui-ticks$/, WAIT);
    await page.locator('table.tasks tr[data-task="0"]', { hasText: 'RUNNING' }).waitFor(WAIT);
    await page.locator('a.topic', { hasText: 'ui-ticks-out' }).waitFor(WAIT);
    const { body } = await rest('/connectors/ui-ticks');
    assert.equal(body.config.topic, 'ui-ticks-out');
  });

  await step('throughput', async () => {
    await page.getByRole('link', { name: 'Connectors', exact: true }).click();
    await row('ui-ticks').locator('td.connector-state', { hasText: 'RUNNING' }).waitFor(WAIT);
    // Written counts up (past a page of the record browser), and a rate appears once two
    // polls have been seen.
    await page.waitForFunction(() => {
      const cells = document.querySelectorAll('tr[data-connector="ui-ticks"]:not(.failure) td');
      return Number(cells[6]?.textContent.replace(/,/g, '')) > 20 && /\/s$/.test(cells[7]?.textContent);
    }, null, WAIT);
    // The page down to the end of the table, not the empty viewport below it.
    const height = await page.evaluate(() => Math.ceil(document.getElementById('view').getBoundingClientRect().bottom) + 24);
    await page.screenshot({ path: screenshot, clip: { x: 0, y: 0, width: 1280, height } });
  });

  await step('edit', async () => {
    await row('ui-ticks').getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit ui-ticks' }).waitFor(WAIT);
    await page.waitForFunction(() => document.querySelector('#connector-json').value.includes('"ui-ticks-out"'), null, WAIT);
    const config = JSON.parse(await page.inputValue('#connector-json'));
    // A bad value is refused with its key named, and the stored config stays as it was.
    await page.fill('#connector-json', JSON.stringify({ ...config, 'tasks.max': 'many' }));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.problems tr[data-key="tasks.max"]', { hasText: 'many' }).waitFor(WAIT);
    assert.equal((await rest('/connectors/ui-ticks/config')).body['tasks.max'], '1');
    await page.fill('#connector-json', JSON.stringify({ ...config, 'errors.retry.timeout': '5000' }));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/#\/connectors\/ui-ticks$/, WAIT);
    await page.locator('pre.config', { hasText: '"errors.retry.timeout": "5000"' }).waitFor(WAIT);
    assert.equal((await rest('/connectors/ui-ticks/config')).body['errors.retry.timeout'], '5000');
    await page.getByRole('link', { name: 'Connectors', exact: true }).click();
  });

  await step('pause', async () => {
    await row('ui-ticks').getByRole('button', { name: 'Pause' }).click();
    await row('ui-ticks').locator('td.connector-state', { hasText: 'PAUSED' }).waitFor(WAIT);
    await row('ui-ticks').locator('td.task-states', { hasText: 'PAUSED' }).waitFor(WAIT);
    await row('ui-ticks').getByRole('button', { name: 'Resume' }).waitFor(WAIT);
    assert.equal((await rest('/connectors/ui-ticks/status')).body.connector.state, 'PAUSED');
  });

  await step('records', async () => {
    await page.getByRole('link', { name: 'Topics', exact: true }).click();
    await page.locator('tr[data-topic="ui-ticks-out"]').getByRole('link').click();
    await page.getByRole('heading', { name: 'ui-ticks-out' }).waitFor(WAIT);
    const value = page.locator('tr[data-offset="0"] td.value pre');
    await value.waitFor(WAIT);
    // A JsonConverter envelope shows its payload, and all of itself when clicked.
    assert.equal(await value.textContent(), '{"n":0}');
    await value.click();
    assert.match(await value.textContent(), /"schema"[\s\S]*"payload"/);
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.locator('tr[data-offset="20"]').waitFor(WAIT);
  });

  await step('delete', async () => {
    await page.getByRole('link', { name: 'Connectors', exact: true }).click();
    await row('ui-ticks').getByRole('button', { name: 'Delete' }).click();
    await row('ui-ticks').waitFor({ state: 'detached', ...WAIT });
    assert.equal((await rest('/connectors/ui-ticks')).status, 404);
    assert.equal(await row('ui-panics').count(), 1);
  });

  assert.deepEqual(errors, [], 'the page threw');
  console.log('console test passed');
} catch (e) {
  // What the page looked like when the step failed, beside the screenshot.
  await page.screenshot({ path: screenshot.replace(/\.png$/, '') + '-failed.png' }).catch(() => {});
  throw e;
} finally {
  await browser.close();
}
