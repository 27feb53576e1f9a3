// One URL: what the inventory knows (file, size, mtime, hash), its probe history and its
// ownership events, with a flip button.
import { api, sitePath } from './api.js';
import { h, number, replace, when } from './dom.js';

export async function renderURLDetail(main, { app, args, signal }) {
  const id = Number(args[0]);
  if (!Number.isInteger(id) || id <= 0) {
    replace(main, h('h1', {}, 'No such URL'), h('p', {}, 'The address names no URL. ', h('a', { href: '#/urls' }, 'Back to the URL table')));
    return;
  }
  let detail;
  try {
    detail = await api(sitePath(app.site, `/urls/${id}`), { signal });
  } catch (error) {
    if (error.status !== 404) throw error;
    replace(main, h('h1', {}, 'No such URL'), h('p', {}, `URL ${id} is not in site ${app.site}. `, h('a', { href: '#/urls' }, 'Back to the URL table')));
    return;
  }
  const url = detail.url;
  const target = (url.plannedOwner ?? url.owner) === 'swift' ? 'php' : 'swift';
  const flipButton = url.owner === 'static' ? null : h('button', {
    type: 'button', class: 'primary',
    onclick: async () => {
      const reason = await app.confirm(`Plan ${url.path} for ${target === 'swift' ? 'Swift' : 'PHP'}?`, { action: 'Flip' });
      if (reason == null) return;
      try {
        await api(sitePath(app.site, '/flips'), { method: 'POST', body: { paths: [url.path], to: target, reason: reason || undefined } });
        await renderURLDetail(main, { app, args, signal });
        app.notice(`${url.path} is planned for ${target}.`, 'success');
      } catch (error) {
        app.error(error);
      }
    },
  }, target === 'swift' ? 'Flip to Swift' : 'Flip back to PHP');

  replace(main,
    h('p', {}, h('a', { href: '#/urls' }, '← URLs')),
    h('h1', { class: 'path' }, url.path),
    h('dl', { class: 'facts' },
      fact('Owner (inventory)', url.owner),
      fact('Planned owner', url.plannedOwner ?? '—'),
      fact('Expected owner', url.expectedOwner),
      fact('Observed owner', url.observedOwner ? `${url.observedOwner}${url.observedSource === 'guessed' ? ' (guessed)' : ''}` : 'not probed'),
      fact('Ready to flip', url.readyToFlip ? 'yes: the Swift app answers this path and parity is the same'
        : url.swiftAnswers ? (url.parity ? `no: the Swift app answers, but parity is ${url.parity}` : 'the Swift app answers; not compared yet (cutover parity)')
          : 'no'),
      fact('Parity', url.parity ?? 'not compared'),
      fact('Drift', url.drift ? 'yes' : 'no'),
      fact('File', url.filePath ?? '—'),
      fact('Size', url.size == null ? '—' : `${number(url.size)} bytes`),
      fact('Modified', when(url.mtime)),
      fact('SHA-256', url.contentHash ?? '—'),
      fact('Flags', url.flags?.length ? url.flags.join(', ') : '—'),
      url.redirectTo ? fact('Redirect to', url.redirectTo) : null,
      url.gone ? fact('Gone', 'the file is no longer in the docroot') : null,
    ),
    h('div', { class: 'actions' }, flipButton),
    h('section', { 'aria-labelledby': 'traffic-heading', dataset: { name: 'traffic' } },
      h('h2', { id: 'traffic-heading' }, 'Traffic'),
      detail.traffic ? h('dl', { class: 'facts' },
        fact('Requests', `${number(detail.traffic.hits)} (${number(detail.traffic.humanHits)} by people)`),
        fact('First and last seen', `${when(detail.traffic.firstSeen)} – ${when(detail.traffic.lastSeen)}`),
        detail.traffic.exactSince ? fact('Counted exactly since', `${when(detail.traffic.exactSince)}; before, the log's tail counted about ${number(detail.traffic.estimatedBefore ?? 0)} requests (an estimate)`) : null,
        fact('Statuses', `2xx ${number(detail.traffic.status2xx)}, 3xx ${number(detail.traffic.status3xx)}, 4xx ${number(detail.traffic.status4xx)}, 5xx ${number(detail.traffic.status5xx)}`),
        detail.traffic.attributed ? fact('Served by', `Swift ${number(detail.traffic.servedSwift)}, PHP ${number(detail.traffic.servedPHP)} of ${number(detail.traffic.attributed)} the log attributes`) : null,
      ) : h('p', { class: 'empty' }, 'No request to this URL in the imported access logs.'),
      detail.queryValues.length ? table(['Query key', 'Value (as PHP reads it)', 'Requests'], detail.queryValues.map((item) => [
        item.key, item.value ?? '(other values)', number(item.hits),
      ])) : null,
    ),
    paritySection(detail.parity ?? []),
    h('section', { 'aria-labelledby': 'probes-heading' },
      h('h2', { id: 'probes-heading' }, 'Probe history'),
      detail.probes.length ? table(['Run', 'Status', 'Observed', 'Expected', 'Latency', 'Type', 'Backend', 'Note'], detail.probes.map((probe) => [
        probe.runID, probe.status ?? '—', probe.observedOwner ?? '—', probe.expectedOwner ?? '—',
        `${Number(probe.latencyMs).toFixed(1)} ms`, probe.contentType ?? '—', probe.backendStatus ?? probe.backendError ?? '—',
        [probe.errorKind ? `${probe.errorKind}: ${probe.errorMessage ?? ''}` : '', probe.location ? `→ ${probe.location}` : '', probe.drift ? 'drift' : '']
          .filter(Boolean).join(' '),
      ])) : h('p', { class: 'empty' }, 'Never probed. Run a probe from the Overview.'),
    ),
    h('section', { 'aria-labelledby': 'events-heading' },
      h('h2', { id: 'events-heading' }, 'Ownership events'),
      detail.events.length ? table(['When', 'From', 'To', 'Reason', 'By'], detail.events.map((event) => [
        when(event.at), event.fromOwner ?? '—', event.toOwner, event.reason, event.actor,
      ])) : h('p', { class: 'empty' }, 'No ownership change recorded yet.'),
    ),
    detail.canary ? h('section', { 'aria-labelledby': 'canary-heading', dataset: { name: 'canary-steps' } },
      h('h2', { id: 'canary-heading' }, 'Canary steps'),
      h('p', { class: 'muted' }, 'Each weight of a canary this page is in and each analysis: Swift against PHP over the same window.'),
      table(['When', 'Canary', 'Weight', 'Decision', 'Swift 5xx', 'PHP 5xx', 'Reason', 'By'], detail.canary.map((step) => [
        when(step.at), step.canary, `${step.weight} %`, step.decision,
        step.figures ? `${step.figures.swiftErrors} of ${number(step.figures.swiftRequests)}` : '—',
        step.figures ? `${step.figures.phpErrors} of ${number(step.figures.phpRequests)}` : '—',
        step.reason, step.actor,
      ]))) : null,
  );
}

