// Sites: the registered sites, and a form to add or edit one. Validation happens on the
// server; its messages are shown next to the form as they come.
import { api, sitePath } from './api.js';
import { field, h, replace } from './dom.js';

export async function renderSites(main, { app, params }) {
  await app.reloadSites();
  if (app.loadError) throw app.loadError;
  const editing = app.sites.find((site) => site.name === params.get('edit')) ?? null;
  // What a new site gets for the fields it leaves as they are: the server's defaults, named once there.
  const defaults = await api('/api/site-defaults');
  replace(main,
    h('h1', {}, 'Sites'),
    app.sites.length
      ? h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Name', 'Docroot', 'Public URL', 'Backend URL', 'Schedule', ''].map((name) => h('th', { scope: 'col' }, name)))),
        h('tbody', {}, app.sites.map((site) => h('tr', {},
          h('th', { scope: 'row' }, site.name), h('td', { class: 'path' }, site.docroot), h('td', {}, site.publicURL), h('td', {}, site.backendURL),
          h('td', {}, site.crawlEvery ?? 'off'),
          h('td', {}, h('a', { class: 'button', href: `#/sites?edit=${encodeURIComponent(site.name)}` }, `Edit ${site.name}`)),
        )))))
      : h('p', { class: 'empty' }, 'No site yet. Add the PHP site you are migrating below.'),
    siteForm(app, main, editing, defaults),
  );
}

