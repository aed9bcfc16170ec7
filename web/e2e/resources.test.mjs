// The Resources page: a namespace's entitlement bar follows another namespace being added (seed
// 003's dilution, live, without a reload), the what-if control shows the same dilution before it
// happens and resets to live, and the page reads in the dark theme with its usage charts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  api, apiLogin, apiOK, createNamespace, launch, login, runningSupervisor, screenshot, uniqueName, waitFor,
} from './helpers.mjs';

// A memory limit below the cluster's memory and above half of it: alone among empty namespaces the
// namespace is held at its limit, and any further namespace wanting everything takes part of it.
const MEMORY_LIMIT_MB = 1000000;
const CPU_LIMIT_MHZ = 200000;

const first = uniqueName('res-a');
const second = uniqueName('res-b');
const whatIfPrefix = uniqueName('whatif');
let session;
let cluster;
let poolName;
let browser;

// liveEntitlement is the namespace's memory entitlement in the API's live analysis (undefined while
// the analysis does not list it yet).
async function liveEntitlement(namespace) {
  const analysis = await apiOK('GET', `/api/wcpd/clusters/${cluster}/resources`, { session });
  const pool = analysis.children.find((n) => n.id === analysis.namespaces_pool);
  const node = (pool.children || []).find((n) => n.name === namespace);
  return node && node.memory_entitlement_mb;
}

function formatMB(v) {
  return v < 1024 ? `${v} MB` : `${(v / 1024).toFixed(2)} GB`;
}

// shoot saves a screenshot of the whole page from its top (the shell's header is fixed: taken
// scrolled, it would cut through the middle of the picture).
async function shoot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name);
}

function memoryBar(page, namespace) {
  return page.getByRole('meter', { name: `Memory entitlement of ${poolName}/${namespace}` });
}

// openResources goes to the Resources page the way a user does (the navigation, then the cluster
// picker) unless the page already shows the cluster.
async function openResources(page) {
  if (page.url().endsWith(`/ui/resources/${cluster}`)) return;
  await page.getByRole('link', { name: 'Resources' }).click();
  await page.getByRole('combobox', { name: 'Supervisor cluster' }).click();
  await page.getByRole('option', { name: new RegExp(`\\(${cluster}\\)`) }).click();
  await page.waitForURL(`**/ui/resources/${cluster}`);
}

async function barValue(bar) {
  return Number(await bar.getAttribute('aria-valuenow'));
}

before(async () => {
  session = await apiLogin();
  cluster = (await runningSupervisor(session)).cluster;
  await createNamespace(session, cluster, first, {
    resource_spec: { memory_limit: MEMORY_LIMIT_MB, cpu_limit: CPU_LIMIT_MHZ },
  });
  const analysis = await apiOK('GET', `/api/wcpd/clusters/${cluster}/resources`, { session });
  poolName = analysis.children.find((n) => n.id === analysis.namespaces_pool).name;
  await waitFor(`the analysis to list ${first}`, async () => (await liveEntitlement(first)) !== undefined);
  browser = await launch({ width: 1280, height: 900 });
  await login(browser.page);
});

after(async () => {
  await browser?.close();
  // The namespaces would dilute what the other files' namespaces show.
  for (const namespace of [first, second]) {
    await api('DELETE', `/api/vcenter/namespaces/instances/${namespace}`, { session });
  }
});

test('a namespace\'s entitlement bar drops when another namespace is added, without a reload', async () => {
  const { page, problems } = browser;
  await openResources(page);
  const bar = memoryBar(page, first);
  await bar.waitFor();
  // The bar shows the API's figure, in words too, with the namespace's limit marked.
  const entitled = await waitFor('the bar to show the live entitlement', async () => {
    const [shown, live] = [await barValue(bar), await liveEntitlement(first)];
    return shown === live ? shown : null;
  });
  assert.match(await bar.getAttribute('aria-valuetext'), new RegExp(`limit ${formatMB(MEMORY_LIMIT_MB)}`));
  assert.equal(await bar.getByText(formatMB(entitled), { exact: true }).count(), 1);
  // A reload would drop this mark.
  await page.evaluate(() => { window.resourcesPageMark = true; });

  await createNamespace(session, cluster, second);
  const diluted = await waitFor(`the entitlement bar of ${first} to change`, async () => {
    const shown = await barValue(bar);
    return shown !== entitled ? shown : null;
  });
  assert.ok(diluted < entitled, `entitlement ${diluted} MB after adding ${second} is not below ${entitled} MB`);
  await waitFor('the bar to show the API\'s new entitlement', async () => (await barValue(bar)) === (await liveEntitlement(first)));
  await memoryBar(page, second).waitFor();
  assert.equal(await page.evaluate(() => window.resourcesPageMark), true, 'the page reloaded');
  await shoot(page, 'resources');
  assert.deepEqual(problems, []);
});

test('the what-if control shows the dilution of added namespaces and resets to live', async () => {
  const { page, problems } = browser;
  await openResources(page);
  const bar = memoryBar(page, first);
  await bar.waitFor();
  const live = await waitFor('the live entitlement', async () => {
    const [shown, api] = [await barValue(bar), await liveEntitlement(first)];
    return shown === api ? shown : null;
  });

  await page.getByRole('tab', { name: 'Add namespaces' }).click();
  await page.getByRole('textbox', { name: 'How many' }).fill('3');
  await page.getByRole('textbox', { name: 'Name prefix' }).fill(whatIfPrefix);
  await page.getByRole('button', { name: 'Add namespaces' }).click();
  await page.getByText('What-if: 1 change applied').waitFor();

  const whatIf = await barValue(bar);
  assert.ok(whatIf < live, `what-if entitlement ${whatIf} MB is not below the live ${live} MB`);
  assert.match(await bar.getAttribute('aria-valuetext'), new RegExp(`was ${formatMB(live)}`));
  for (const n of [1, 2, 3]) await memoryBar(page, `${whatIfPrefix}-${n}`).waitFor();
  const changes = page.getByRole('table', { name: 'What-if changes' });
  const row = changes.getByRole('row').filter({ hasText: `${poolName}/${first}` });
  await row.getByText(`${formatMB(live)} → ${formatMB(whatIf)}`).waitFor();
  await shoot(page, 'resources-whatif');
  // Nothing changed in the inventory.
  assert.equal(await liveEntitlement(`${whatIfPrefix}-1`), undefined);

  await page.getByRole('button', { name: 'Reset to live' }).click();
  await page.getByText('Live', { exact: true }).waitFor();
  await waitFor('the bar to show the live entitlement again', async () => (await barValue(bar)) === (await liveEntitlement(first)));
  assert.equal(await memoryBar(page, `${whatIfPrefix}-1`).count(), 0);
  assert.deepEqual(problems, []);
});

test('the page in the dark theme at 1920 px, with usage over time', async () => {
  const dark = await launch({ width: 1920, height: 1080, colorScheme: 'dark' });
  try {
    await login(dark.page);
    await openResources(dark.page);
    await memoryBar(dark.page, first).waitFor();
    const background = await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = background.match(/\d+/g).map(Number);
    assert.ok(r + g + b < 200, `the page background ${background} is not dark`);
    await dark.page.getByRole('heading', { name: 'Usage over time' }).waitFor();
    // The sampler records the cluster once a minute.
    await dark.page.getByText(/^Latest: Used \d/).first().waitFor({ timeout: 90000 });
    await shoot(dark.page, 'resources-dark');
    assert.deepEqual(dark.problems, []);
  } finally {
    await dark.close();
  }
});
