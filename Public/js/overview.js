// Overview of one site: progress, counts, burndown, drift, fallback health, schedule, and
// buttons that start a crawl or a probe and follow it live.
import { api, followJob, sitePath } from './api.js';
import { canarySection } from './canary.js';
import { burndown } from './chart.js';
import { h, number, relative, replace, when } from './dom.js';
import { trafficSection } from './traffic.js';

export async function renderOverview(main, { app, signal }) {
  const site = app.site;
  const [stats, info, jobs, traffic, daily, exposures] = await Promise.all([
    api(sitePath(site, '/stats'), { signal }),
    api(sitePath(site), { signal }),
    api('/api/jobs', { signal }),
    api(sitePath(site, '/traffic/summary'), { signal }),
    api(sitePath(site, '/traffic/daily?days=30'), { signal }),
    api(sitePath(site, '/exposures'), { signal }),
  ]);
  const jobArea = h('div', { class: 'job', 'aria-live': 'polite' });
  // The fleet's database may be slow or black-holed: its view fills in after the page.
  const fleetArea = h('section', { 'aria-labelledby': 'fleet-heading', dataset: { name: 'fleet' } },
    h('h2', { id: 'fleet-heading' }, 'Fleet'), h('p', { class: 'muted' }, 'Asking the fleet\u2019s database\u2026'));
  if (info.fleet) {
    api(sitePath(site, '/fleet'), { signal })
      .then((fleet) => replace(fleetArea, ...fleetSection(fleet)))
      .catch((error) => { if (!signal.aborted) replace(fleetArea, h('h2', { id: 'fleet-heading' }, 'Fleet'), h('p', { class: 'error' }, error.message)); });
  }
  const kinds = info.accessLogs?.length ? ['logs', 'crawl', 'probe', 'parity'] : ['crawl', 'probe', 'parity'];
  const buttons = kinds.map((kind) =>
    h('button', { type: 'button', class: 'primary', dataset: { kind }, onclick: () => start(kind) }, `Run ${kind} now`));

  async function start(kind) {
    buttons.forEach((button) => { button.disabled = true; });
    try {
      const job = await api(sitePath(site, '/jobs'), { method: 'POST', body: { kind } });
      await follow(job);
    } catch (error) {
      if (error.status === 409) {
        const running = (await api('/api/jobs')).find((job) => job.site === site && job.state === 'running');
        app.notice(`A ${running?.kind ?? ''} job of this site is already running; following it.`, 'info');
        if (running) await follow(running);
      } else {
        app.error(error);
      }
    } finally {
      buttons.forEach((button) => { button.disabled = false; });
    }
  }

  async function follow(job) {
    const progress = h('progress', { max: 1, value: 0, 'aria-label': `${job.kind} progress` });
    const label = h('span', {}, `${job.kind} starting…`);
    replace(jobArea, h('p', {}, label), progress);
    const final = await followJob(job.id, (event, update) => {
      if (update.total) {
        progress.max = update.total;
        progress.value = update.done;
      } else {
        progress.removeAttribute('value');
      }
      label.textContent = `${update.kind}: ${number(update.done)}${update.total ? ` of ${number(update.total)}` : ''} ${unit(update.kind)}`;
    }, signal);
    if (!final) return;
    if (final.state === 'succeeded') {
      app.notice(`The ${final.kind} finished: ${number(final.done)} ${unit(final.kind)} in ${seconds(final)}.`, 'success');
    } else {
      app.notice(`The ${final.kind} ${final.state}${final.error ? `: ${final.error}` : ''}.`, 'error');
    }
    if (!signal.aborted) await renderOverview(main, { app, signal });
  }

  const counts = stats.counts;
  const fallback = stats.fallback ?? {};
  const healthy = fallback.healthy;
  const running = jobs.find((job) => job.site === site && job.state === 'running');
  replace(main,
    h('h1', {}, `Overview: ${site}`),
    exposureWarning(exposures),
    h('section', { class: 'cards', 'aria-label': 'Progress' },
      card('On Swift', `${stats.percentOnSwift}%`, 'of pages answered by Swift, as the last probe saw', 'percent'),
      card('PHP', number(counts.php), 'pages still on PHP', 'php', '#/urls?planned=php&include=false'),
      card('Swift', number(counts.swift), 'pages on Swift: planned, and a probe saw Swift answer', 'swift', '#/urls?planned=swift&observed=swift'),
      ...(counts.planned ? [card('Planned', number(counts.planned), 'pages planned for Swift that no probe has seen there yet: export, install, probe', 'php', '#/urls?planned=swift')] : []),
      card('Static', number(counts.static), 'files Apache serves', 'static', '#/urls?owner=static'),
      ...(counts.includes ? [card('Includes', number(counts.includes), '.php files that are code, not pages: not counted above', 'static', '#/urls?include=true')] : []),
      card('Drift', number(stats.driftCount), 'URLs not answered by their expected owner', stats.driftCount ? 'bad' : 'good', '#/urls?drift=true'),
      h('div', { class: `card fallback ${healthy === true ? 'good' : healthy === false ? 'bad' : 'unknown'}`, dataset: { name: 'fallback' } },
        h('h2', {}, stats.routingFrontController ? 'Front controller' : 'Fallback'),
        h('p', { class: 'figure' }, healthy === true ? 'healthy' : healthy === false ? 'broken' : 'not probed'),
        h('p', { class: 'muted' }, healthy == null
          ? (stats.routingFrontController ? `Run a probe to check that unknown URLs reach ${stats.routingFrontController}.` : 'Run a probe to check that unknown URLs reach the Swift app.')
          : `${fallback.detail ?? `HTTP ${fallback.status}`}, checked ${when(fallback.checkedAt)}`),
        stats.routePrefixes?.length
          ? h('p', { class: 'muted' }, `Prefix routes planned for Swift: ${stats.routePrefixes.map((prefix) => `${prefix}*`).join(', ')}`)
          : null,
        !stats.frontController && stats.routingFrontController
          ? h('p', { class: 'muted', dataset: { name: 'unconfirmed' } }, `${stats.routingFrontController}: detected, not confirmed. The docroot\u2019s .htaccess sends URLs without a file to it, so they count as its routes; confirm it (or decline it) under Sites.`)
          : null),
    ),
    info.fleet ? fleetArea : null,
    canarySection(site, { app, signal, onChange: () => { if (!signal.aborted) renderOverview(main, { app, signal }).catch(app.error); } }),
    nodesSection(stats.nodes ?? []),
    paritySection(stats.parity),
    h('section', { 'aria-labelledby': 'burndown-heading' }, h('h2', { id: 'burndown-heading' }, 'Burndown'), burndown(stats.series)),
    trafficSection(traffic, daily),
    h('section', { class: 'runs', 'aria-labelledby': 'runs-heading' },
      h('h2', { id: 'runs-heading' }, 'Runs'),
      h('dl', {},
        h('dt', {}, 'Last crawl'), h('dd', {}, runText(stats.lastCrawl, (run) => `${number(run.filesSeen)} files, +${run.urlsAdded} / ~${run.urlsChanged} / −${run.urlsRemoved} URLs`)),
        h('dt', {}, 'Last probe'), h('dd', {}, runText(stats.lastProbe, (run) => `${number(run.urlCount)} URLs, ${run.driftCount} drift, ${run.errorCount} errors, ${run.readyCount} answered by Swift${run.nodeDriftCount ? `, ${run.nodeDriftCount} node drift` : ''}`)),
        h('dt', {}, 'Last parity'), h('dd', { dataset: { name: 'last-parity' } }, runText(stats.lastParity, (run) => `${number(run.urlCount)} pages: ${run.sameCount} same, ${run.differentCount} different, ${run.noisyCount} noisy, ${run.errorCount} errors, ${run.notComparedCount} not compared`)),
        h('dt', {}, 'Schedule'), h('dd', {}, info.crawlEvery ? `crawl and probe every ${info.crawlEvery}` : 'not scheduled (set “crawl every” under Sites)'),
        h('dt', {}, 'Last scheduled run'), h('dd', {}, info.lastRun ? `${when(info.lastRun)} (${relative(info.lastRun)})` : '—'),
        h('dt', {}, 'Next scheduled run'), h('dd', {}, info.nextRun ? `${when(info.nextRun)} (${relative(info.nextRun)})` : '—'),
      ),
      h('div', { class: 'actions' }, buttons),
      jobArea,
    ),
  );
  performance.mark('cutover-overview-painted');
  if (running) follow(running).catch(app.error);
}

