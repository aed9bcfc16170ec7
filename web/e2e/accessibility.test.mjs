// Accessibility of the UI (issue 17: "keyboard accessible, readable at 1280 and 1920 px, light and
// dark"): axe-core's WCAG 2 A/AA rules on every main page in both themes, a user who only has the
// keyboard logging in, reaching a namespace and opening and closing a dialog, and no page wider than
// a 1280 px window.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import {
  ADMIN, ADMIN_PASSWORD, WCPD_URL, api, apiLogin, createNamespace, launch, login, runningSupervisor, screenshot, uniqueName,
  waitFor,
} from './helpers.mjs';

const require = createRequire(import.meta.url);
// axe's source goes in with page.evaluate: the UI's Content-Security-Policy refuses inline script
// elements (and addScriptTag makes one), but evaluate runs through the DevTools protocol.
const AXE_SOURCE = readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const namespace = uniqueName('a11y');
let supervisor;
let session;

before(async () => {
  session = await apiLogin();
  supervisor = await runningSupervisor(session);
  await createNamespace(session, supervisor.cluster, namespace, { description: 'checked for accessibility' });
});

// The pages a user of the UI works with, each found by its main heading.
function pages() {
  return [
    { name: 'supervisors', path: '/ui/supervisors', heading: 'Supervisors' },
    { name: 'supervisor', path: `/ui/supervisors/${supervisor.cluster}`, heading: /^Supervisor / },
    { name: 'enable', path: '/ui/supervisors/enable', heading: 'Enable a Supervisor' },
    { name: 'namespaces', path: '/ui/namespaces', heading: 'Namespaces' },
    { name: 'namespace', path: `/ui/namespaces/${namespace}`, heading: `Namespace ${namespace}` },
    { name: 'vm-classes', path: '/ui/vm-classes', heading: 'VM classes' },
    { name: 'services', path: '/ui/services', heading: 'Supervisor Services' },
    { name: 'resources', path: `/ui/resources/${supervisor.cluster}`, heading: 'Resources' },
  ];
}

const LOGIN_HEADING = 'wcpd · Workload Management';

// settle waits until a page has drawn what it shows: its heading, no spinner, and no Mantine
// transition running (a half-faded element would be measured at a contrast it never keeps).
async function settle(page, heading) {
  await page.getByRole('heading', { name: heading, exact: typeof heading === 'string', level: heading === LOGIN_HEADING ? 1 : 2 }).first().waitFor();
  await waitFor('the page to finish loading', async () => page.evaluate(() => (
    document.querySelectorAll('[aria-label="Loading"]').length === 0
    && document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)
  )));
}

// chooseTheme makes the next loads draw the given theme: the UI keeps the user's choice where its
// theme toggle does (Mantine's local storage key), and the check below proves it took.
async function chooseTheme(page, scheme) {
  await page.evaluate((s) => localStorage.setItem('mantine-color-scheme-value', s), scheme);
}
async function assertTheme(page, scheme) {
  assert.equal(await page.evaluate(() => document.documentElement.getAttribute('data-mantine-color-scheme')), scheme);
}

// axe runs axe-core's WCAG 2 A and AA rules on the page and answers its violations as readable
// lines: rule, impact, what it asks for, and each offending element's selector and summary.
async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(await AXE_SOURCE);
  }
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  }, WCAG_TAGS);
  return violations.map((v) => [
    `${v.id} (${v.impact}): ${v.help} — ${v.url}`,
    ...v.nodes.slice(0, 8).map((n) => `    ${n.target}\n      ${(n.summary || '').replace(/\n\s*/g, ' ')}`),
    ...(v.nodes.length > 8 ? [`    … and ${v.nodes.length - 8} more`] : []),
  ].join('\n'));
}

