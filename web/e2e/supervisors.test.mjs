// The administrator enables a Supervisor through the form (choosing a cluster, port groups and a
// storage policy the inventory offers), is shown the API's refusal of a bad spec, watches the new
// Supervisor reach RUNNING in the list and opens its page; then works with VM classes and looks at
// the Supervisor Services catalogue. Screenshots: enable, supervisors, supervisor, vm-classes,
// vm-class, services.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ADMIN, GOLD_POLICY, WCPD_URL, addUser, apiLogin, apiOK, launch, login, screenshot, uniqueName,
} from './helpers.mjs';

const NS = '/api/vcenter/namespace-management';

let browser;
let session;
let enabled; // { cluster, name, subnet } of the Supervisor the first test enables

before(async () => {
  browser = await launch({ width: 1280, height: 900 });
  session = await apiLogin();
  await login(browser.page, ADMIN);
});
after(async () => {
  await browser?.close();
});

// choose picks option in the Mantine Select labelled label.
async function choose(page, label, option) {
  await page.getByRole('combobox', { name: label, exact: true }).click();
  await page.getByRole('option', { name: option }).click();
}

// shot takes a screenshot from the top of the page: a full-page screenshot of a scrolled page
// draws the fixed header in the middle.
async function shot(page, name, options) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name, options);
}

async function fill(page, label, value) {
  const input = page.getByRole('textbox', { name: label, exact: true });
  await input.fill(value);
}

test('the administrator enables a Supervisor through the form and sees it reach RUNNING', async () => {
  const { page, problems } = browser;
  // Another test file may already have enabled a cluster: take one the inventory still offers, and
  // give it its own subnets so its addresses cannot collide with another Supervisor's.
  const compatible = await apiOK('GET', `${NS}/cluster-compatibility?network_provider=VSPHERE_NETWORK`, { session });
  const candidate = compatible.find((c) => c.compatible);
  assert.ok(candidate, `no cluster can run a Supervisor: ${JSON.stringify(compatible)}`);
  const clusters = await apiOK('GET', '/api/vcenter/cluster', { session });
  const name = clusters.find((c) => c.cluster === candidate.cluster).name;
  const subnet = 100 + Number(candidate.cluster.replace(/\D/g, '')) % 100;
  enabled = { cluster: candidate.cluster, name, subnet };

  await page.goto(`${WCPD_URL()}/ui/supervisors`);
  await page.getByRole('link', { name: 'Enable a Supervisor' }).click();
  await page.getByRole('heading', { name: 'Enable a Supervisor' }).waitFor();
  // The form offers only what can work: the cluster Edge-Single is named with its reasons.
  await page.getByRole('note').getByText(/Edge-Single:.*vSphere HA is not enabled/).waitFor();

  await choose(page, 'Cluster', `${name} (${candidate.cluster})`);
  await choose(page, 'Management port group', 'DPG-Management (dvportgroup-87)');
  await fill(page, 'Starting address', `10.20.${subnet}.10`);
  await fill(page, 'Gateway', `10.20.${subnet}.1`);
  await choose(page, 'Workload port group', 'DPG-Workload (dvportgroup-88)');
  await fill(page, 'Workload starting address', `10.30.${subnet}.10`);
  await fill(page, 'Workload gateway', `10.30.${subnet}.1`);
  await fill(page, 'Virtual IP starting address', `10.40.${subnet}.10`);
  await page.getByLabel(/^HAProxy password/).fill('haproxy-secret');
  await choose(page, 'Control plane storage policy', 'wcpd-gold');
  // Choosing one policy fills the other two.
  assert.equal(await page.getByRole('combobox', { name: 'Image cache storage policy', exact: true }).inputValue(), 'wcpd-gold');

  // A service CIDR that is not a network address: the API refuses, and the UI says what it said.
  await fill(page, 'Service CIDR', '10.96.0.1/23');
  await page.getByRole('button', { name: 'Enable', exact: true }).click();
  const refusal = page.getByRole('alert').filter({ hasText: 'Enable refused' });
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /service_cidr/);

  await fill(page, 'Service CIDR', '10.96.0.0/23');
  await shot(page, 'enable');
  await page.getByRole('button', { name: 'Enable', exact: true }).click();
  await page.getByRole('heading', { name: 'Supervisors' }).waitFor();
  const row = page.getByRole('row').filter({ has: page.getByText(candidate.cluster, { exact: true }) });
  await row.waitFor();
  // It configures, then runs with every condition met.
  await row.getByText('RUNNING').waitFor({ timeout: 90000 });
  // Four enable conditions, and a fifth for the Kubernetes API server when wcpd runs one.
  await row.getByText(/^(\d) of \1 conditions met$/).waitFor({ timeout: 90000 });
  const stored = await apiOK('GET', `${NS}/clusters/${candidate.cluster}`, { session });
  assert.equal(stored.master_management_network.network, 'dvportgroup-87');
  assert.equal(stored.master_storage_policy, GOLD_POLICY);
  await shot(page, 'supervisors');

  // Its page: endpoints, size, networks, version, conditions, installed services.
  await row.getByRole('link').first().click();
  await page.getByRole('heading', { name: `Supervisor ${name.toLowerCase()}`, level: 2 }).waitFor();
  const overview = page.getByRole('region', { name: 'Overview' });
  await overview.getByText(`10.20.${subnet}.10`, { exact: true }).waitFor();
  await overview.getByText(/TINY: 3 VMs of 2 vCPUs/).waitFor();
  const networks = page.getByRole('region', { name: 'Networks' });
  // Port group names and workload networks come from calls of their own: wait for them.
  await networks.getByText('DPG-Management (dvportgroup-87)').waitFor();
  await networks.getByRole('table', { name: 'Workload networks' }).getByText(`10.30.${subnet}.10 (+100)`).waitFor();
  const version = page.getByRole('region', { name: 'Kubernetes version' });
  const currentVersion = version.getByRole('row').filter({ hasText: 'Current version' });
  await currentVersion.getByText(/^v1\.27\.11\+vmware/).waitFor();
  const conditions = page.getByRole('table', { name: 'Conditions' });
  const reported = (await apiOK('GET', `${NS}/clusters/${candidate.cluster}`, { session })).conditions;
  assert.ok(reported.length >= 4, `conditions: ${JSON.stringify(reported)}`);
  for (const c of reported) {
    await conditions.getByRole('row').filter({ hasText: c.type }).getByText(c.reason, { exact: true }).waitFor();
  }
  assert.ok(await page.getByRole('button', { name: 'Disable', exact: true }).isVisible(), 'the administrator is not offered to disable');
  // The Tanzu Kubernetes Grid Service must be installed on every Supervisor: wcpd does it itself.
  await page.getByRole('region', { name: 'Supervisor Services' }).getByText('Tanzu Kubernetes Grid Service').waitFor({ timeout: 60000 });

  // An upgrade that skips a minor version fails its prechecks; the refusal is shown.
  await choose(page, 'Upgrade to', 'v1.29.4');
  await page.getByRole('button', { name: 'Run prechecks and upgrade' }).click();
  const upgradeRefusal = page.getByRole('alert').filter({ hasText: 'Upgrade refused' });
  await upgradeRefusal.waitFor();
  assert.match(await upgradeRefusal.innerText(), /minor/i);
  await shot(page, 'supervisor');

  // One minor version at a time passes the prechecks: the upgrade runs node by node to the end.
  await choose(page, 'Upgrade to', 'v1.28.8');
  await page.getByRole('button', { name: 'Run prechecks and upgrade' }).click();
  await currentVersion.getByText(/^v1\.28\.8\+vmware/).waitFor({ timeout: 90000 });
  await version.getByText(/was upgraded from v1\.27\.11.* to v1\.28\.8/).waitFor();
  assert.deepEqual(problems, []);
});

