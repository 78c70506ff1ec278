// Deliveries: a webhook's log with filters and paging, one delivery with
// every attempt, retry and recover.
import { get, post, catalog } from './api.js';
import { h, clear, field, timeEl, ms, statusBadge, pageHead, pre, toast, errorBox, showErrors, clearErrors } from './ui.js';
import { ctx, go } from './app.js';

const PAGE = 50;

// webhookPicker is the select shared by the log and stats pages.
export async function webhookPicker(current, base) {
  const list = (await get('webhooks', { limit: 200 })).webhooks;
  const sel = h('select', { id: 'webhook-pick', name: 'webhook' },
    h('option', { value: '' }, list.length ? 'Choose a webhook…' : 'No webhooks yet'),
    list.map((w) => h('option', { value: String(w.id), selected: String(w.id) === String(current) }, `${w.name} (#${w.id})`)));
  sel.addEventListener('change', () => go(`${base}/${sel.value}`));
  return { el: field('Webhook', sel), list };
}

export async function deliveriesPage(id, query) {
  const picker = await webhookPicker(id, '#/deliveries');
  if (!id) {
    if (picker.list.length) { go(`#/deliveries/${picker.list[0].id}`); return []; }
    return [pageHead('Deliveries'), h('div', { class: 'card' }, picker.el)];
  }
  const cat = await catalog();
  const offset = Math.max(0, Number(query.get('offset')) || 0);
  const q = { status: query.get('status') || '', event: query.get('event') || '', start_date: query.get('start_date') || '', end_date: query.get('end_date') || '' };
  const data = await get(`webhooks/${id}/logs`, { ...q, limit: PAGE, offset });

  const status = h('select', { name: 'status' }, ['', 'success', 'failed', 'pending'].map((s) => h('option', { value: s, selected: s === q.status }, s || 'any')));
  const event = h('select', { name: 'event' }, h('option', { value: '' }, 'any'), cat.events.map((t) => h('option', { value: t.name, selected: t.name === q.event }, t.name)));
  const start = h('input', { type: 'date', name: 'start_date', value: q.start_date });
  const end = h('input', { type: 'date', name: 'end_date', value: q.end_date });
  const link = (o, extra) => {
    const p = new URLSearchParams({ ...q, ...extra });
    for (const [k, v] of [...p]) if (!v) p.delete(k);
    if (o) p.set('offset', o);
    const s = p.toString();
    return `#/deliveries/${id}${s ? '?' + s : ''}`;
  };
  const filters = h('form', { class: 'filters', 'aria-label': 'Filter deliveries', onsubmit: (e) => {
    e.preventDefault();
    go(link(0, { status: status.value, event: event.value, start_date: start.value, end_date: end.value }));
  } }, field('Status', status), field('Event', event), field('From', start), field('To', end),
  h('div', { class: 'field end' }, h('button', { type: 'submit', class: 'btn' }, 'Apply')));

  const s = data.summary || {};
  const rows = data.logs.map((l) => h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `#/deliveries/${id}/${l.id}` }, `#${l.id}`), l.test ? h('span', { class: 'badge badge-muted' }, 'test') : ''),
    h('td', {}, l.event),
    h('td', {}, statusBadge(l.status), l.next_retry ? h('div', { class: 'sub' }, 'next ', timeEl(l.next_retry)) : ''),
    h('td', { class: 'num' }, l.response_code ?? (l.error_type || '—')),
    h('td', { class: 'num' }, ms(l.response_time)),
    h('td', { class: 'num' }, String(l.retry_count)),
    h('td', {}, timeEl(l.timestamp))));
  const last = Math.min(offset + data.logs.length, data.total);
  return [
    pageHead('Deliveries', h('a', { class: 'btn', href: `#/stats/${id}` }, 'Stats'), h('a', { class: 'btn', href: `#/webhooks/${id}` }, 'Webhook')),
    h('div', { class: 'card' }, picker.el, filters),
    h('p', { class: 'summary' }, `${s.successful ?? 0} successful · ${s.failed ?? 0} failed · ${s.pending_retry ?? 0} waiting to retry`),
    h('div', { class: 'card' },
      data.logs.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'log-table' },
        h('caption', { class: 'sr-only' }, 'Delivery log, newest first'),
        h('thead', {}, h('tr', {}, ['Delivery', 'Event', 'Status', 'Code', 'Time', 'Retries', 'When'].map((c) => h('th', { scope: 'col', class: ['Code', 'Time', 'Retries'].includes(c) ? 'num' : '' }, c)))),
        h('tbody', {}, rows))) : h('p', { class: 'muted' }, 'No deliveries match.'),
      h('nav', { class: 'pager', 'aria-label': 'Pages' },
        h('span', {}, data.total ? `${offset + 1}–${last} of ${data.total}` : ''),
        offset > 0 && h('a', { class: 'btn', href: link(Math.max(0, offset - PAGE)), rel: 'prev' }, '← Newer'),
        last < data.total && h('a', { class: 'btn', href: link(offset + PAGE), rel: 'next' }, 'Older →'))),
    !ctx.readonly && recoverForm(id),
  ];
}

