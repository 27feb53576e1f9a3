// The URL table: server-side filters, sort and pages (cursor pages in path order), row
// selection and flips to Swift or back to PHP with a confirmation and a reason.
import { api, sitePath } from './api.js';
import { field, h, number, replace, select } from './dom.js';

const ownerOptions = [['', 'any'], ['php', 'PHP'], ['swift', 'Swift'], ['static', 'static']];
const yesNo = [['', 'any'], ['true', 'yes'], ['false', 'no']];
const parityOptions = [['', 'any'], ['same', 'same'], ['different', 'different'], ['noisy', 'noisy'], ['error', 'error'], ['not-compared', 'not compared']];

/** Ready to flip: Swift answers and parity is the same; answering alone is "answers, not compared". */
export function readiness(url) {
  if (url.readyToFlip) return h('span', { class: 'tag ready' }, 'ready');
  if (url.swiftAnswers && !url.parity) return h('span', { class: 'tag', title: 'the Swift app answers; no parity run compared it yet' }, 'answers, not compared');
  return '—';
}

/** A parity verdict as a tag ("—" before any run compared the page). */
export function parityTag(verdict) {
  if (!verdict) return '—';
  return h('span', { class: `tag parity-${verdict === 'same' ? 'same' : 'other'}` }, verdict);
}
const filterNames = ['owner', 'planned', 'observed', 'drift', 'ready', 'parity', 'include', 'minHits', 'prefix', 'q', 'sort', 'order'];

export async function renderURLs(main, { app, params, signal }) {
  const site = app.site;
  const filters = Object.fromEntries(filterNames.map((name) => [name, params.get(name) ?? '']));
  const limit = Number(params.get('limit')) || 100;
  const after = params.get('after') ?? '';
  const offset = Number(params.get('offset')) || 0;

  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  query.set('limit', String(limit));
  if (after && (filters.sort || 'path') === 'path') query.set('after', after);
  else if (offset) query.set('offset', String(offset));
  const page = await api(`${sitePath(site, '/urls')}?${query}`, { signal });

  const form = filterForm(app, filters);
  const selected = new Set();
  const count = h('span', { class: 'muted', 'aria-live': 'polite' }, 'No rows selected.');
  const flipButtons = [['swift', 'Flip selected to Swift'], ['php', 'Flip selected back to PHP']].map(([to, label]) =>
    h('button', { type: 'button', disabled: true, dataset: { flip: to }, onclick: () => flip(to) }, label));

  function updateSelection() {
    count.textContent = selected.size ? `${selected.size} selected` : 'No rows selected.';
    flipButtons.forEach((button) => { button.disabled = selected.size === 0; });
  }

  async function flip(to) {
    const paths = [...selected];
    const shown = paths.length === 1 ? paths[0] : `${paths.length} URLs`;
    const reason = await app.confirm(`Plan ${shown} for ${to === 'swift' ? 'Swift' : 'PHP'}? Apache changes only when you apply an export.`,
      { action: to === 'swift' ? 'Flip to Swift' : 'Flip back to PHP' });
    if (reason == null) return;
    try {
      const result = await api(sitePath(site, '/flips'), { method: 'POST', body: { paths, to, reason: reason || undefined } });
      await renderURLs(main, { app, params, signal });
      app.notice(`${result.changed.length} planned for ${to}${result.unchanged.length ? `, ${result.unchanged.length} already were` : ''}. See Export for the directives.`, 'success');
    } catch (error) {
      app.error(error);
    }
  }

  const rows = page.items.map((url) => {
    const box = h('input', {
      type: 'checkbox', 'aria-label': `Select ${url.path}`,
      onchange: () => { if (box.checked) selected.add(url.path); else selected.delete(url.path); updateSelection(); },
    });
    return h('tr', { class: url.drift ? 'drift' : null },
      h('td', {}, url.owner === 'static' ? null : box),
      h('th', { scope: 'row', class: 'path' }, h('a', { href: `#/url/${Number(url.id)}` }, url.path)),
      h('td', {}, ownerTag(url.owner)),
      h('td', {}, url.plannedOwner ? ownerTag(url.plannedOwner) : '—'),
      h('td', {}, url.observedOwner ? [ownerTag(url.observedOwner), url.observedSource === 'guessed' ? h('small', { title: 'no marker header: guessed from the response' }, ' guessed') : null] : '—'),
      h('td', { class: 'num' }, url.lastStatus ?? (url.lastError ? h('span', { class: 'error', title: url.lastError }, 'error') : '—')),
      h('td', { class: 'num' }, url.lastLatencyMs == null ? '—' : `${Number(url.lastLatencyMs).toFixed(1)} ms`),
      h('td', {}, readiness(url)),
      h('td', {}, parityTag(url.parity)),
      h('td', {}, url.drift ? h('span', { class: 'tag bad' }, 'drift') : ''),
      h('td', { class: 'num', title: url.lastSeen ? `last request ${url.lastSeen}` : 'not in the imported logs' }, url.hits == null ? '—' : number(url.hits)),
    );
  });

  const from = page.items.length ? (after ? null : offset + 1) : 0;
  replace(main,
    h('h1', {}, `URLs: ${site}`),
    form,
    h('div', { class: 'toolbar' }, flipButtons, count),
    page.items.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'urls' },
        h('caption', {}, `${number(page.total)} URLs match${from ? `; showing ${number(from)}–${number(from + page.items.length - 1)}` : ''}`),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Select')),
          ['Path', 'Owner', 'Planned', 'Observed', 'Status', 'Latency', 'Ready to flip', 'Parity', 'Drift', 'Hits'].map((name) => h('th', { scope: 'col' }, name)))),
        h('tbody', {}, rows)))
      : h('p', { class: 'empty' }, after ? 'No more URLs after this page.' : page.total === 0 && !Object.values(filters).some(Boolean)
        ? 'No URLs yet. Run a crawl from the Overview to fill the inventory.'
        : 'No URL matches these filters. Clear a filter or search for less.'),
    pager(page, filters, limit, offset, after),
  );
  updateSelection();
}