// Symbolic links that make a private place public: the link and its URL prefix, and the one
// Apache line that denies it (file names are shown as text, never as markup).
function exposureWarning(exposures) {
  if (!exposures.length) return null;
  const count = exposures.length;
  return h('section', { class: 'warning', role: 'alert', dataset: { name: 'exposures' } },
    h('h2', {}, `${count} symbolic link${count === 1 ? '' : 's'} make${count === 1 ? 's' : ''} a private place public`),
    h('p', {}, 'Apache follows these links under FollowSymLinks (the crawl never does). Deny each with the line shown, in the vhost or the docroot\u2019s .htaccess, or remove the link.'),
    h('ul', {}, exposures.slice(0, 10).map((exposure) =>
      h('li', { dataset: { url: exposure.url } },
        h('code', {}, exposure.url), ` (${exposure.filePath})`,
        exposure.deny ? h('pre', {}, exposure.deny) : null))),
    count > 10 ? h('p', { class: 'muted' }, `… and ${count - 10} more (cutover status --json)`) : null);
}

/** The fleet as its database sees it: the published plan, each node's agent (current or behind,
 * the time from publish to its flips written), and the fail-safe state when the database is away. */
function fleetSection(fleet) {
  const heading = h('h2', { id: 'fleet-heading' }, 'Fleet');
  if (!fleet.reachable) {
    return [heading,
      h('p', { class: 'warning', role: 'status', dataset: { name: 'fail-safe' } },
        `Fail-safe: the fleet\u2019s database cannot be reached (${fleet.error ?? 'no answer'}). Every node keeps serving the last plan it has; flips wait here until the next publish.`),
      fleet.database ? h('p', { class: 'muted' }, fleet.database) : null];
  }
  const behind = fleet.nodes.filter((node) => !node.current).length;
  return [heading,
    h('p', { class: 'muted' }, fleet.version == null
      ? 'Nothing published yet: publish the plan (cutover publish) for the node agents to follow.'
      : `Plan version ${fleet.version} (${number(fleet.pages ?? 0)} pages) published ${when(fleet.publishedAt)}${fleet.autoPublish ? '; each flip is published at once' : '; publish after each flip (automatic publish is off)'}. ${behind ? `${behind} node${behind === 1 ? ' is' : 's are'} behind.` : ''}`),
    fleet.nodes.length
      ? h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Node agent', 'Plan version', 'State', 'Flip latency', 'Last seen'].map((title) => h('th', { scope: 'col' }, title)))),
        h('tbody', {}, fleet.nodes.map((node) => h('tr', { dataset: { agent: node.name } },
          h('td', {}, h('code', {}, node.name)),
          h('td', {}, String(node.version)),
          h('td', { class: node.current ? 'good' : 'bad' }, node.current ? 'current' : 'behind'),
          h('td', {}, node.flipLatencyMs == null ? '\u2014' : `${number(node.flipLatencyMs)} ms`),
          h('td', {}, `${when(node.seenAt)} (${relative(node.seenAt)})`))))))
      : h('p', { class: 'muted' }, 'No node agent has reported yet (cutover node-agent on each node).')];
}

