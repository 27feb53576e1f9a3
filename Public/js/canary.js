// Progressive flips on the overview: each canary's weight over time and both sides' p95 on one
// chart, each analysis with both sides' 5xx rate and latency, the decision and its reason, and
// pause, resume, promote and abort. All text from the server is set as text, never as markup.
import { api, sitePath } from './api.js';
import { h, number, replace, s, when } from './dom.js';

const width = 640;
const height = 200;
const pad = { left: 48, right: 56, top: 12, bottom: 28 };

/** A section that fills in after the page: the site's canaries, running first, at most five. */
export function canarySection(site, { app, signal, onChange }) {
  const area = h('section', { 'aria-labelledby': 'canaries-heading', dataset: { name: 'canaries' } },
    h('h2', { id: 'canaries-heading' }, 'Canaries'), h('p', { class: 'muted' }, 'Loading canaries\u2026'));
  (async () => {
    const list = await api(sitePath(site, '/canaries'), { signal });
    if (!list.length) {
      replace(area, h('h2', { id: 'canaries-heading' }, 'Canaries'),
        h('p', { class: 'muted' }, 'No canary yet: cutover canary start NAME PAGES\u2026 --auto sends a share of visitors to Swift and steps it by itself.'));
      return;
    }
    const shown = [...list.filter((c) => c.state === 'running'), ...list.filter((c) => c.state !== 'running')].slice(0, 5);
    const details = await Promise.all(shown.map((c) => api(sitePath(site, `/canaries/${encodeURIComponent(c.name)}`), { signal })));
    replace(area, h('h2', { id: 'canaries-heading' }, 'Canaries'), ...details.map((detail) => canaryCard(site, detail, { app, onChange })));
  })().catch((error) => {
    if (!signal.aborted) replace(area, h('h2', { id: 'canaries-heading' }, 'Canaries'), h('p', { class: 'error' }, error.message));
  });
  return area;
}

function canaryCard(site, detail, { app, onChange }) {
  const canary = detail.canary;
  const current = detail.window;
  const running = canary.state === 'running';
  async function change(body, question) {
    if (question && (await app.confirm(question, { action: 'Confirm', reason: false })) === null) return;
    try {
      const answer = await api(sitePath(site, `/canaries/${encodeURIComponent(canary.name)}`), { method: 'PUT', body });
      if (answer.publishError) app.notice(`Changed, but not put live: ${answer.publishError}`, 'error');
      else app.notice(`Canary ${canary.name}: ${answer.state}, ${answer.weight} % on Swift${answer.published ? ` (put live: ${answer.published})` : ''}.`, 'success');
      onChange();
    } catch (error) {
      app.error(error);
    }
  }
  const status = running
    ? `${canary.weight} % of visitors on Swift${canary.paused ? ', paused' : ''}${canary.automatic ? `, stepped every ${canary.policy.intervalSeconds} s` : ', stepped by hand'}`
    : `${canary.state}${canary.endedReason ? `: ${canary.endedReason}` : ''}`;
  return h('article', { class: `canary ${canary.state}`, dataset: { canary: canary.name } },
    h('h3', {}, `${canary.name} `, h('span', { class: 'muted' }, `(${canary.pages.length} URLs, steps ${canary.steps.join(' \u2192 ')} %)`)),
    h('p', { dataset: { name: 'status' } }, status),
    current ? h('p', { class: `verdict ${current.verdict}`, dataset: { name: 'window' } },
      h('strong', {}, current.verdict === 'waiting' ? 'Waiting for traffic' : `Now: ${current.verdict}`), ' \u2014 ', current.reasons.join('; ')) : null,
    current?.stale ? h('p', { class: 'error', dataset: { name: 'stale' } }, current.stale) : null,
    chart(detail),
    decisionsTable(detail.decisions),
    running ? h('div', { class: 'actions' },
      canary.paused
        ? h('button', { type: 'button', onclick: () => change({ paused: false }) }, 'Resume')
        : h('button', { type: 'button', onclick: () => change({ paused: true }) }, 'Pause'),
      h('button', { type: 'button', onclick: () => change({ end: 'promote' }, `Promote ${canary.name}: flip its pages to Swift for every visitor?`) }, 'Promote'),
      h('button', { type: 'button', class: 'danger', onclick: () => change({ end: 'abort' }, `Abort ${canary.name}: every visitor back on PHP?`) }, 'Abort'),
    ) : null,
  );
}