for (const scheme of ['light', 'dark']) {
  test(`every main page passes axe's WCAG 2 A/AA rules in the ${scheme} theme`, async () => {
    // The system's scheme is the other one: the page must draw the theme chosen, not the default.
    const browser = await launch({ width: 1280, height: 900, colorScheme: scheme === 'dark' ? 'light' : 'dark' });
    try {
      const { page, problems } = browser;
      const found = [];
      await page.goto(`${WCPD_URL()}/ui/`);
      await chooseTheme(page, scheme);
      await page.reload();
      await settle(page, LOGIN_HEADING);
      await assertTheme(page, scheme);
      found.push(...(await axe(page)).map((v) => `login: ${v}`));

      await login(page, ADMIN);
      for (const p of pages()) {
        await page.goto(`${WCPD_URL()}${p.path}`);
        await settle(page, p.heading);
        await assertTheme(page, scheme);
        found.push(...(await axe(page)).map((v) => `${p.name} (${scheme}): ${v}`));
      }
      await screenshot(page, `a11y-${scheme}-resources`);
      assert.deepEqual(problems, []);
      assert.equal(found.length, 0, `axe found ${found.length} violation(s) of WCAG 2 A/AA:\n\n${found.join('\n\n')}`);
    } finally {
      await browser.close();
    }
  });
}

for (const width of [1280, 1920]) {
  test(`no page is wider than a ${width} px window`, async () => {
    const browser = await launch({ width, height: 900 });
    try {
      const { page } = browser;
      await login(page, ADMIN);
      const wide = [];
      for (const p of pages()) {
        await page.goto(`${WCPD_URL()}${p.path}`);
        await settle(page, p.heading);
        const { scrollWidth, clientWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
        }));
        if (scrollWidth > clientWidth) wide.push(`${p.name}: ${scrollWidth} px of content in ${clientWidth} px`);
      }
      assert.deepEqual(wide, [], `pages scroll sideways at ${width} px`);
    } finally {
      await browser.close();
    }
  });
}

// focusInfo describes the focused element and whether it draws a focus indicator: an outline, or
// a box shadow (Mantine's inputs show focus by their border colour and a shadow on some themes).
async function focusInfo(page) {
  return page.evaluate(() => {
    let el = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    if (!el || el === document.body) return { tag: 'body', name: '', visible: false };
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow && style.boxShadow !== 'none';
    const label = el.getAttribute('aria-label')
      || (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent)
      || el.textContent || '';
    return {
      tag: el.tagName.toLowerCase(), role: el.getAttribute('role') || '', name: label.trim().replace(/\s+/g, ' '),
      visible: Boolean(outline || shadow), outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
    };
  });
}

// tabTo presses Tab (or Shift+Tab) until the focused element matches, asserting each stop it
// makes on the way shows where focus is.
async function tabTo(page, what, matches, { back = false, limit = 40 } = {}) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focusInfo(page);
    if (f.tag !== 'body') assert.ok(f.visible, `focus on ${f.tag} "${f.name}" is not visible (outline ${f.outline}, no box shadow)`);
    if (matches(f)) return f;
  }
  throw new Error(`${limit} presses of ${back ? 'Shift+Tab' : 'Tab'} did not reach ${what}`);
}

