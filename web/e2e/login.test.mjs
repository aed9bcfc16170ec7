// The administrator logs in through the UI's form, sees the app's navigation, and logs out; the
// session cookie is the one the server set (HttpOnly, so the page's scripts cannot read it).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, WCPD_URL, api, launch, login, logout, screenshot } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the administrator logs in, sees the app shell and logs out', async () => {
  const { page, context, problems } = browser;
  await page.goto(`${WCPD_URL()}/`); // the bare address leads to the UI
  assert.match(page.url(), /\/ui\/$/);
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await screenshot(page, 'login');

  await login(page, ADMIN);
  const nav = page.getByRole('navigation');
  for (const name of ['Supervisors', 'Namespaces', 'VM classes', 'Services', 'Resources']) {
    assert.ok(await nav.getByRole('link', { name }).isVisible(), `the navigation has no visible link "${name}"`);
  }
  const cookies = await context.cookies(WCPD_URL());
  const session = cookies.find((c) => c.name === 'wcpd_ui_session');
  assert.ok(session, `no wcpd_ui_session cookie after login: ${JSON.stringify(cookies)}`);
  assert.equal(session.httpOnly, true);
  assert.equal(session.secure, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('wcpd_ui_session')), false);
  // The cookie is an API session, usable by other clients as the session header.
  assert.equal((await api('GET', '/api/session', { session: session.value })).status, 200);
  await screenshot(page, 'home');

  await logout(page);
  assert.equal((await api('GET', '/api/session', { session: session.value })).status, 401, 'the session outlives logout');
  assert.deepEqual(problems, []);
});

test('a wrong password is refused with a message and no session', async () => {
  const { page, context } = browser;
  await page.goto(`${WCPD_URL()}/ui/`);
  await page.getByLabel(/^User name/).fill(ADMIN);
  await page.getByLabel(/^Password/).fill('not-the-password');
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/wcpd/ui/session') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
  assert.equal(answer.status(), 401);
  assert.equal(await page.getByRole('navigation').count(), 0);
  const cookies = await context.cookies(WCPD_URL());
  assert.equal(cookies.find((c) => c.name === 'wcpd_ui_session'), undefined);
});
