// Traffic from the imported access logs: Swift's share of page requests, a daily chart, what
// to port next, orphans and noise. Every value is set as text, never as HTML.
import { h, number, s } from './dom.js';

const width = 640;
const height = 160;
const pad = { left: 48, right: 16, top: 10, bottom: 24 };

export function trafficSection(summary, daily) {
  const heading = h('h2', { id: 'traffic-heading' }, 'Traffic');
  if (!summary.logsFrom) {
    return h('section', { class: 'traffic', 'aria-labelledby': 'traffic-heading' }, heading,
      h('p', { class: 'muted' }, 'No access log imported yet: set “Access logs” under Sites, or run cutover logs import.'));
  }
  const share = (value) => (value.percentOnSwift == null ? '—' : `${value.percentOnSwift.toFixed(1)}%`);
  const basis = (value) => `${number(value.pageHits)} page requests; attributed by the log ${number(value.byLog)}, by probes ${number(value.byProbe)}, by the inventory ${number(value.byPlan)}. People only: ${value.humanPercentOnSwift == null ? '—' : `${value.humanPercentOnSwift.toFixed(1)}%`} of ${number(value.humanPageHits)}`;
  return h('section', { class: 'traffic', 'aria-labelledby': 'traffic-heading' }, heading,
    h('p', { class: 'muted' }, `Logs cover ${summary.logsFrom} to ${summary.logsTo}.`),
    h('div', { class: 'cards' },
      h('div', { class: 'card percent', dataset: { name: 'traffic-7' } },
        h('h3', {}, 'Requests on Swift, 7 days'), h('p', { class: 'figure' }, share(summary.last7)), h('p', { class: 'muted' }, basis(summary.last7))),
      h('div', { class: 'card percent', dataset: { name: 'traffic-30' } },
        h('h3', {}, 'Requests on Swift, 30 days'), h('p', { class: 'figure' }, share(summary.last30)), h('p', { class: 'muted' }, basis(summary.last30))),
    ),
    dailyChart(daily),
    h('div', { class: 'lists' },
      list('Port next', 'PHP pages by human requests (30 days)', summary.portNext.map((page) => `${page.path} — ${number(page.humanHits)}`), 'port-next'),
      list(`Orphans: ${number(summary.orphanCount)}`, `PHP pages with no request in ${summary.orphanDays} days: delete rather than port?`, summary.orphans, 'orphans'),
      list(`Includes: ${number(summary.includeCount)}`, '.php files no person requested that answer an error or nothing: code, not pages; left out of every page figure',
        summary.includes, 'includes'),
      list('Page keys?', 'Query keys whose values split a script\u2019s requests into pages: declare one under Sites to make each value a page',
        summary.pageKeySuggestions.map((suggestion) => `${suggestion.script}=${suggestion.key} — ${number(suggestion.distinctValues)} values in ${number(suggestion.keyHits)} of ${number(suggestion.scriptHits)} requests (${suggestion.topValues.map((value) => value.value).join(', ')})`),
        'page-keys'),
      list(`Noise: ${number(summary.noiseCount)}`, `Requested URLs without a file that only got 4xx (${number(summary.noiseHits)} requests)`,
        summary.noise.map((page) => `${page.path} — ${number(page.hits)}`), 'noise'),
      tailList(summary.tail),
    ),
  );
}

// The log's tail: paths without exact rows, counted in one bounded summary per day. Their
// counts are estimates (≈), within the stated bound; the total is exact.
function tailList(tail) {
  if (!tail.requests) return null;
  const note = `${number(tail.requests)} requests in 30 days to paths without exact rows (${number(tail.clientErrorRequests)} answered 4xx). Counts are estimates, each within ±${number(tail.bound)}.`;
  return list('Rarely requested (estimated)', note,
    tail.paths.map((path) => `${path.path} — ≈${number(path.hits)} (certainly ${number(path.certain)}, ${number(path.days)} ${path.days === 1 ? 'day' : 'days'})`), 'tail');
}

function list(title, note, items, name) {
  return h('div', { class: 'traffic-list', dataset: { name } },
    h('h3', {}, title), h('p', { class: 'muted' }, note),
    items.length ? h('ol', {}, items.map((item) => h('li', {}, item))) : h('p', { class: 'muted' }, 'none'));
}

function dailyChart(days) {
  if (!days.length) return h('p', { class: 'muted' }, 'No requests in the last 30 days.');
  const top = Math.max(1, ...days.map((day) => day.hits));
  const slot = (width - pad.left - pad.right) / days.length;
  const y = (value) => height - pad.bottom - (value / top) * (height - pad.top - pad.bottom);
  const swiftOf = (day) => (day.attributed > 0 ? day.servedSwift : 0);
  const summary = `Requests per day, ${days[0].day} to ${days[days.length - 1].day}; the Swift part is shown where the log says who answered.`;
  return h('figure', { class: 'chart' },
    s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'traffic-title' },
      s('title', { id: 'traffic-title' }, summary),
      s('text', { x: pad.left - 6, y: y(top) + 4, 'text-anchor': 'end', class: 'axis' }, String(top)),
      s('text', { x: pad.left - 6, y: y(0) + 4, 'text-anchor': 'end', class: 'axis' }, '0'),
      days.map((day, index) => [
        s('rect', { x: pad.left + index * slot + 1, y: y(day.hits), width: Math.max(1, slot - 2), height: y(0) - y(day.hits), class: 'bar php' }),
        s('rect', { x: pad.left + index * slot + 1, y: y(swiftOf(day)), width: Math.max(1, slot - 2), height: y(0) - y(swiftOf(day)), class: 'bar swift' }),
      ]),
      s('text', { x: pad.left, y: height - 6, class: 'axis' }, days[0].day),
      s('text', { x: width - pad.right, y: height - 6, 'text-anchor': 'end', class: 'axis' }, days[days.length - 1].day),
    ),
    h('figcaption', {}, h('span', { class: 'key php' }, 'all requests'), ' ', h('span', { class: 'key swift' }, 'served by Swift'), ' — ', summary),
  );
}
