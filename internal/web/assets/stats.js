// Stats: success rate, volume and response times over time (uPlot, loaded
// only on this page), and the error breakdown.
import { get } from './api.js';
import { h, field, rate, ms, pageHead, errorBox } from './ui.js';
import { go } from './app.js';
import { webhookPicker } from './deliveries.js';
import { tile } from './webhooks.js';

let uplotReady = null;
function loadUPlot() {
  if (!uplotReady) {
    uplotReady = new Promise((resolve, reject) => {
      document.head.append(h('link', { rel: 'stylesheet', href: '/assets/vendor/uPlot.min.css' }));
      const s = h('script', { src: '/assets/vendor/uPlot.iife.min.js' });
      s.onload = () => resolve(window.uPlot);
      s.onerror = () => { uplotReady = null; reject(new Error('the chart library did not load')); };
      document.head.append(s);
    });
  }
  return uplotReady;
}

const RANGES = { hour: 2, day: 30, week: 7 * 12, month: 365 };

export async function statsPage(id, query) {
  const picker = await webhookPicker(id, '#/stats');
  if (!id) {
    if (picker.list.length) { go(`#/stats/${picker.list[0].id}`); return []; }
    return [pageHead('Stats'), h('div', { class: 'card' }, picker.el)];
  }
  const groupBy = RANGES[query.get('group_by')] ? query.get('group_by') : 'day';
  const start = new Date(Date.now() - RANGES[groupBy] * 86400e3).toISOString();
  const [data, uPlot] = await Promise.all([get(`webhooks/${id}/stats`, { group_by: groupBy, start_date: start }), loadUPlot().catch(() => null)]);
  const s = data.summary || {};
  const group = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Group by' },
    Object.keys(RANGES).map((g) => h('a', { class: 'btn' + (g === groupBy ? ' on' : ''), href: `#/stats/${id}?group_by=${g}`, 'aria-current': g === groupBy ? 'true' : false }, g)));
  const series = [...(data.time_series || [])].sort((a, b) => (a.date < b.date ? -1 : 1));
  const charts = h('div', { class: 'charts' });
  const el = [
    pageHead('Stats', h('a', { class: 'btn', href: `#/deliveries/${id}` }, 'Deliveries')),
    h('div', { class: 'card toolbar' }, picker.el, group),
    h('div', { class: 'tiles' }, tile('Deliveries', s.total_events), tile('Success rate', rate(s.success_rate)),
      tile('Failed', s.failed_deliveries), tile('Avg response', ms(s.avg_response_time)), tile('Retries', s.total_retries)),
    charts,
    h('div', { class: 'split even' },
      h('section', { class: 'card' }, h('h2', {}, 'Errors'), breakdown(data.error_breakdown || [])),
      h('section', { class: 'card' }, h('h2', {}, 'By event'), byEvent(data.events_by_type || []))),
  ];
  if (!series.length) {
    charts.append(h('p', { class: 'card muted' }, 'No deliveries in this period.'));
  } else if (!uPlot) {
    charts.append(errorBox(new Error('Charts cannot be shown: the chart library did not load.')));
  } else {
    // Charts need their width: draw once they are in the page.
    requestAnimationFrame(() => drawCharts(uPlot, charts, series, groupBy, start));
  }
  return el;
}

function toTime(label) {
  return Date.parse(label.length === 7 ? label + '-01T00:00:00Z' : label.length === 10 ? label + 'T00:00:00Z' : label) / 1000;
}

