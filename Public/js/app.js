// Cutover dashboard: a hash router over a few views, each a module rendering into <main>.
import { api, setToken, token } from './api.js';
import { h, replace } from './dom.js';
import { renderOverview } from './overview.js';
import { renderURLs } from './urls.js';
import { renderURLDetail } from './detail.js';
import { renderExport } from './export.js';
import { renderSites } from './sites.js';

const views = {
  overview: renderOverview,
  urls: renderURLs,
  url: renderURLDetail,
  export: renderExport,
  sites: renderSites,
};

const main = document.getElementById('main');
const siteSelect = document.getElementById('site-select');
const noticeArea = document.getElementById('notice');
const siteKey = 'cutover.site';

/** Shared state and services handed to every view. */
export const app = {
  sites: [],
  site: null,
  /** Aborted when the view changes, so a slow request of an old view never paints. */
  controller: new AbortController(),

  notice(message, kind = 'info') {
    replace(noticeArea, message ? h('p', { class: `notice-${kind}` }, message) : null);
  },

  error(error) {
    if (error?.name === 'AbortError') return;
    app.notice(error?.message ?? String(error), 'error');
  },

  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },

  loadError: null,

  async reloadSites() {
    try {
      app.sites = await api('/api/sites');
      app.loadError = null;
    } catch (error) {
      app.sites = [];
      app.loadError = error;
    }
    const stored = localStorage.getItem(siteKey);
    const names = app.sites.map((site) => site.name);
    app.site = names.includes(app.site) ? app.site : names.includes(stored) ? stored : (names[0] ?? null);
    replace(
      siteSelect,
      app.sites.length
        ? app.sites.map((site) => h('option', { value: site.name, selected: site.name === app.site }, site.name))
        : h('option', { value: '' }, 'no sites yet'),
    );
    siteSelect.disabled = app.sites.length < 2;
  },

  /** Asks for confirmation and a reason in a modal dialog; resolves with the reason or null. */
  confirm(text, { action = 'Confirm', reason = true } = {}) {
    const dialog = document.getElementById('confirm-dialog');
    const input = document.getElementById('confirm-reason');
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-ok').textContent = action;
    input.value = '';
    input.hidden = !reason;
    input.labels.forEach((label) => { label.hidden = !reason; });
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' ? input.value.trim() : null), { once: true });
      dialog.returnValue = '';
      dialog.showModal();
      (reason ? input : document.getElementById('confirm-ok')).focus();
    });
  },
};

function parseHash() {
  const text = location.hash.startsWith('#/') ? location.hash.slice(2) : 'overview';
  const [path, query = ''] = text.split('?');
  const [name, ...args] = path.split('/');
  return { name: views[name] ? name : 'overview', args, params: new URLSearchParams(query) };
}

async function route() {
  app.controller.abort();
  app.controller = new AbortController();
  const { name, args, params } = parseHash();
  for (const link of document.querySelectorAll('nav a')) {
    if (link.dataset.view === (name === 'url' ? 'urls' : name)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  app.notice('');
  try {
    if (!app.site && name !== 'sites') {
      replace(main, app.loadError ? [h('h1', {}, 'Cannot load the sites'), h('p', { class: 'error' }, app.loadError.message)] : emptySites());
      return;
    }
    await views[name](main, { app, args, params, signal: app.controller.signal });
  } catch (error) {
    if (error?.name === 'AbortError') return;
    replace(main, h('h1', {}, 'Something went wrong'), h('p', { class: 'error' }, error?.message ?? String(error)),
      h('p', {}, h('button', { type: 'button', onclick: route }, 'Try again')));
  }
}

function emptySites() {
  return [
    h('h1', {}, 'No site yet'),
    h('p', {}, 'Cutover has no site to show. Add one under ', h('a', { href: '#/sites' }, 'Sites'),
      ', or crawl a docroot from the command line:'),
    h('pre', {}, h('code', {}, 'cutover crawl --docroot /var/www/html --site-url http://127.0.0.1 --backend-url http://127.0.0.1:8081')),
  ];
}

siteSelect.addEventListener('change', () => {
  app.site = siteSelect.value;
  localStorage.setItem(siteKey, app.site);
  route();
});

const tokenInput = document.getElementById('token');
tokenInput.value = token();
document.getElementById('token-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  setToken(tokenInput.value.trim());
  if (app.loadError) {
    await app.reloadSites();
    await route();
  }
  app.notice(tokenInput.value.trim() ? 'Token set for this tab.' : 'Token cleared.', 'info');
});
document.getElementById('token-forget').addEventListener('click', () => {
  tokenInput.value = '';
  setToken('');
  app.notice('Token forgotten.', 'info');
});

window.addEventListener('hashchange', route);

await app.reloadSites();
await route();