test('VM classes show their hardware, and the administrator creates and deletes one', async () => {
  const { page, problems } = browser;
  // A class with a config spec, made through the API, reads as hardware.
  const specClass = uniqueName('ui-gpu');
  await apiOK('POST', `${NS}/virtual-machine-classes`, {
    session,
    body: {
      id: specClass, cpu_count: 4, memory_MB: 16384, memory_reservation: 100, description: 'A T4 vGPU class',
      devices: { vgpu_devices: [{ profile_name: 'grid_t4-4q' }] },
      config_spec: {
        _typeName: 'VirtualMachineConfigSpec', numCPUs: 4, memoryMB: 16384,
        deviceChange: [{ _typeName: 'VirtualDeviceConfigSpec', operation: 'add', device: {
          _typeName: 'VirtualPCIPassthrough', key: 0,
          backing: { _typeName: 'VirtualPCIPassthroughVmiopBackingInfo', vgpu: 'grid_t4-4q' } } }],
      },
    },
  });
  await page.goto(`${WCPD_URL()}/ui/vm-classes`);
  const small = page.getByRole('row').filter({ has: page.getByRole('button', { name: 'Show best-effort-small' }) });
  await small.waitFor();
  assert.deepEqual((await small.getByRole('cell').allInnerTexts()).slice(1, 5), ['2', '4 GiB', 'none', 'none']);
  const guaranteed = page.getByRole('row').filter({ has: page.getByRole('button', { name: 'Show guaranteed-large' }) });
  assert.deepEqual((await guaranteed.getByRole('cell').allInnerTexts()).slice(1, 5), ['4', '16 GiB', '100%', '100%']);

  const gpuRow = page.getByRole('row').filter({ has: page.getByRole('button', { name: `Show ${specClass}` }) });
  assert.ok(await gpuRow.getByText('vGPU grid_t4-4q').isVisible(), 'the vGPU device is not shown in the list');
  await gpuRow.getByRole('button', { name: `Show ${specClass}` }).click();
  const drawer = page.getByRole('dialog', { name: `VM class ${specClass}` });
  await drawer.waitFor();
  assert.ok(await drawer.getByText('add PCI Passthrough').isVisible(), 'the device change does not read as hardware');
  assert.ok(await drawer.getByRole('rowheader', { name: 'vGPU profile', exact: true }).isVisible(), 'the vGPU backing has no label');
  assert.ok(await drawer.getByRole('rowheader', { name: 'vCPUs', exact: true }).first().isVisible());
  await shot(page, 'vm-class', { fullPage: false });
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'hidden' });

  // Create one through the form, see it listed, then delete it.
  const created = uniqueName('ui-class');
  await page.getByRole('button', { name: 'Create VM class' }).click();
  const form = page.getByRole('dialog', { name: 'Create VM class' });
  await form.getByRole('textbox', { name: 'Name' }).fill(created);
  await form.getByRole('textbox', { name: 'vCPUs' }).fill('3');
  await form.getByRole('textbox', { name: 'Memory (MB)' }).fill('6144');
  await form.getByRole('textbox', { name: 'CPU reservation (%)' }).fill('50');
  await form.getByRole('button', { name: 'Create' }).click();
  await form.waitFor({ state: 'hidden' });
  const createdRow = page.getByRole('row').filter({ has: page.getByRole('button', { name: `Show ${created}` }) });
  await createdRow.waitFor();
  assert.deepEqual((await createdRow.getByRole('cell').allInnerTexts()).slice(1, 5), ['3', '6 GiB', '50%', 'none']);
  await shot(page, 'vm-classes');

  await createdRow.getByRole('button', { name: `Delete ${created}` }).click();
  await page.getByRole('dialog', { name: `Delete VM class ${created}?` }).getByRole('button', { name: 'Delete' }).click();
  await createdRow.waitFor({ state: 'detached' });
  await apiOK('DELETE', `${NS}/virtual-machine-classes/${specClass}`, { session });
  assert.deepEqual(problems, []);
});