test('a keyboard user logs in, opens a namespace, opens and closes a dialog and switches the theme', async () => {
  const browser = await launch({ width: 1280, height: 900, colorScheme: 'light' });
  try {
    const { page, problems } = browser;
    await page.goto(`${WCPD_URL()}/ui/`);
    await settle(page, LOGIN_HEADING);

    // The login form: the user name is filled in; Tab to the password, type it, Enter submits.
    await tabTo(page, 'the user name field', (f) => f.tag === 'input' && /^User name/.test(f.name));
    await tabTo(page, 'the password field', (f) => f.tag === 'input' && /^Password/.test(f.name));
    await page.keyboard.type(ADMIN_PASSWORD());
    await page.keyboard.press('Enter');
    await page.getByRole('navigation').waitFor();
    await page.getByRole('heading', { name: 'Supervisors', level: 2 }).waitFor();

    // The navigation: Tab to Namespaces, Enter follows the link.
    await tabTo(page, 'the Namespaces link', (f) => f.tag === 'a' && f.name === 'Namespaces');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Namespaces', exact: true, level: 2 }).waitFor();
    assert.match(page.url(), /\/ui\/namespaces$/);

    // Create namespace opens its form with Enter, focus inside; in the Supervisor field the arrow
    // keys open its options and move through them, Enter picks one. The dialog passes axe too, and
    // Escape closes it (nothing is created) and gives focus back to the button.
    await tabTo(page, 'Create namespace', (f) => f.tag === 'button' && f.name === 'Create namespace');
    await page.keyboard.press('Enter');
    const form = page.getByRole('dialog', { name: 'Create namespace' });
    await form.waitFor();
    await waitFor('focus to move into the form', async () => page.evaluate(() => Boolean(document.activeElement?.closest('[role="dialog"]'))), 5000);
    await tabTo(page, 'the Supervisor field', (f) => f.tag === 'input' && /^Supervisor/.test(f.name));
    await page.keyboard.press('ArrowDown');
    await page.getByRole('listbox').waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await waitFor('the options to close', async () => !(await page.getByRole('listbox').isVisible()), 5000);
    assert.match(await form.getByRole('combobox', { name: 'Supervisor' }).inputValue(), /\(domain-c\d+\)$/, 'the arrow keys and Enter picked no Supervisor');
    assert.deepEqual(await axe(page), [], 'the Create namespace form fails axe');
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
    await waitFor('focus to return to "Create namespace"', async () => (await focusInfo(page)).name === 'Create namespace', 5000);

    // The list: Tab on to the namespace's link and open it.
    await page.getByRole('link', { name: namespace }).waitFor();
    await tabTo(page, `the link to namespace ${namespace}`, (f) => f.tag === 'a' && f.name === namespace, { limit: 80 });
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Namespace ${namespace}`, level: 2 }).waitFor();

    // Delete namespace opens its confirmation with Space; focus moves into the dialog, Escape
    // closes it without deleting and gives focus back to the button that opened it.
    await tabTo(page, 'Delete namespace', (f) => f.tag === 'button' && f.name === 'Delete namespace');
    await page.keyboard.press('Space');
    const dialog = page.getByRole('dialog', { name: `Delete namespace ${namespace}?` });
    await dialog.waitFor();
    await waitFor('focus to move into the dialog', async () => page.evaluate(() => Boolean(document.activeElement?.closest('[role="dialog"]'))), 5000);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await waitFor('focus to return to "Delete namespace"', async () => (await focusInfo(page)).name === 'Delete namespace', 5000);
    assert.ok((await focusInfo(page)).visible, 'focus back on "Delete namespace" is not visible');
    await page.getByRole('heading', { name: `Namespace ${namespace}`, level: 2 }).waitFor();
    const still = await api('GET', `/api/vcenter/namespaces/instances/${namespace}`, { session });
    assert.equal(still.status, 200, 'Escape on the confirmation deleted the namespace');
    assert.equal(still.body.config_status, 'RUNNING');

    // The theme toggle sits before the namespace's content: Shift+Tab back to it, Enter switches.
    await tabTo(page, 'the theme toggle', (f) => f.tag === 'button' && f.name === 'Switch to dark theme', { back: true, limit: 60 });
    await page.keyboard.press('Enter');
    await waitFor('the dark theme', async () => (await page.evaluate(() => document.documentElement.getAttribute('data-mantine-color-scheme'))) === 'dark', 5000);
    const f = await focusInfo(page);
    assert.equal(f.name, 'Switch to light theme', 'focus left the theme toggle after switching');
    assert.ok(f.visible, 'focus on the theme toggle is not visible in the dark theme');
    await screenshot(page, 'a11y-keyboard-dark', { fullPage: false });
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
