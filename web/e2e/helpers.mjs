// Helpers of wcpd's browser tests (docs/ui.md). The tests run under `node --test web/e2e/`, started
// by the Go test TestBrowser (cmd/wcpd/browser_test.go), which starts wcpd and sets:
//
//   WCPD_URL             the server, e.g. https://127.0.0.1:40123 (self-signed certificate)
//   WCPD_ADMIN_PASSWORD  administrator@vsphere.local's password
//   WCPD_SCREENSHOTS     where screenshot() writes (a temporary directory, or docs/images when the
//                        Go test runs with WCPD_UPDATE_SCREENSHOTS=1)
//   WCPD_COMMAND, WCPD_DATA_DIR  a wcpd executable and the server's data dir, for addUser()
//
// Every test file shares the one server: name what you create uniquely (uniqueName()).
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

export const ADMIN = 'administrator@vsphere.local';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through the Go test TestBrowser (docs/ui.md)`);
  return value;
}

export const WCPD_URL = () => required('WCPD_URL');
export const ADMIN_PASSWORD = () => required('WCPD_ADMIN_PASSWORD');

// Debian's Chromium; Playwright's own browser downloads are not used.
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// launch starts Chromium with a fresh profile in a temporary directory and opens one page.
// The returned problems list collects what the page reported as broken (uncaught errors, failed
// console errors, Content-Security-Policy refusals): tests assert it stays empty.
// close() ends the browser and removes the profile.
export async function launch({ width = 1280, height = 800, colorScheme = 'light' } = {}) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'wcpd-chromium-'));
  // launchPersistentContext passes the profile as --user-data-dir.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ignoreHTTPSErrors: true, // wcpd's certificate is self-signed
    viewport: { width, height },
    colorScheme,
  });
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) {
      problems.push(`CSP: ${msg.text()}`);
    }
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

// login opens the UI and logs in through its form (the inputs labelled "User name" and "Password",
// the button "Log in"), and waits for the app's navigation.
export async function login(page, user = ADMIN, password = ADMIN_PASSWORD()) {
  await page.goto(`${WCPD_URL()}/ui/`);
  await page.getByLabel(/^User name/).fill(user);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation').waitFor();
}

// logout presses "Log out" and waits for the login form.
export async function logout(page) {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
}

// screenshot saves the page as NAME.png in WCPD_SCREENSHOTS (nothing when unset). A full-page shot
// is taken from the top with the window made as tall as the page, so the app's fixed header sits at
// the top and its navigation runs down the whole page (a fixed element is as tall as the window, and
// Chromium draws it where the page was scrolled to); the window's size is restored after.
export async function screenshot(page, name, { fullPage = true } = {}) {
  const dir = process.env.WCPD_SCREENSHOTS;
  if (!dir) return undefined;
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  if (!fullPage) {
    await page.screenshot({ path, animations: 'disabled' });
    return path;
  }
  const viewport = page.viewportSize();
  await page.evaluate(() => window.scrollTo(0, 0));
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  try {
    if (viewport && height > viewport.height) {
      await page.setViewportSize({ width: viewport.width, height });
      await waitFor('the window to grow to the page', async () => page.evaluate((h) => window.innerHeight === h, height), 5000);
    }
    await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  } finally {
    if (viewport && height > viewport.height) await page.setViewportSize(viewport);
  }
  return path;
}

let counter = 0;
// uniqueName is a name no other test file of this run uses: prefix, process id and a count.
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

// api calls wcpd's vCenter API from node, to set up state: as { session } (a token of
// apiLogin) or { user, password } (HTTP Basic; only POST /api/session takes it). It resolves to
// { status, body } with the body parsed as JSON when it is JSON; it does not throw on an error
// status.
export function api(method, path, { body, session, user, password } = {}) {
  const url = new URL(path, WCPD_URL());
  const headers = { Accept: 'application/json' };
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(payload);
  }
  if (session) headers['vmware-api-session-id'] = session;
  if (user) headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    // http too: against a Vite dev server that proxies /api to wcpd (docs/ui.md).
    const transport = url.protocol === 'http:' ? http : https;
    const req = transport.request(url, { method, headers, rejectUnauthorized: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode, body: parsed, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// apiLogin opens an API session (POST /api/session) and returns its token.
export async function apiLogin(user = ADMIN, password = ADMIN_PASSWORD()) {
  const res = await api('POST', '/api/session', { user, password });
  if (res.status !== 201) throw new Error(`login ${user}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