/** Weight over time (left axis, %) and each analysis's p95 of both sides (right axis, ms). */
function chart(detail) {
  const steps = detail.steps;
  if (!steps.length) return null;
  const analysed = detail.decisions.filter((d) => d.figures && (d.figures.swiftP95 != null || d.figures.phpP95 != null)).reverse();
  const now = Date.now();
  const first = new Date(steps[0].startedAt).getTime();
  const last = Math.max(first + 1, ...steps.map((step) => new Date(step.endedAt ?? (detail.canary.state === 'running' ? now : step.startedAt)).getTime()));
  const x = (time) => pad.left + ((time - first) / (last - first)) * (width - pad.left - pad.right);
  const y = (percent) => height - pad.bottom - (percent / 100) * (height - pad.top - pad.bottom);
  const topMs = Math.max(1, ...analysed.flatMap((d) => [d.figures.swiftP95 ?? 0, d.figures.phpP95 ?? 0]));
  const yMs = (ms) => height - pad.bottom - (ms / topMs) * (height - pad.top - pad.bottom);
  let path = '';
  steps.forEach((step, index) => {
    const start = new Date(step.startedAt).getTime();
    const end = new Date(step.endedAt ?? (detail.canary.state === 'running' ? now : step.startedAt)).getTime();
    path += `${index ? 'L' : 'M'}${x(start).toFixed(1)},${y(step.weight).toFixed(1)} L${x(end).toFixed(1)},${y(step.weight).toFixed(1)} `;
  });
  const latency = (key) => analysed.filter((d) => d.figures[key] != null)
    .map((d, index) => `${index ? 'L' : 'M'}${x(new Date(d.at).getTime()).toFixed(1)},${yMs(d.figures[key]).toFixed(1)}`).join(' ');
  const summary = `Canary ${detail.canary.name}: weight ${steps.map((step) => `${step.weight} %`).join(' \u2192 ')}; ${analysed.length} analyses with latency.`;
  const id = `canary-${detail.canary.name.replace(/[^A-Za-z0-9_-]/g, '_')}-title`;
  return h('figure', { class: 'chart' },
    s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': id },
      s('title', { id }, summary),
      [0, 50, 100].map((tick) => [
        s('line', { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: 'grid' }),
        s('text', { x: pad.left - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'axis' }, `${tick} %`),
      ]),
      s('text', { x: width - pad.right + 6, y: yMs(topMs) + 4, class: 'axis' }, `${topMs.toFixed(1)} ms`),
      s('path', { d: path, class: 'line weight' }),
      analysed.length ? s('path', { d: latency('phpP95'), class: 'line php' }) : null,
      analysed.length ? s('path', { d: latency('swiftP95'), class: 'line swift' }) : null,
      detail.decisions.filter((d) => d.decision === 'rollback').map((d) =>
        s('circle', { cx: x(new Date(d.at).getTime()), cy: y(0), r: 5, class: 'dot rollback' })),
    ),
    h('figcaption', {}, h('span', { class: 'key weight' }, 'weight'), ' ', h('span', { class: 'key php' }, 'PHP p95'), ' ',
      h('span', { class: 'key swift' }, 'Swift p95'), ' \u2014 ', summary),
  );
}

function decisionsTable(decisions) {
  if (!decisions.length) return null;
  const rate = (errors, requests) => (requests ? `${((errors / requests) * 100).toFixed(1)} % of ${number(requests)}` : '\u2014');
  const ms = (value) => (value == null ? '\u2014' : `${value} ms`);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'decisions' },
    h('caption', {}, 'Decisions, newest first: both sides over the same window'),
    h('thead', {}, h('tr', {}, ['When', 'Weight', 'Decision', 'Swift 5xx', 'PHP 5xx', 'Swift p95', 'PHP p95', 'Reason', 'By'].map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, decisions.slice(0, 12).map((d) => h('tr', { dataset: { decision: d.decision } },
      h('td', {}, when(d.at)), h('td', {}, `${d.weight} %`), h('td', {}, d.decision),
      h('td', {}, d.figures ? rate(d.figures.swiftErrors, d.figures.swiftRequests) : '\u2014'),
      h('td', {}, d.figures ? rate(d.figures.phpErrors, d.figures.phpRequests) : '\u2014'),
      h('td', {}, ms(d.figures?.swiftP95)), h('td', {}, ms(d.figures?.phpP95)),
      h('td', {}, d.reason), h('td', {}, d.actor)))),
  ));
}