// buckets lists every bucket's start (unix seconds, UTC) from start to now,
// as the API labels them: empty buckets are left out of the answer, but a
// chart shows them as zero.
function buckets(groupBy, start) {
  const d = new Date(start);
  d.setUTCMinutes(0, 0, 0);
  if (groupBy !== 'hour') d.setUTCHours(0);
  if (groupBy === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  if (groupBy === 'month') d.setUTCDate(1);
  const out = [];
  for (let guard = 0; d.getTime() <= Date.now() && guard < 1000; guard++) {
    out.push(d.getTime() / 1000);
    if (groupBy === 'hour') d.setUTCHours(d.getUTCHours() + 1);
    else if (groupBy === 'day') d.setUTCDate(d.getUTCDate() + 1);
    else if (groupBy === 'week') d.setUTCDate(d.getUTCDate() + 7);
    else d.setUTCMonth(d.getUTCMonth() + 1);
  }
  return out;
}

function drawCharts(uPlot, box, series, groupBy, start) {
  const css = getComputedStyle(document.documentElement);
  const c = (n) => css.getPropertyValue(n).trim();
  const byTime = new Map(series.map((p) => [toTime(p.date), p]));
  const x = buckets(groupBy, start);
  for (const t of byTime.keys()) if (!x.includes(t)) x.push(t);
  x.sort((a, b) => a - b);
  const at = (f, empty) => x.map((t) => (byTime.has(t) ? f(byTime.get(t)) : empty));
  const axis = { stroke: c('--muted'), grid: { stroke: c('--line'), width: 1 }, ticks: { stroke: c('--line'), width: 1 } };
  const specs = [
    ['Volume', `Deliveries per ${groupBy}: ${series.map((p) => `${p.date}: ${p.successful} successful, ${p.failed} failed`).join('; ')}`, [
      { label: 'successful', stroke: c('--ok'), fill: c('--ok-soft'), data: at((p) => p.successful, 0) },
      { label: 'failed', stroke: c('--bad'), fill: c('--bad-soft'), data: at((p) => p.failed, 0) },
    ], {}],
    ['Success rate', `Success rate per ${groupBy}: ${series.map((p) => `${p.date}: ${p.successful + p.failed ? ((100 * p.successful) / (p.successful + p.failed)).toFixed(1) : '—'} %`).join('; ')}`, [
      { label: 'success %', stroke: c('--accent'), data: at((p) => (p.successful + p.failed ? Math.round((1000 * p.successful) / (p.successful + p.failed)) / 10 : null), null) },
    ], { scales: { y: { range: [0, 100] } }, values: (u, v) => v.map((n) => n + ' %') }],
    ['Response time', `Average response time per ${groupBy}: ${series.map((p) => `${p.date}: ${p.avg_response_time} ms`).join('; ')}`, [
      { label: 'avg ms', stroke: c('--warn'), data: at((p) => p.avg_response_time, null) },
    ], { values: (u, v) => v.map((n) => n + ' ms') }],
  ];
  const figs = specs.map(([title, desc]) => {
    const fig = h('figure', { class: 'card chart' }, h('figcaption', {}, h('h2', {}, title), h('p', { class: 'sr-only' }, desc)));
    box.append(fig);
    return fig;
  });
  // Measure once all three are laid out, and follow the page's width.
  specs.forEach(([, , ys, opts], i) => {
    const fig = figs[i];
    const width = () => Math.max(240, fig.clientWidth - 34);
    const plot = new uPlot({
      width: width(), height: 200,
      scales: { x: { time: true }, ...(opts.scales || {}) },
      axes: [{ ...axis }, { ...axis, size: 66, values: opts.values }],
      series: [{ label: groupBy }, ...ys.map((y) => ({ ...y, width: 2, spanGaps: true, points: { show: true, size: 5 } }))],
      legend: { show: true },
    }, [x, ...ys.map((y) => y.data)], fig);
    plot.root.setAttribute('aria-hidden', 'true');
    new ResizeObserver(() => {
      if (Math.abs(plot.width - width()) > 4) plot.setSize({ width: width(), height: 200 });
    }).observe(fig);
  });
}

function breakdown(rows) {
  if (!rows.length) return h('p', { class: 'muted' }, 'No delivery failed for good in this period.');
  const max = Math.max(...rows.map((r) => r.count));
  return h('table', {}, h('caption', { class: 'sr-only' }, 'Failures by error type'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Error'), h('th', { scope: 'col', class: 'num' }, 'Count'), h('th', { scope: 'col', class: 'num' }, 'Share'))),
    h('tbody', {}, rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, h('code', {}, r.error_type), bar((100 * r.count) / max)),
      h('td', { class: 'num' }, String(r.count)), h('td', { class: 'num' }, rate(r.percentage))))));
}

function byEvent(rows) {
  if (!rows.length) return h('p', { class: 'muted' }, 'No events in this period.');
  return h('table', {}, h('caption', { class: 'sr-only' }, 'Deliveries by event type'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Event'), h('th', { scope: 'col', class: 'num' }, 'Count'), h('th', { scope: 'col', class: 'num' }, 'Success'))),
    h('tbody', {}, rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, r.event), h('td', { class: 'num' }, String(r.count)), h('td', { class: 'num' }, rate(r.success_rate))))));
}

function bar(pct) {
  const el = h('div', { class: 'bar', 'aria-hidden': 'true' });
  el.style.width = `${Math.max(2, Math.round(pct))}%`; // CSSOM, allowed by the CSP
  return el;
}
