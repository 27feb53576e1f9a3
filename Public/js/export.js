// Export: pick a form, see the owner changes it makes and the diff against the last stored
// export, then copy, download or store the directives.
import { api, sitePath } from './api.js';
import { field, h, replace, select, when } from './dom.js';

const forms = [
  ['vhost', 'vhost include (Include / a2enconf)'],
  ['htaccess', '.htaccess in the docroot'],
  ['rewritemap', 'RewriteMap txt: (flips without reload)'],
  ['dbm', 'RewriteMap dbm=gdbm: (hashed; cutover apply --form dbm)'],
  ['tree', 'marker files, one stat per request (cutover apply --form tree)'],
];
const fileNames = { vhost: 'cutover-vhost.conf', htaccess: 'htaccess.txt', rewritemap: 'cutover-rewritemap.conf', dbm: 'cutover-dbm.conf', tree: 'cutover-tree.conf' };
const usesMap = (form) => form === 'rewritemap' || form === 'dbm' || form === 'tree';

export async function renderExport(main, { app, params, signal }) {
  const site = app.site;
  const form = forms.some(([value]) => value === params.get('form')) ? params.get('form') : 'vhost';
  const map = params.get('map') ?? '';
  const chooser = h('form', { class: 'filters', 'aria-label': 'Export form' },
    field('Form', select('form', forms, form)),
    usesMap(form) ? field('Map file', h('input', { name: 'map', value: map, required: true, placeholder: '/etc/apache2/cutover/site.map' }), 'Absolute path Apache reads the map from') : null,
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show')),
  );
  chooser.addEventListener('submit', (event) => {
    event.preventDefault();
    app.go(`#/export?${new URLSearchParams([...new FormData(chooser)].filter(([, value]) => String(value).trim()))}`);
  });
  chooser.addEventListener('change', (event) => { if (event.target.tagName === 'SELECT') chooser.requestSubmit(); });

  const heading = h('h1', {}, `Export: ${site}`);
  if (usesMap(form) && !map) {
    replace(main, heading, chooser, h('p', { class: 'empty' }, 'The RewriteMap forms need the path of the map file Apache will read. Enter it above.'));
    return;
  }
  const query = new URLSearchParams({ form });
  if (map) query.set('map', map);
  const [text, diff, preview, history, htaccess] = await Promise.all([
    api(`${sitePath(site, '/export')}?${query}`, { signal }),
    api(`${sitePath(site, '/export/diff')}?${query}`, { signal }),
    api(sitePath(site, '/export/preview'), { signal }),
    api(sitePath(site, '/exports'), { signal }),
    api(sitePath(site, '/htaccess'), { signal }),
  ]);
  const ruled = htaccess.filter((file) => file.hasOwnRewriteRules || file.blocksFallback);
  const directives = String(text);
  const code = h('pre', { class: 'directives', tabindex: 0, 'aria-label': 'Apache directives' }, h('code', {}, directives));

  const copy = h('button', {
    type: 'button',
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(directives);
        app.notice('Directives copied to the clipboard.', 'success');
      } catch {
        getSelection().selectAllChildren(code);
        app.notice('Copying is blocked here: the directives are selected, press Ctrl+C.', 'info');
      }
    },
  }, 'Copy');
  const download = h('button', {
    type: 'button',
    onclick: () => {
      const link = h('a', { href: URL.createObjectURL(new Blob([directives], { type: 'text/plain' })), download: fileNames[form] });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    },
  }, 'Download');
  const store = h('button', {
    type: 'button', class: 'primary',
    onclick: async () => {
      try {
        const saved = await api(sitePath(site, '/exports'), { method: 'POST', body: map ? { form, map } : { form } });
        app.notice(`Stored as export #${saved.headers.get('X-Cutover-Export')}. Apply it with cutover export / apply, then probe.`, 'success');
        await renderExport(main, { app, params, signal });
      } catch (error) {
        app.error(error);
      }
    },
  }, 'Store this export');

  replace(main,
    heading,
    chooser,
    h('section', { 'aria-labelledby': 'preview-heading' },
      h('h2', { id: 'preview-heading' }, 'Owner changes'),
      preview.length
        ? h('div', { class: 'table-wrap' }, h('table', {},
          h('caption', {}, `${preview.length} URL(s) answered by someone else after this export (owners against the last probe; before the first export, what the fallback takes over from Apache)`),
          h('thead', {}, h('tr', {}, ['Path', 'From', 'To'].map((name) => h('th', { scope: 'col' }, name)))),
          h('tbody', {}, preview.map((change) => h('tr', {}, h('td', { class: 'path' }, change.path), h('td', {}, change.before ?? change.from), h('td', {}, change.to))))))
        : h('p', { class: 'empty' }, 'No owner changes: applying this export changes nothing that was observed. Flip pages in the URL table first.'),
    ),
    ruled.length ? h('section', { 'aria-labelledby': 'htaccess-heading' },
      h('h2', { id: 'htaccess-heading' }, 'The app\'s own .htaccess rules'),
      h('p', { class: 'muted' }, 'Their rules replace the vhost\'s below their folder. The vhost and RewriteMap forms place flips before them and the fallback after them; the .htaccess form marks where they go.'),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Folder', 'Rewrite rules', 'Fallback'].map((name) => h('th', { scope: 'col' }, name)))),
        h('tbody', {}, ruled.map((file) => h('tr', {},
          h('td', { class: 'path' }, file.directory),
          h('td', {}, String(file.ruleCount)),
          h('td', {}, file.frontController
            ? `front controller ${file.frontController} takes URLs without a file`
            : file.blocksFallback ? `blocked by ${file.blocksFallback}` : 'after the app\'s rules'))))))) : null,
    h('section', { 'aria-labelledby': 'diff-heading' },
      h('h2', { id: 'diff-heading' }, 'Against the last stored export'),
      h('p', { class: 'muted' }, diff.previousID
        ? `Compared with export #${diff.previousID} of ${when(diff.previousCreatedAt)}: ${diff.changed ? 'changed' : 'identical'}.`
        : 'No export of this form stored yet: every line is new.'),
      diff.changed ? h('pre', { class: 'diff' }, diff.diff.split('\n').map((line) =>
        h('span', { class: line.startsWith('-') ? 'removed' : line.startsWith('+') ? 'added' : null }, `${line}\n`))) : null,
    ),
    h('section', { 'aria-labelledby': 'directives-heading' },
      h('h2', { id: 'directives-heading' }, 'Directives'),
      h('div', { class: 'actions' }, copy, download, store),
      code,
    ),
    h('section', { 'aria-labelledby': 'history-heading' },
      h('h2', { id: 'history-heading' }, 'Stored exports'),
      history.length
        ? h('ul', { class: 'history' }, history.map((item) => h('li', {}, `#${item.id} ${item.form}, ${when(item.createdAt)}, sha256 ${item.sha256.slice(0, 12)}…`)))
        : h('p', { class: 'empty' }, 'None yet. “Store this export” keeps the text for rollback.'),
    ),
  );
}