test('the Supervisor Services catalogue shows services, versions and where they run', async () => {
  const { page, problems } = browser;
  await page.goto(`${WCPD_URL()}/ui/services`);
  const tkg = page.getByRole('table', { name: 'Versions of tkg.vsphere.vmware.com' });
  const row = tkg.getByRole('row').filter({ hasText: '3.0.0' });
  await row.waitFor();
  assert.ok(await row.getByText('ACTIVATED').isVisible());
  // wcpd installs the TKG service on every RUNNING Supervisor, the one enabled above included.
  if (enabled) {
    const supervisors = page.getByRole('table', { name: 'Supervisors running tkg.vsphere.vmware.com' });
    await supervisors.getByRole('link', { name: enabled.name.toLowerCase(), exact: true }).waitFor({ timeout: 60000 });
  }
  await shot(page, 'services');

  await row.getByRole('button', { name: 'Details of version 3.0.0' }).click();
  const details = page.getByRole('dialog', { name: 'tkg.vsphere.vmware.com 3.0.0' });
  await details.getByText('CARVEL_APPS_YAML').waitFor();
  assert.ok(await details.getByText('signed by a trusted provider, verified').isVisible());
  assert.ok(await details.getByText(/kind: PackageMetadata/).first().isVisible(), 'the content is not shown as YAML');
  assert.deepEqual(problems, []);
});

test('a read-only user sees Supervisors, VM classes and services but no action that would change them', async () => {
  const user = uniqueName('viewer');
  const password = 'Viewer-Pw-1!';
  await addUser(user, password, { role: 'ReadOnly' });
  const viewer = await launch({ width: 1280, height: 900 });
  try {
    const { page, problems } = viewer;
    await login(page, `${user}@vsphere.local`, password);
    await page.goto(`${WCPD_URL()}/ui/supervisors`);
    await page.getByRole('table', { name: 'Supervisors' }).getByText('RUNNING').first().waitFor();
    assert.equal(await page.getByRole('link', { name: 'Enable a Supervisor' }).count(), 0, 'a read-only user is offered to enable');
    await page.getByRole('table', { name: 'Supervisors' }).getByRole('link').first().click();
    await page.getByRole('region', { name: 'Kubernetes version' }).getByText('Current version').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Run prechecks and upgrade' }).count(), 0, 'a read-only user is offered to upgrade');
    assert.equal(await page.getByRole('button', { name: 'Disable', exact: true }).count(), 0, 'a read-only user is offered to disable');

    await page.goto(`${WCPD_URL()}/ui/vm-classes`);
    await page.getByRole('button', { name: 'Show best-effort-small' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create VM class' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Delete best-effort-small' }).count(), 0);

    await page.goto(`${WCPD_URL()}/ui/services`);
    await page.getByRole('table', { name: 'Versions of tkg.vsphere.vmware.com' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Register a service' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^(Activate|Deactivate) version/ }).count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await viewer.close();
  }
});