/** Each of the site's Apache nodes as the latest probe saw it, asked directly with the site's Host:
 * what it answers otherwise than the plan, and which export it serves (text only, never markup). */
function nodesSection(nodes) {
  if (!nodes.length) return null;
  const behind = nodes.filter((node) => node.driftedURLs || node.expectedExportID != null).length;
  const silent = nodes.filter((node) => node.urlCount > 0 && node.errorCount === node.urlCount).length;
  return h('section', { 'aria-labelledby': 'nodes-heading', dataset: { name: 'nodes' } },
    h('h2', { id: 'nodes-heading' }, 'Nodes'),
    h('p', { class: 'muted' }, behind
      ? `${behind} of ${nodes.length} nodes answer otherwise than the plan: they missed a change (an export not applied, a map not synced).`
      : `All ${nodes.length} nodes answer as the plan says, each asked directly with the site’s Host by the latest probe.`),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Node', 'State', 'Export', 'Drifted URLs', 'Without answer'].map((title) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, nodes.map((node) => {
        const drift = node.driftedURLs || node.expectedExportID != null;
        const silent = node.urlCount > 0 && node.errorCount === node.urlCount;
        return h('tr', { dataset: { node: node.label } },
          h('td', {}, h('code', {}, node.label)),
          h('td', { class: drift || silent ? 'bad' : 'good' }, drift ? 'node drift' : silent ? 'no answer' : 'agrees'),
          h('td', {}, node.exportID == null ? '—' : node.expectedExportID != null ? `${node.exportID} (others ${node.expectedExportID})` : String(node.exportID)),
          h('td', {}, number(node.driftedURLs)),
          h('td', {}, number(node.errorCount)));
      })))),
    nodes.some((node) => node.problems.length)
      ? h('ul', { dataset: { name: 'node-problems' } }, nodes.flatMap((node) => node.problems).slice(0, 20).map((line) => h('li', {}, line)))
      : null);
}