function siteForm(app, main, site, defaults) {
  const input = (name, value, attributes = {}) => h('input', { name, value: value ?? '', ...attributes });
  const message = h('div', { class: 'form-message', role: 'alert' });
  const form = h('form', { class: 'site-form', novalidate: true },
    h('h2', {}, site ? `Edit ${site.name}` : 'Add a site'),
    site ? null : field('Name', input('name', '', { required: true, pattern: '[A-Za-z0-9._-]+', autocomplete: 'off' }), 'Letters, digits, dot, dash, underscore'),
    field('Docroot', input('docroot', site?.docroot, { required: true, placeholder: '/var/www/html' }), 'The PHP site\u2019s folder, as this server sees it (read-only is enough)'),
    field('Public URL', input('publicURL', site?.publicURL, { required: true, type: 'url', placeholder: 'http://127.0.0.1' }), 'Where Apache answers'),
    field('Backend URL', input('backendURL', site?.backendURL, { required: true, type: 'url', placeholder: 'http://127.0.0.1:8081' }), 'The Swift app, directly'),
    field('Crawl every', input('crawlEvery', site?.crawlEvery ?? defaults.crawlEvery), '90s, 15m, 2h, 1d or off: crawl then probe on this interval'),
    field('Owner header', input('ownerHeader', site?.ownerHeader ?? defaults.ownerHeader), 'Response header naming the owner'),
    field('Probe history kept', input('probeRetention', site?.probeRetention ?? defaults.probeRetention, { type: 'number', min: 1 }), 'Probe runs kept per site'),
    field('Directory index', input('directoryIndex', (site?.directoryIndex ?? defaults.directoryIndex).join(', ')), 'Comma-separated, as in DirectoryIndex'),
    field('PHP extensions', input('phpExtensions', (site?.phpExtensions ?? defaults.phpExtensions).join(', ')), 'Comma-separated, with the dot: .php'),
    field('Access logs', h('textarea', { name: 'accessLogs', rows: 2, placeholder: '/var/log/apache2/access.log*' }, (site?.accessLogs ?? []).join('\n')),
      'One absolute path or glob per line; imported before each scheduled crawl (rotated and .gz files included)'),
    field('Log format', input('accessLogFormat', site?.accessLogFormat ?? defaults.accessLogFormat), 'The LogFormat string from your Apache config, or common, combined, vhost_combined'),
    field('Page keys', h('textarea', { name: 'pageKeys', rows: 2, placeholder: '/doku.php=id' }, (site?.pageKeys ?? []).map((pageKey) => `${pageKey.script}=${pageKey.key}`).join('\n')),
      'One SCRIPT=KEY per line: the query key that names a script\u2019s pages (/index.php=page makes /index.php?page=about a page of its own)'),
    field('Front controller', h('select', { name: 'frontControllerMode' },
      h('option', { value: 'detected', selected: !site?.frontController && !site?.frontControllerDeclined },
        `the one the crawl detects${site?.detectedFrontController ? ` (${site.detectedFrontController}, not confirmed)` : ' (none found yet)'}`),
      h('option', { value: 'script', selected: Boolean(site?.frontController) }, 'this script (confirmed)'),
      h('option', { value: 'none', selected: Boolean(site?.frontControllerDeclined) }, 'none: URLs without a file go to Swift')),
      'Who answers URLs without a file: the PHP script the app\u2019s .htaccess sends them to (WordPress: /index.php). Those URLs stay PHP and move to Swift one by one.'),
    field('Front controller script', input('frontController', site?.frontController ?? site?.detectedFrontController ?? '', { placeholder: '/index.php' }),
      'Used when \u201cthis script\u201d is chosen above'),
    field('Directories without an index', h('select', { name: 'directoriesToSwift' },
      h('option', { value: 'auto', selected: site?.directoriesToSwift == null }, 'default: to Swift unless a front controller answers'),
      h('option', { value: 'yes', selected: site?.directoriesToSwift === true }, 'to Swift'),
      h('option', { value: 'no', selected: site?.directoriesToSwift === false }, 'stay Apache\u2019s (403, 404 or a listing)')),
      'What the export\u2019s fallback does with folders that have no index file'),
    field('Aliases', h('textarea', { name: 'aliases', rows: 2, placeholder: '/wp-content=/var/lib/wordpress/wp-content' },
      (site?.aliases ?? []).map((alias) => `${alias.urlPath}=${alias.directory}`).join('\n')),
      'The vhost\u2019s Alias directories, one URL=DIRECTORY per line: crawled at their URL; cutover install fills them in'),
    field('Nodes', h('textarea', { name: 'nodes', rows: 2, placeholder: 'http://10.0.0.2:80' }, (site?.nodes ?? []).join('\n')),
      'Several Apache nodes behind a load balancer: one URL per line that reaches a node alone; the probe asks each with the site URL\u2019s Host and names a node that missed a change'),
    field('Fleet database', input('fleetDatabaseURL', site?.fleet?.databaseURL ?? '', { placeholder: 'postgres://cutover@db.internal/cutover?sslmode=verify-full' }),
      'The PostgreSQL the nodes\u2019 agents (cutover node-agent) read the plan from; never a password here. Empty: no fleet'),
    field('Fleet password file', input('fleetPasswordFile', site?.fleet?.passwordFile ?? '', { placeholder: '/etc/cutover/pg-password' }),
      'A file only its owner may read (mode 600); its first line is the password'),
    field('Publish each flip', h('select', { name: 'fleetAutoPublish' },
      h('option', { value: 'yes', selected: site?.fleet?.autoPublish !== false }, 'yes: every flip and rollback reaches the nodes at once'),
      h('option', { value: 'no', selected: site?.fleet?.autoPublish === false }, 'no: publish by hand (cutover publish)')),
      'Only with a fleet database'),
    field('Parity ignores', h('textarea', { name: 'parityIgnore', rows: 2, placeholder: 'html/body/footer' }, (site?.parity?.ignore ?? []).join('\n')),
      'One field name or start per line that parity leaves out (header:vary, html/body/footer); each result says how many differences a rule hid'),
    field('Parity masks', h('textarea', { name: 'parityMasks', rows: 2, placeholder: '[0-9a-f]{32}' }, (site?.parity?.masks ?? []).join('\n')),
      'One regular expression per line: what it matches in both values is masked before they compare (a token inside a longer text)'),
    field('Parity in the schedule', h('select', { name: 'parityScheduled' },
      h('option', { value: 'no', selected: !site?.parity?.scheduled }, 'no'),
      h('option', { value: 'yes', selected: Boolean(site?.parity?.scheduled) }, 'yes: end each scheduled run with parity of every page')),
      'Parity needs the site\u2019s export to be live'),
    message,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, site ? 'Save changes' : 'Add site'),
      site ? h('a', { class: 'button', href: '#/sites' }, 'Cancel') : null,
      site ? h('button', { type: 'button', class: 'danger', onclick: () => remove(site) }, `Delete ${site.name}`) : null,
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const list = (text) => String(text).split(',').map((item) => item.trim()).filter(Boolean);
    const body = {
      ...(site ? {} : { name: data.name.trim() }),
      docroot: data.docroot.trim(), publicURL: data.publicURL.trim(), backendURL: data.backendURL.trim(),
      crawlEvery: data.crawlEvery.trim() || defaults.crawlEvery, ownerHeader: data.ownerHeader.trim(),
      probeRetention: Number(data.probeRetention), directoryIndex: list(data.directoryIndex), phpExtensions: list(data.phpExtensions),
      accessLogs: String(data.accessLogs).split('\n').map((line) => line.trim()).filter(Boolean),
      nodes: String(data.nodes).split('\n').map((line) => line.trim()).filter(Boolean),
      ...(String(data.fleetDatabaseURL).trim()
        ? { fleet: { databaseURL: String(data.fleetDatabaseURL).trim(), autoPublish: data.fleetAutoPublish === 'yes', ...(String(data.fleetPasswordFile).trim() ? { passwordFile: String(data.fleetPasswordFile).trim() } : {}) } }
        : site?.fleet ? { fleet: { databaseURL: '' } } : {}),
      accessLogFormat: data.accessLogFormat.trim() || defaults.accessLogFormat,
      directoriesToSwift: data.directoriesToSwift === 'auto' ? 'auto' : data.directoriesToSwift === 'yes',
      aliases: String(data.aliases).split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
        const at = line.indexOf('=');
        return { urlPath: at < 0 ? line : line.slice(0, at).trim(), directory: at < 0 ? '' : line.slice(at + 1).trim() };
      }),
      ...(data.frontControllerMode === 'script'
        ? { frontController: String(data.frontController).trim() }
        : { frontController: '', frontControllerDeclined: data.frontControllerMode === 'none' }),
      parity: {
        ignore: String(data.parityIgnore).split('\n').map((line) => line.trim()).filter(Boolean),
        masks: String(data.parityMasks).split('\n').map((line) => line.trim()).filter(Boolean),
        scheduled: data.parityScheduled === 'yes',
      },
      pageKeys: String(data.pageKeys).split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
        const at = line.lastIndexOf('=');
        return { script: at < 0 ? line : line.slice(0, at).trim(), key: at < 0 ? '' : line.slice(at + 1).trim() };
      }),
    };
    try {
      const saved = site
        ? await api(sitePath(site.name), { method: 'PUT', body })
        : await api('/api/sites', { method: 'POST', body });
      app.site = saved.name;
      localStorage.setItem('cutover.site', saved.name);
      await app.reloadSites();
      app.notice(site ? `Saved ${saved.name}.` : `Added ${saved.name}. Run a crawl from the Overview to fill its inventory.`, 'success');
      app.go(site ? '#/sites' : '#/overview');
    } catch (error) {
      replace(message, h('p', { class: 'error' }, error.message));
    }
  });

  async function remove(target) {
    const confirmed = await app.confirm(`Delete site ${target.name} and its whole history from Cutover? Apache and the docroot are not touched.`, { action: 'Delete', reason: false });
    if (confirmed == null) return;
    try {
      await api(sitePath(target.name), { method: 'DELETE' });
      app.site = null;
      await app.reloadSites();
      app.notice(`Deleted ${target.name}.`, 'success');
      app.go('#/sites');
    } catch (error) {
      replace(message, h('p', { class: 'error' }, error.message));
    }
  }
  return form;
}