function ownerTag(owner) {
  return h('span', { class: `tag ${owner}` }, owner);
}

function filterForm(app, filters) {
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter URLs' },
    field('Search', h('input', { name: 'q', type: 'search', value: filters.q, placeholder: 'part of a path' })),
    field('Path prefix', h('input', { name: 'prefix', value: filters.prefix, placeholder: '/blog/' })),
    field('Owner', select('owner', ownerOptions, filters.owner)),
    field('Planned', select('planned', ownerOptions, filters.planned)),
    field('Observed', select('observed', ownerOptions, filters.observed)),
    field('Drift', select('drift', yesNo, filters.drift)),
    field('Ready to flip', select('ready', yesNo, filters.ready)),
    field('Parity', select('parity', parityOptions, filters.parity)),
    field('Include file', select('include', yesNo, filters.include)),
    field('Sort by', select('sort', [['', 'path'], ['owner', 'owner'], ['status', 'status'], ['latency', 'latency'], ['hits', 'hits'], ['lastSeen', 'last request']], filters.sort)),
    field('Min. hits', h('input', { name: 'minHits', type: 'number', min: '0', value: filters.minHits, placeholder: 'any' })),
    field('Order', select('order', [['', 'ascending'], ['desc', 'descending']], filters.order)),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply'), h('a', { href: '#/urls', class: 'button' }, 'Clear')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (String(value).trim()) next.set(name, String(value).trim());
    app.go(`#/urls?${next}`);
  });
  form.addEventListener('change', (event) => {
    if (event.target.tagName === 'SELECT') form.requestSubmit();
  });
  return form;
}

function pager(page, filters, limit, offset, after) {
  const base = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) base.set(name, value);
  if (limit !== 100) base.set('limit', String(limit));
  const links = [];
  if (after || offset) links.push(h('a', { class: 'button', href: `#/urls?${base}` }, 'First page'));
  if (!after && offset) {
    const previous = new URLSearchParams(base);
    if (offset - limit > 0) previous.set('offset', String(offset - limit));
    links.push(h('a', { class: 'button', href: `#/urls?${previous}` }, 'Previous page'));
  }
  const next = new URLSearchParams(base);
  if (page.nextCursor) next.set('after', page.nextCursor);
  else if (!after && offset + page.items.length < page.total) next.set('offset', String(offset + limit));
  if (next.has('after') || next.has('offset')) links.push(h('a', { class: 'button', href: `#/urls?${next}`, rel: 'next' }, 'Next page'));
  return h('nav', { class: 'pager', 'aria-label': 'Pages' }, links);
}