// apiOK calls api() and throws unless the answer is a 2xx; it returns the body.
export async function apiOK(method, path, options) {
  const res = await api(method, path, options);
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

// waitFor polls fn until it returns a truthy value (returned) or the timeout passes (throws
// naming what).
export async function waitFor(what, fn, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const run = promisify(execFile);

// addUser adds a vsphere.local user to the running server with `wcpd user add` on its data dir
// (vCenter's API has no user management) and waits until the server lets it log in. role is a
// global role ("" for none: a DevOps user who reaches only namespaces granted to it).
export async function addUser(name, password, { role = '', groups = [] } = {}) {
  const args = ['user', 'add', name, '--data-dir', required('WCPD_DATA_DIR')];
  if (role) args.push('--role', role);
  for (const g of groups) args.push('--group', g);
  await run(required('WCPD_COMMAND'), args, { env: { ...process.env, WCPD_PASSWORD: password } });
  await waitFor(`user ${name} to be able to log in`, async () => (await api('POST', '/api/session', { user: name, password })).status === 201);
}

// createNamespace creates a vSphere Namespace as the administrator (body: the create spec's other
// fields) and waits until it is RUNNING.
export async function createNamespace(session, cluster, namespace, fields = {}) {
  await apiOK('POST', '/api/vcenter/namespaces/instances', { session, body: { cluster, namespace, ...fields } });
  await waitFor(`namespace ${namespace} to be RUNNING`, async () => {
    const res = await api('GET', `/api/vcenter/namespaces/instances/${namespace}`, { session });
    return res.status === 200 && res.body.config_status === 'RUNNING';
  });
}

export const GOLD_POLICY = 'c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c01'; // the default inventory's wcpd-gold

// ENABLE_CLUSTER_A is the README's enable of Cluster-A (domain-c9: vSphere networking, HAProxy).
export const ENABLE_CLUSTER_A = {
  size_hint: 'TINY', network_provider: 'VSPHERE_NETWORK',
  service_cidr: { address: '10.96.0.0', prefix: 23 },
  workload_networks_spec: { supervisor_primary_workload_network: { network: 'primary', network_provider: 'VSPHERE_NETWORK',
    vsphere_network: { portgroup: 'dvportgroup-88', address_ranges: [{ address: '10.30.1.10', count: 100 }],
      gateway: '10.30.1.1', subnet_mask: '255.255.255.0' } } },
  load_balancer_config_spec: { id: 'haproxy-1', provider: 'HA_PROXY', address_ranges: [{ address: '10.40.1.10', count: 50 }],
    ha_proxy_config_create_spec: { servers: [{ host: '10.40.1.2', port: 5556 }], username: 'admin', password: 'haproxy-secret',
      certificate_authority_chain: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' } },
  master_management_network: { network: 'dvportgroup-87', mode: 'STATICRANGE',
    address_range: { starting_address: '10.20.1.10', address_count: 5, subnet_mask: '255.255.255.0', gateway: '10.20.1.1' } },
  master_DNS: ['10.0.0.53'], worker_DNS: ['10.0.0.53'], master_NTP_servers: ['pool.ntp.org'],
  master_storage_policy: GOLD_POLICY, ephemeral_storage_policy: GOLD_POLICY, image_storage: { storage_policy: GOLD_POLICY },
};

// runningSupervisor answers (the clusters list entry of) a cluster whose Supervisor runs, enabling
// Cluster-A when no Supervisor is running or on its way (another file may be enabling one).
export async function runningSupervisor(session) {
  const clusters = await apiOK('GET', '/api/vcenter/namespace-management/clusters', { session });
  if (!clusters.some((c) => ['RUNNING', 'CONFIGURING'].includes(c.config_status))) {
    const res = await api('POST', '/api/vcenter/namespace-management/clusters/domain-c9?action=enable', { session, body: ENABLE_CLUSTER_A });
    if (res.status !== 204 && res.body?.error_type !== 'ALREADY_EXISTS') {
      throw new Error(`enable Cluster-A: ${res.status} ${JSON.stringify(res.body)}`);
    }
  }
  return waitFor('a RUNNING Supervisor', async () => {
    const list = await apiOK('GET', '/api/vcenter/namespace-management/clusters', { session });
    return list.find((c) => c.config_status === 'RUNNING');
  }, 120000);
}