/**
 * The latest parity result side by side (field | PHP | Swift), its noise greyed and folded, the
 * rules that hid differences, and the earlier runs' verdicts. Every value is text (the DOM
 * helper sets textContent), whatever the pages sent.
 */
function paritySection(results) {
  const latest = results[0];
  const body = latest ? [
    h('p', {}, `Run ${latest.runId}${latest.at ? ` (${when(latest.at)})` : ''}: `, h('strong', { class: `tag parity-${latest.verdict === 'same' ? 'same' : 'other'}` }, latest.verdict),
      latest.reason ? ` — ${latest.reason}` : '', ` ${number(latest.fields)} fields compared.`),
    latest.differences.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'parity' },
      h('thead', {}, h('tr', {}, ['Field', 'PHP', 'Swift'].map((heading) => h('th', { scope: 'col' }, heading)))),
      h('tbody', {}, latest.differences.map((difference) => h('tr', {},
        h('th', { scope: 'row', class: 'path' }, difference.field),
        h('td', { class: difference.php == null ? 'absent' : null }, difference.php ?? '(none)'),
        h('td', { class: difference.swift == null ? 'absent' : null }, difference.swift ?? '(none)')))))) : null,
    latest.noise.length ? h('details', { class: 'noise' },
      h('summary', {}, `${latest.noise.length} noise fields (they changed between the two PHP answers, or on enough pages of the run)`),
      h('ul', {}, latest.noise.map((field) => h('li', { class: 'path' }, field)))) : null,
    Object.keys(latest.hidden ?? {}).length ? h('p', { class: 'muted' }, 'Hidden by rules: ',
      Object.entries(latest.hidden).map(([rule, count]) => `${rule} (${count})`).join(', ')) : null,
    results.length > 1 ? h('p', { class: 'muted' }, 'Earlier runs: ', results.slice(1).map((result) => `#${result.runId} ${result.verdict}`).join(', ')) : null,
  ] : [h('p', { class: 'empty' }, 'Not compared yet. Run parity from the Overview (the site\u2019s export must be live).')];
  return h('section', { 'aria-labelledby': 'parity-heading', dataset: { name: 'parity' } }, h('h2', { id: 'parity-heading' }, 'Parity'), ...body);
}

function fact(name, value) {
  return [h('dt', {}, name), h('dd', {}, value)];
}

function table(headings, rows) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, headings.map((heading) => h('th', { scope: 'col' }, heading)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell) => h('td', {}, String(cell))))))));
}
