// The burndown chart: pages on PHP, planned for Swift (dashed) and on Swift over time, drawn as SVG from the stats series.
import { h, s } from './dom.js';

const width = 640;
const height = 220;
const pad = { left: 48, right: 16, top: 12, bottom: 28 };

export function burndown(series) {
  if (!series?.length) {
    return h('p', { class: 'muted' }, 'No history yet: the chart fills in with every crawl and probe.');
  }
  const points = series.map((point) => ({ ...point, time: new Date(point.at).getTime() }));
  const first = points[0].time;
  const last = points[points.length - 1].time;
  const span = Math.max(last - first, 1);
  const top = Math.max(1, ...points.map((point) => point.php + point.swift + (point.planned ?? 0)));
  const x = (time) => pad.left + ((time - first) / span) * (width - pad.left - pad.right);
  const y = (value) => height - pad.bottom - (value / top) * (height - pad.top - pad.bottom);
  const line = (key) => points.map((point, index) => `${index ? 'L' : 'M'}${x(point.time).toFixed(1)},${y(point[key]).toFixed(1)}`).join(' ');
  const latest = points[points.length - 1];
  const planned = latest.planned ? `, ${latest.planned} planned for Swift and not yet seen there` : '';
  const summary = `Burndown: ${latest.php} pages on PHP and ${latest.swift} on Swift${planned} at the latest of ${points.length} runs.`;
  const ticks = [0, Math.round(top / 2), top];
  return h('figure', { class: 'chart' },
    s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'burndown-title' },
      s('title', { id: 'burndown-title' }, summary),
      ticks.map((tick) => [
        s('line', { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: 'grid' }),
        s('text', { x: pad.left - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'axis' }, String(tick)),
      ]),
      s('text', { x: pad.left, y: height - 8, class: 'axis' }, new Date(first).toLocaleDateString()),
      s('text', { x: width - pad.right, y: height - 8, 'text-anchor': 'end', class: 'axis' }, new Date(last).toLocaleString()),
      s('path', { d: line('php'), class: 'line php' }),
      s('path', { d: line('swift'), class: 'line swift' }),
      points.some((point) => point.planned) ? s('path', { d: line('planned'), class: 'line planned' }) : null,
      span <= 1 ? [
        s('circle', { cx: x(latest.time), cy: y(latest.php), r: 4, class: 'dot php' }),
        s('circle', { cx: x(latest.time), cy: y(latest.swift), r: 4, class: 'dot swift' }),
      ] : null,
    ),
    h('figcaption', {}, h('span', { class: 'key php' }, 'PHP'), ' ', h('span', { class: 'key swift' }, 'Swift'),
      points.some((point) => point.planned) ? [' ', h('span', { class: 'key swift' }, 'planned (dashed)')] : null, ' — ', summary),
  );
}
