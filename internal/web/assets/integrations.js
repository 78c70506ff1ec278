// Integrations: configure, test, and each one's status with its recent
// activity.
import { get, post, del, catalog } from './api.js';
import { h, clear, field, pageHead, pre, showErrors, clearErrors, toast, confirmDialog, timeEl, rate, badge, errorBox } from './ui.js';
import { ctx, go } from './app.js';
import { tile } from './webhooks.js';

export async function integrationsPage(name) {
  const data = await get('integrations');
  if (name) {
    const info = data.integrations.find((i) => i.name === name);
    if (!info) throw new Error(`No integration named ${name}.`);
    return integrationPage(info);
  }
  return [
    pageHead('Integrations'),
    h('ul', { class: 'cards' }, data.integrations.map((i) => h('li', { class: 'card integration' },
      h('h2', {}, h('a', { href: `#/integrations/${i.name}` }, i.display_name)),
      h('p', { class: 'muted' }, i.description),
      h('p', {}, badge('muted', i.category), ' ', i.is_configured ? badge('ok', 'configured') : badge('muted', 'not configured'))))),
  ];
}

async function integrationPage(info) {
  const cat = await catalog();
  let status = null;
  if (info.is_configured) status = (await get(`integrations/${info.name}/status`)).integration;
  return [
    pageHead(info.display_name, h('a', { class: 'btn', href: '#/integrations' }, '← All')),
    h('p', { class: 'muted' }, info.description),
    status && statusView(status),
    h('div', { class: 'split' },
      ctx.readonly ? h('div', { class: 'card' }, h('h2', {}, 'Settings'), status ? pre(status.config, 'Settings') : h('p', { class: 'muted' }, 'Not configured.'))
        : configForm(info, status, cat),
      !ctx.readonly && info.is_configured && actions(info, cat)),
  ];
}

function statusView(s) {
  return [
    h('div', { class: 'tiles' }, tile('Status', s.status + (s.disabled_reason ? `: ${s.disabled_reason}` : '')), tile('Sent', s.sync_count),
      tile('Errors', s.error_count), tile('Success rate', rate(s.success_rate))),
    h('section', { class: 'card' }, h('h2', {}, 'Recent activity'), s.last_sync ? h('p', { class: 'sub' }, 'Last sent ', timeEl(s.last_sync)) : '',
      (s.recent_activity || []).length ? h('table', {}, h('caption', { class: 'sr-only' }, 'Recent activity'),
        h('thead', {}, h('tr', {}, ['When', 'Event', 'Status', 'Message'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, s.recent_activity.map((a) => h('tr', {}, h('td', {}, timeEl(a.timestamp)), h('td', {}, a.event, a.test ? ' (test)' : ''),
          h('td', {}, badge(a.status === 'success' ? 'ok' : a.status === 'failed' ? 'bad' : 'warn', a.status)), h('td', {}, a.message || '')))))
        : h('p', { class: 'muted' }, 'Nothing sent yet.')),
  ];
}

function configForm(info, status, cat) {
  const cfg = (status && status.config) || {};
  const inputs = info.config_fields.map((f) => [f, h('input', { name: f.name, type: f.type === 'url' ? 'url' : 'text', required: f.required, value: cfg[f.name] ?? '', autocomplete: 'off' })]);
  const notes = cfg.notifications || {};
  const boxes = cat.events.map((t) => {
    const cb = h('input', { type: 'checkbox', id: `n-${info.name}-${t.name}`, value: t.name, checked: !!notes[t.name] });
    return [cb, h('li', {}, cb, h('label', { for: cb.id }, t.name))];
  });
  const template = h('textarea', { name: 'message_template', rows: '3' });
  template.value = cfg.message_template || '';
  const summary = h('div', { class: 'alert alert-bad', role: 'alert', tabindex: '-1', hidden: true });
  const form = h('form', { class: 'card form', novalidate: true, 'aria-label': `${info.display_name} settings`, onsubmit: async (e) => {
    e.preventDefault();
    clearErrors(form);
    summary.hidden = true;
    const body = { notifications: Object.fromEntries(boxes.map(([cb]) => [cb.value, cb.checked]).filter(([, on]) => on)) };
    for (const [f, input] of inputs) if (input.value !== '') body[f.name] = input.value;
    if (template.value) body.message_template = template.value;
    try {
      const r = await post(`integrations/${info.name}/configure`, body);
      const generated = r.integration && r.integration.generated_api_key;
      toast(`${info.display_name} configured.`, 'ok');
      if (generated) toast(`API key (shown once): ${generated}`, 'ok');
      go(`#/integrations/${info.name}?t=${Date.now()}`);
    } catch (err) { showErrors(form, err, summary); }
  } }, h('h2', {}, 'Settings'), summary,
  inputs.map(([f, input]) => field(f.name + (f.required ? '' : ' (optional)'), input, { name: f.name, hint: f.description })),
  h('div', { class: 'field wide', dataset: { field: 'notifications' } },
    h('fieldset', {}, h('legend', {}, 'Send these events'), h('ul', { class: 'checks cols' }, boxes.map(([, li]) => li))),
    h('p', { class: 'field-error', id: `${info.name}-notes-err`, hidden: true })),
  field('Message template', template, { name: 'message_template', wide: true, hint: '{{path}} into the payload, e.g. New order {{order_id}} for {{amount}}' }),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', dataset: { write: '' } }, info.is_configured ? 'Save' : 'Configure')));
  return form;
}

function actions(info, cat) {
  const result = h('div', { 'aria-live': 'polite' });
  const ev = h('select', { name: 'event' }, cat.events.map((t) => h('option', { value: t.name }, t.name)));
  return h('aside', { class: 'stack', 'aria-label': 'Actions' },
    h('form', { class: 'card stack', onsubmit: async (e) => {
      e.preventDefault();
      clear(result, h('p', { class: 'muted' }, 'Sending…'));
      try {
        const r = (await post(`integrations/${info.name}/test`, { event: ev.value })).test_result;
        clear(result, h('div', { class: `alert ${r.status === 'success' ? 'alert-ok' : 'alert-bad'}` }, h('strong', {}, r.status), ' ', r.message || r.error_message || '', r.response_time != null ? ` (${r.response_time} ms)` : ''));
      } catch (err) { clear(result, errorBox(err)); }
    } }, h('h2', {}, 'Send a test'), field('Event', ev), h('button', { type: 'submit', class: 'btn', dataset: { write: '' } }, 'Send test'), result),
    h('section', { class: 'card danger' }, h('h2', {}, 'Remove'),
      h('button', { type: 'button', class: 'btn btn-danger', dataset: { write: '' }, onclick: async () => {
        if (!(await confirmDialog(`Remove ${info.display_name}?`, 'Its settings are deleted; nothing more is sent to it.', 'Remove'))) return;
        try { await del(`integrations/${info.name}`); toast('Removed.', 'ok'); go('#/integrations'); } catch (err) { toast(err.message, 'bad'); }
      } }, 'Remove integration')));
}
