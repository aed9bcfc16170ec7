// Namespaces in the browser: the administrator creates one through the form, finds it in the list
// and on its page, and gives a DevOps user a role on it; the DevOps user then sees that namespace
// alone, with its VM classes, and none of the administrator's actions.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ADMIN, GOLD_POLICY, addUser, api, apiLogin, apiOK, createNamespace, launch, login, logout, runningSupervisor,
  screenshot, uniqueName, waitFor,
} from './helpers.mjs';

const devops = { name: uniqueName('devops'), password: 'Devops-pw-1!' };
const created = uniqueName('web');
const hidden = uniqueName('other');
let session;
let supervisor;
let admin;

before(async () => {
  session = await apiLogin();
  supervisor = await runningSupervisor(session);
  await addUser(devops.name, devops.password);
  // A namespace the DevOps user holds no role on: it must not show in that user's list.
  await createNamespace(session, supervisor.cluster, hidden, { description: 'not for DevOps' });
  admin = await launch({ width: 1280, height: 900 });
});

after(async () => {
  await admin?.close();
});

test('the administrator creates a namespace through the form and sees it in the list and on its page', async () => {
  const { page, problems } = admin;
  await login(page, ADMIN);
  await page.getByRole('navigation').getByRole('link', { name: 'Namespaces' }).click();
  await page.getByRole('heading', { name: 'Namespaces', exact: true }).waitFor();

  await page.getByRole('button', { name: 'Create namespace' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create namespace' });
  await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill(created);
  await dialog.getByRole('combobox', { name: 'Supervisor' }).click();
  await page.getByRole('option', { name: `${supervisor.cluster_name} (${supervisor.cluster})` }).click();
  await dialog.getByLabel('Description').fill('made in the browser');
  await dialog.getByRole('combobox', { name: 'Storage policies' }).click();
  await page.getByRole('option', { name: 'wcpd-gold' }).click();
  await page.keyboard.press('Escape');
  await dialog.getByRole('combobox', { name: 'VM classes' }).click();
  await page.getByRole('option', { name: /^best-effort-small / }).click();
  await page.keyboard.press('Escape');
  await dialog.getByLabel('CPU limit (MHz)').fill('2000');
  await dialog.getByLabel('Memory limit (MiB)').fill('4096');
  await dialog.getByLabel('Pods', { exact: true }).fill('10');
  await screenshot(page, 'namespace-create', { fullPage: false });
  await dialog.getByRole('button', { name: 'Create' }).click();

  // The form leads to the new namespace's page, which follows it to RUNNING without a reload.
  await page.getByRole('heading', { name: `Namespace ${created}` }).waitFor();
  await page.getByText('RUNNING', { exact: true }).first().waitFor({ timeout: 60000 });
  assert.match(await page.getByRole('progressbar', { name: /^Memory:/ }).getAttribute('aria-label'), /of 4 GiB$/);
  assert.match(await page.getByRole('progressbar', { name: /^CPU:/ }).getAttribute('aria-label'), /of 2 GHz$/);
  assert.match(await page.getByRole('progressbar', { name: /^Pods:/ }).getAttribute('aria-label'), /of 10 pods$/);
  assert.ok(await page.getByRole('table', { name: 'Storage policies' }).getByText('wcpd-gold').isVisible());
  assert.ok(await page.getByRole('table', { name: 'VM classes' }).getByText('best-effort-small').isVisible());
  assert.ok(await page.getByText('made in the browser').isVisible());

  // Give the DevOps user the EDIT role through the access form.
  const access = page.getByRole('form', { name: 'Add access' });
  await access.getByLabel('User or group').fill(devops.name);
  await access.getByRole('combobox', { name: 'Role' }).click();
  await page.getByRole('option', { name: 'EDIT' }).click();
  await access.getByRole('button', { name: 'Grant access' }).click();
  const row = page.getByRole('table', { name: 'Access' }).getByRole('row', { name: new RegExp(devops.name) });
  await row.waitFor();
  assert.equal(await row.getByRole('combobox', { name: `Role of ${devops.name}` }).inputValue(), 'EDIT');
  const entry = await apiOK('GET', `/api/vcenter/namespaces/instances/${created}/access/vsphere.local/${devops.name}?type=USER`, { session });
  assert.equal(entry.role, 'EDIT');
  await screenshot(page, 'namespace');

  await page.getByRole('link', { name: 'All namespaces' }).click();
  const list = page.getByRole('table', { name: 'Namespaces' });
  await list.getByRole('link', { name: created }).waitFor();
  assert.ok(await list.getByRole('link', { name: hidden }).isVisible());
  await waitFor('the list to show the memory limit', async () =>
    /of 4 GiB$/.test(await list.getByRole('progressbar', { name: new RegExp(`^${created} memory:`) }).getAttribute('aria-label')));
  await screenshot(page, 'namespaces');
  await logout(page);
  assert.deepEqual(problems, []);
});

test('a DevOps user sees only its namespace and its VM classes, without the administrator\'s actions', async () => {
  // Independent of the test above: grant the role through the API if the form did not.
  const res = await api('POST', `/api/vcenter/namespaces/instances/${created}/access/vsphere.local/${devops.name}?type=USER`, {
    session, body: { role: 'EDIT' },
  });
  if (res.status === 404 || res.status === 403) {
    await createNamespace(session, supervisor.cluster, created, {
      storage_specs: [{ policy: GOLD_POLICY }], vm_service_spec: { vm_classes: ['best-effort-small'] },
      access_list: [{ subject_type: 'USER', subject: devops.name, domain: 'vsphere.local', role: 'EDIT' }],
    });
  }
  const user = await launch({ width: 1280, height: 900 });
  try {
    const { page, problems } = user;
    await login(page, `${devops.name}@vsphere.local`, devops.password);
    // A DevOps user starts on its namespaces, not on the Supervisors it may not read.
    await page.getByRole('heading', { name: 'Namespaces', exact: true }).waitFor();
    const list = page.getByRole('table', { name: 'Namespaces' });
    await list.getByRole('link', { name: created }).waitFor();
    assert.equal(await list.getByRole('link', { name: hidden }).count(), 0, `the DevOps user sees ${hidden}`);
    assert.equal(await list.getByRole('link').count(), 1, 'the DevOps user sees namespaces it holds no role on');
    assert.equal(await page.getByRole('button', { name: 'Create namespace' }).count(), 0);
    await list.getByRole('row', { name: new RegExp(created) }).getByText(/best-effort-small/).waitFor();
    await screenshot(page, 'devops-namespaces');

    await list.getByRole('link', { name: created }).click();
    await page.getByRole('heading', { name: `Namespace ${created}` }).waitFor();
    await page.getByRole('table', { name: 'VM classes' }).getByText('best-effort-small').waitFor();
    await page.getByText('your role: EDIT').waitFor();
    assert.ok(await page.getByRole('button', { name: 'Edit namespace' }).isVisible(), 'EDIT may change the description');
    for (const name of ['Delete namespace', 'Edit VM Service', 'Grant access']) {
      assert.equal(await page.getByRole('button', { name }).count(), 0, `a DevOps user with EDIT is offered "${name}"`);
    }
    assert.ok(await page.getByText(`kubectl config use-context ${created}`).isVisible());
    await screenshot(page, 'devops');
    assert.deepEqual(problems, []);
  } finally {
    await user.close();
  }
});