function recoverForm(id) {
  const since = h('input', { type: 'datetime-local', name: 'since', required: true });
  const summary = h('div', { class: 'alert alert-bad', role: 'alert', tabindex: '-1', hidden: true });
  const form = h('form', { class: 'card form', 'aria-labelledby': 'recover-h', onsubmit: async (e) => {
    e.preventDefault();
    clearErrors(form);
    summary.hidden = true;
    try {
      const t = since.value ? new Date(since.value).toISOString() : '';
      const r = await post(`webhooks/${id}/recover`, { since: t });
      toast(`${r.recovered} failed deliveries queued again.`, 'ok');
    } catch (err) { showErrors(form, err, summary); }
  } }, h('h2', { id: 'recover-h' }, 'Recover failures'),
  h('p', { class: 'muted' }, 'Queue again every delivery of this webhook that failed for good since a time.'),
  summary, h('div', { class: 'grid' }, field('Since', since, { name: 'since' }),
    h('div', { class: 'field end' }, h('button', { type: 'submit', class: 'btn', dataset: { write: '' } }, 'Recover'))));
  return form;
}

export async function deliveryPage(id, logId) {
  const l = (await get(`webhooks/${id}/logs/${logId}`)).log;
  const row = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
  const attempts = (l.attempts || []).map((a) => h('section', { class: 'card attempt' },
    h('h3', {}, `Attempt ${a.number}`, ' ', a.error_type ? h('span', { class: 'badge badge-bad' }, a.error_type) : a.response_code >= 200 && a.response_code < 300 ? h('span', { class: 'badge badge-ok' }, String(a.response_code)) : h('span', { class: 'badge badge-bad' }, String(a.response_code ?? '—'))),
    h('dl', { class: 'props' },
      row('Time', timeEl(a.timestamp)), row('Response code', a.response_code ?? '—'), row('Response time', ms(a.response_time)),
      a.error_message && row('Error', a.error_message)),
    h('details', {}, h('summary', {}, 'Request headers'), pre(a.request_headers, 'Request headers')),
    h('details', { open: !!a.response_body }, h('summary', {}, 'Response body'), pre(a.response_body || '', 'Response body'))));
  const result = h('div', { 'aria-live': 'polite' });
  return [
    pageHead(`Delivery #${l.id}`, h('a', { class: 'btn', href: `#/deliveries/${id}` }, '← Log'),
      !ctx.readonly && h('button', { type: 'button', class: 'btn btn-primary', id: 'retry', dataset: { write: '' }, onclick: async (e) => {
        e.target.disabled = true;
        try {
          await post(`webhooks/${id}/logs/${logId}/retry`);
          toast('Queued again; it is sent now.', 'ok');
          setTimeout(() => go(`#/deliveries/${id}/${logId}?t=${Date.now()}`), 800);
        } catch (err) { clear(result, errorBox(err)); e.target.disabled = false; }
      } }, 'Retry now')),
    result,
    h('div', { class: 'card' }, h('dl', { class: 'props' },
      row('Status', [statusBadge(l.status), l.test ? ' (test)' : '']), row('Event', l.event), row('Event id', h('code', {}, l.event_id)),
      row('When', timeEl(l.timestamp)), row('Response', `${l.response_code ?? l.error_type ?? '—'} in ${ms(l.response_time)}`),
      row('Retries', String(l.retry_count)), l.next_retry && row('Next retry', timeEl(l.next_retry)),
      l.error_message && row('Error', l.error_message))),
    h('details', { class: 'card', open: true }, h('summary', {}, 'Payload'), pre(l.payload ?? null, 'Payload')),
    h('h2', {}, `Attempts (${(l.attempts || []).length})`),
    attempts.length ? attempts : h('p', { class: 'muted' }, 'Not attempted yet.'),
  ];
}