/** What a job counts as it goes. */
function unit(kind) {
  return kind === 'probe' ? 'URLs' : kind === 'parity' ? 'pages' : 'files';
}

/** Pages by their latest parity verdict, each a link to the URL table filtered on it. */
function paritySection(parity) {
  const counts = [['same', parity.same], ['different', parity.different], ['noisy', parity.noisy], ['error', parity.error], ['not-compared', parity.notCompared]];
  return h('section', { 'aria-labelledby': 'parity-heading', dataset: { name: 'parity' } },
    h('h2', { id: 'parity-heading' }, 'Parity'),
    h('p', { class: 'muted' }, 'How the Swift app answers each page compared with PHP, by the latest parity run. Ready to flip: the Swift app answers and parity is the same.'),
    h('div', { class: 'cards' },
      card('Ready to flip', number(parity.readyToFlip), 'Swift answers and parity is the same', 'swift', '#/urls?ready=true'),
      ...counts.map(([verdict, count]) => card(verdict === 'not-compared' ? 'Not compared' : verdict[0].toUpperCase() + verdict.slice(1), number(count),
        verdict === 'not-compared' ? 'pages no parity run compared yet' : `pages whose latest verdict is ${verdict}`, verdict === 'same' ? 'swift' : 'php', `#/urls?parity=${verdict}`))));
}

function card(title, figure, note, kind, link) {
  const body = [h('h2', {}, title), h('p', { class: 'figure' }, figure), h('p', { class: 'muted' }, note)];
  return link
    ? h('a', { class: `card ${kind}`, href: link, dataset: { name: title.toLowerCase() } }, body)
    : h('div', { class: `card ${kind}`, dataset: { name: title.toLowerCase() } }, body);
}

function runText(run, describe) {
  if (!run) return 'never';
  const state = run.status === 'succeeded' ? '' : ` — ${run.status}${run.error ? `: ${run.error}` : ''}`;
  return `${when(run.startedAt)} (${relative(run.startedAt)}): ${describe(run)}${state}`;
}

function seconds(job) {
  const ms = new Date(job.finishedAt) - new Date(job.startedAt);
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'a moment';
}
