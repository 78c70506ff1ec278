// Webhooks: the list, and one webhook's form and actions.
import { get, post, put, del, catalog } from './api.js';
import { h, clear, field, showErrors, clearErrors, toast, confirmDialog, infoDialog, timeEl, rate, badge, pageHead, pre, parseJSON, uid, errorBox } from './ui.js';
import { ctx, go } from './app.js';

export async function webhooksPage(query) {
  const data = await get('webhooks', { limit: 200 });
  const s = data.summary || {};
  const search = h('input', { type: 'search', id: 'webhook-search', placeholder: 'Name, URL or event', value: query.get('q') || '' });
  const body = h('tbody');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const rows = data.webhooks.filter((w) => !q || w.name.toLowerCase().includes(q) || w.url.toLowerCase().includes(q) || w.events.some((e) => e.includes(q)));
    clear(body, rows.map((w) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `#/webhooks/${w.id}` }, w.name), h('div', { class: 'sub url' }, w.url)),
      h('td', {}, w.is_active ? badge('ok', 'active') : badge('muted', 'disabled'), !w.is_active && w.disabled_reason ? h('div', { class: 'sub' }, w.disabled_reason) : ''),
      h('td', { class: 'num' }, rate(w.success_rate)),
      h('td', { class: 'hide-sm' }, timeEl(w.last_triggered)),
      h('td', { class: 'links hide-sm' }, h('a', { href: `#/deliveries/${w.id}`, 'aria-label': `Log of ${w.name}` }, 'Log'), ' ', h('a', { href: `#/stats/${w.id}`, 'aria-label': `Stats of ${w.name}` }, 'Stats')))));
    count.textContent = q ? `${rows.length} of ${data.webhooks.length} webhooks match` : '';
  };
  search.addEventListener('input', render);
  render();
  const empty = !data.webhooks.length;
  return [
    pageHead('Webhooks', !ctx.readonly && h('a', { class: 'btn btn-primary', href: '#/webhooks/new', dataset: { write: '' } }, 'New webhook')),
    h('div', { class: 'tiles' },
      tile('Webhooks', s.total_webhooks ?? data.total), tile('Active', s.active_webhooks ?? '—'),
      tile('Deliveries', s.total_events ?? '—'), tile('Success rate', rate(s.avg_success_rate))),
    empty ? h('div', { class: 'card empty' }, h('p', {}, 'No webhooks yet.'), !ctx.readonly && h('p', {}, h('a', { href: '#/webhooks/new', dataset: { write: '' } }, 'Create the first one'), '.'))
      : h('div', { class: 'card' },
        h('div', { class: 'toolbar' }, field('Search', search), count),
        h('div', { class: 'table-wrap' }, h('table', {},
          h('caption', { class: 'sr-only' }, 'Your webhooks'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col', class: 'num' }, 'Success'), h('th', { scope: 'col', class: 'hide-sm' }, 'Last delivery'), h('th', { scope: 'col', class: 'hide-sm' }, h('span', { class: 'sr-only' }, 'Links')))),
          body))),
  ];
}

export function tile(label, value) {
  return h('div', { class: 'tile' }, h('div', { class: 'tile-label' }, label), h('div', { class: 'tile-value' }, String(value ?? '—')));
}

const SENSITIVE = /^(authorization|proxy-authorization|cookie)$|token|secret|key|password|auth/i;
const MASK = '********';

// AUTH_TYPES: how hookd can authenticate to an endpoint (docs/api.md §12),
// each with its fields: [name, label, kind, required]. A secret is a
// password input showing the mask of a stored value; a pem is a textarea.
const AUTH_TYPES = {
  basic: { label: 'Basic', fields: [['username', 'Username', 'text', true], ['password', 'Password', 'secret', true]] },
  bearer: { label: 'Bearer token', fields: [['token', 'Token', 'secret', true]] },
  oauth2: {
    label: 'OAuth 2.0 client credentials',
    fields: [['token_url', 'Token URL', 'url', true], ['client_id', 'Client ID', 'text', true], ['client_secret', 'Client secret', 'secret', true],
      ['scope', 'Scope (optional)', 'text', false], ['audience', 'Audience (optional)', 'text', false]],
  },
  mtls: {
    label: 'Mutual TLS',
    fields: [['client_certificate', 'Client certificate (PEM)', 'pem', true], ['client_key', 'Client key (PEM)', 'secretpem', true],
      ['ca_certificate', 'CA certificate (PEM, optional)', 'pem', false]],
  },
};

export function authLabel(auth) {
  return auth && AUTH_TYPES[auth.type] ? AUTH_TYPES[auth.type].label : 'none';
}

export async function webhookPage(id) {
  const cat = await catalog();
  const isNew = id === 'new';
  if (isNew && ctx.readonly) return errorBox(new Error('A read-only token cannot create webhooks.'));
  const w = isNew ? null : (await get(`webhooks/${id}`)).webhook;
  if (ctx.readonly) return readonlyView(w);
  const form = webhookForm(w, cat);
  return [
    pageHead(isNew ? 'New webhook' : w.name,
      !isNew && h('a', { class: 'btn', href: `#/deliveries/${w.id}` }, 'Deliveries'),
      !isNew && h('a', { class: 'btn', href: `#/stats/${w.id}` }, 'Stats')),
    !isNew && statusLine(w),
    h('div', { class: isNew ? '' : 'split' }, form, !isNew && actions(w, cat)),
  ];
}

function statusLine(w) {
  const d = w.delivery_stats || {};
  return h('div', {},
    h('div', { class: 'tiles' },
      tile('Status', w.is_active ? 'active' : 'disabled' + (w.disabled_reason ? `: ${w.disabled_reason}` : '')),
      tile('Success rate', rate(w.success_rate)), tile('Deliveries', d.total_deliveries ?? '—'),
      tile('Avg response', d.avg_response_time != null ? `${d.avg_response_time} ms` : '—'),
      tile('Authentication', authLabel(w.auth))),
    circuitLine(w.circuit));
}

// circuitLine says when the endpoint's circuit breaker holds its
// deliveries back (docs/api.md §6), as the server that answered sees it.
function circuitLine(c) {
  if (!c || c.state === 'closed') return '';
  const text = c.state === 'open'
    ? ['Circuit open until ', timeEl(c.open_until), ': the endpoint timed out or refused connections; its deliveries wait, then one probe goes.']
    : ['Circuit half open: a probe is under way; deliveries wait for its answer.'];
  return h('p', { class: 'alert alert-bad', role: 'status', id: 'circuit' }, ...text);
}

function readonlyView(w) {
  const row = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
  return [
    pageHead(w.name, h('a', { class: 'btn', href: `#/deliveries/${w.id}` }, 'Deliveries'), h('a', { class: 'btn', href: `#/stats/${w.id}` }, 'Stats')),
    statusLine(w),
    h('div', { class: 'card' }, h('dl', { class: 'props' },
      row('URL', h('span', { class: 'url' }, w.url)), row('Description', w.description || '—'),
      row('Events', w.events.join(', ')), row('Headers', pre(w.headers || {}, 'Headers')),
      row('Retries', `${w.retry_config.max_retries} retries, ${w.retry_config.retry_delay} ms × ${w.retry_config.backoff_multiplier}`),
      row('Filters', pre(w.filters || {}, 'Filters')), row('Authentication', authLabel(w.auth)), row('Rate limit', w.rate_limit ? `${w.rate_limit}/s` : 'none'),
      row('Max concurrency', w.max_concurrency ? String(w.max_concurrency) : 'fair share only'),
      row('Created', timeEl(w.created_at)), row('Last delivery', timeEl(w.last_triggered)))),
  ];
}

function webhookForm(w, cat) {
  const isNew = !w;
  const rc = (w && w.retry_config) || { max_retries: 3, retry_delay: 5000, backoff_multiplier: 2 };
  const name = h('input', { name: 'name', required: true, maxlength: '100', value: w ? w.name : '' });
  const url = h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://example.com/webhooks', value: w ? w.url : '' });
  const description = h('input', { name: 'description', value: w ? w.description : '' });
  const picker = eventPicker(cat, w ? w.events : []);
  const headers = headerRows(w ? w.headers || {} : {});
  const auth = authSection(w && w.auth);
  const secret = isNew && h('input', { name: 'secret', type: 'password', autocomplete: 'new-password', minlength: '16', maxlength: '128' });
  const maxRetries = h('input', { name: 'max_retries', type: 'number', min: '0', max: '25', value: String(rc.max_retries) });
  const retryDelay = h('input', { name: 'retry_delay', type: 'number', min: '100', max: '86400000', value: String(rc.retry_delay) });
  const backoff = h('input', { name: 'backoff_multiplier', type: 'number', min: '1', max: '10', step: 'any', value: String(rc.backoff_multiplier) });
  const filters = h('textarea', { name: 'filters', rows: '4', spellcheck: 'false', class: 'mono' });
  filters.value = w && w.filters && Object.keys(w.filters).length ? JSON.stringify(w.filters, null, 2) : '';
  const rateLimit = h('input', { name: 'rate_limit', type: 'number', min: '1', placeholder: 'no limit', value: w && w.rate_limit ? String(w.rate_limit) : '' });
  const maxConcurrency = h('input', { name: 'max_concurrency', type: 'number', min: '1', placeholder: 'fair share only', value: w && w.max_concurrency ? String(w.max_concurrency) : '' });
  const sensitive = h('input', { name: 'sensitive_headers', placeholder: 'X-Tenant-Ref, X-Partner-Id', value: w && w.sensitive_headers ? w.sensitive_headers.join(', ') : '' });
  const active = h('input', { name: 'is_active', type: 'checkbox', checked: w ? w.is_active : true, id: uid('active') });
  const summary = h('div', { class: 'alert alert-bad', role: 'alert', tabindex: '-1', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { write: '' } }, isNew ? 'Create webhook' : 'Save changes');

  const form = h('form', { class: 'card form', novalidate: true, 'aria-label': isNew ? 'New webhook' : 'Webhook settings', onsubmit: async (e) => {
    e.preventDefault();
    clearErrors(form);
    summary.hidden = true;
    let body;
    try {
      body = {
        name: name.value.trim(), url: url.value.trim(), description: description.value,
        events: picker.value(), headers: headers.value(), is_active: active.checked,
        retry_config: { max_retries: num(maxRetries.value), retry_delay: num(retryDelay.value), backoff_multiplier: num(backoff.value) },
        filters: parseJSON(filters.value, 'filters') || {},
        rate_limit: rateLimit.value === '' ? null : num(rateLimit.value),
        max_concurrency: maxConcurrency.value === '' ? null : num(maxConcurrency.value),
        sensitive_headers: sensitive.value.split(',').map((s) => s.trim()).filter(Boolean),
        auth: auth.value(),
      };
      if (secret && secret.value) body.secret = secret.value;
    } catch (err) {
      showErrors(form, err, summary);
      return;
    }
    save.disabled = true;
    try {
      const res = isNew ? await post('webhooks', body) : await put(`webhooks/${w.id}`, body);
      if (isNew) {
        infoDialog('Webhook created', h('p', {}, 'Its signing secret, shown once here (details show it too):'), h('p', {}, h('code', { class: 'secret' }, res.webhook.secret)));
        go(`#/webhooks/${res.webhook.id}`);
      } else {
        toast('Saved.', 'ok');
        go(`#/webhooks/${w.id}`);
      }
    } catch (err) {
      showErrors(form, err, summary);
    } finally {
      save.disabled = false;
    }
  } },
  summary,
  h('div', { class: 'grid' },
    field('Name', name, { name: 'name' }),
    field('URL', url, { name: 'url', hint: 'An http(s) endpoint, or a broker URL (amqp://, nats://, redis://, mqtt://).' }),
    field('Description', description, { name: 'description', wide: true })),
  h('div', { class: 'field wide', dataset: { field: 'events' } }, picker.el, h('p', { class: 'field-error', id: uid('events-err'), hidden: true })),
  h('div', { class: 'field wide', dataset: { field: 'headers' } }, headers.el, h('p', { class: 'field-error', id: uid('headers-err'), hidden: true })),
  field('More sensitive header names', sensitive, { name: 'sensitive_headers', wide: true, hint: 'Comma-separated; their values are masked like the built-in rule\'s.' }),
  auth.el,
  secret && field('Signing secret (optional)', secret, { name: 'secret', hint: 'Leave empty to have one generated (whsec_…); 16–128 characters.' }),
  h('fieldset', { class: 'grid' }, h('legend', {}, 'Retries'),
    field('Max retries', maxRetries, { name: 'retry_config.max_retries', hint: '0–25' }),
    field('First delay (ms)', retryDelay, { name: 'retry_config.retry_delay', hint: '100–86,400,000' }),
    field('Backoff multiplier', backoff, { name: 'retry_config.backoff_multiplier', hint: '1–10' })),
  field('Filters (JSON)', filters, { name: 'filters', wide: true, hint: 'e.g. {"order_status": ["confirmed"], "min_amount": 100} or {"amount": {"$gte": 100}}' }),
  h('div', { class: 'grid' },
    field('Rate limit (deliveries a second)', rateLimit, { name: 'rate_limit' }),
    field('Max concurrency (requests in flight)', maxConcurrency, { name: 'max_concurrency' }),
    h('div', { class: 'field check', dataset: { field: 'is_active' } }, active, h('label', { for: active.id }, 'Active'), h('p', { class: 'field-error', id: uid('act-err'), hidden: true }))),
  h('div', { class: 'actions' }, save, h('a', { class: 'btn', href: isNew ? '#/webhooks' : `#/webhooks/${w.id}` }, 'Cancel')));
  return form;
}

function num(v) {
  return v === '' ? undefined : Number(v);
}

// eventPicker lists the catalog by category with checkboxes; the chosen
// type's schema and example show beside it.
function eventPicker(cat, chosen) {
  const selected = new Set(chosen);
  const legendId = uid('events');
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Choose “Schema” beside a type to see its payload schema and example.'));
  const show = (t) => clear(preview, h('h3', {}, t.name), h('p', {}, t.description || ''), h('h4', {}, 'Schema'), pre(t.payload_schema, `${t.name} schema`), h('h4', {}, 'Example'), pre(t.example_payload, `${t.name} example`));
  const boxes = [];
  const box = (value, label, extra) => {
    const id = uid('ev');
    const cb = h('input', { type: 'checkbox', id, value, checked: selected.has(value) });
    boxes.push(cb);
    return h('li', {}, cb, h('label', { for: id }, label), extra || '');
  };
  const groups = {};
  for (const t of cat.events) (groups[t.category] ||= []).push(t);
  const el = h('fieldset', { class: 'picker', 'aria-describedby': legendId + '-hint' },
    h('legend', { id: legendId }, 'Events'),
    h('p', { class: 'hint', id: legendId + '-hint' }, 'Subscribe to types, a whole category (order.*), or everything (*).'),
    h('div', { class: 'picker-body' },
      h('div', { class: 'picker-list' },
        h('ul', { class: 'checks' }, box('*', 'Everything (*)')),
        Object.entries(groups).map(([c, types]) => {
          const prefixes = [...new Set(types.map((t) => t.name.split('.')[0]))];
          return h('details', { open: types.some((t) => selected.has(t.name)) || prefixes.some((p) => selected.has(p + '.*')) },
            h('summary', {}, `${c} (${types.length})`),
            h('ul', { class: 'checks' },
              prefixes.map((p) => box(p + '.*', `all ${p}.*`)),
              types.map((t) => box(t.name, t.name, h('button', { type: 'button', class: 'link', 'aria-label': `Schema of ${t.name}`, onclick: () => show(t) }, 'Schema')))));
        })),
      preview));
  const first = cat.events.find((t) => selected.has(t.name));
  if (first) show(first);
  return { el, value: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

// headerRows edits custom headers; values of sensitive names are masked.
function headerRows(headers) {
  const list = h('ul', { class: 'rows' });
  const add = (k, v) => {
    const key = h('input', { 'aria-label': 'Header name', placeholder: 'X-Header', value: k || '' });
    const val = h('input', { 'aria-label': 'Header value', value: v || '', type: SENSITIVE.test(k || '') || v === '********' ? 'password' : 'text' });
    key.addEventListener('input', () => { val.type = SENSITIVE.test(key.value) ? 'password' : 'text'; });
    const li = h('li', { class: 'row' }, key, val, h('button', { type: 'button', class: 'btn btn-ghost', 'aria-label': 'Remove header', onclick: () => li.remove() }, '✕'));
    list.append(li);
    return key;
  };
  for (const [k, v] of Object.entries(headers)) add(k, v);
  const el = h('fieldset', {}, h('legend', {}, 'Headers'),
    h('p', { class: 'hint' }, 'Sent with every delivery. Values of sensitive names (Authorization, Cookie, and names with token, secret, key, password, auth, signature, hmac, credential, session, jwt, bearer, csrf…) are masked; leave ******** to keep the stored value.'),
    list, h('button', { type: 'button', class: 'btn', onclick: () => add('', '').focus() }, 'Add header'));
  return {
    el,
    value: () => Object.fromEntries([...list.children].map((li) => [li.children[0].value.trim(), li.children[1].value]).filter(([k]) => k)),
  };
}

// authSection edits the endpoint authentication: a type, and that type's
// fields. Stored secrets show as the mask, which goes back unchanged (the
// API keeps the stored value) unless a new value is typed; none sends null.
function authSection(stored) {
  const type = h('select', { name: 'auth_type' }, h('option', { value: '' }, 'None'),
    Object.entries(AUTH_TYPES).map(([t, d]) => h('option', { value: t, selected: stored && stored.type === t }, d.label)));
  const groups = {};
  const inputs = {};
  for (const [t, d] of Object.entries(AUTH_TYPES)) {
    const mine = stored && stored.type === t ? stored : {};
    groups[t] = h('div', { class: 'auth-fields', hidden: true }, d.fields.map(([name, label, kind]) => {
      const v = mine[name] || '';
      const secret = kind === 'secret' || kind === 'secretpem';
      const ctl = kind === 'pem'
        ? h('textarea', { name, rows: '4', spellcheck: 'false', class: 'mono', placeholder: '-----BEGIN CERTIFICATE-----' })
        : h('input', { name, type: secret ? 'password' : kind === 'url' ? 'url' : 'text', autocomplete: secret ? 'new-password' : 'off', spellcheck: 'false' });
      ctl.value = v;
      if (secret) ctl.addEventListener('focus', () => { if (ctl.value === MASK) ctl.select(); });
      inputs[name] = ctl;
      const hint = kind === 'secretpem' ? 'Paste the whole PEM block; its line breaks are restored when sent.' : '';
      const kept = secret && v === MASK ? 'Stored; leave ******** to keep it.' : '';
      return field(label, ctl, { name: 'auth.' + name, wide: kind === 'pem' || kind === 'secretpem', hint: [kept, hint].filter(Boolean).join(' ') || undefined });
    }));
  }
  const show = () => { for (const [t, g] of Object.entries(groups)) g.hidden = t !== type.value; };
  type.addEventListener('change', show);
  show();
  const hintId = uid('auth-hint');
  const el = h('fieldset', { class: 'auth', 'aria-describedby': hintId }, h('legend', {}, 'Authentication'),
    h('p', { class: 'hint', id: hintId }, 'How hookd proves itself to the endpoint; the Authorization header it sets replaces one under Headers.'),
    h('div', { class: 'grid' }, field('Type', type, { name: 'auth' }), Object.values(groups)));
  const value = () => {
    const t = type.value;
    if (!t) return null;
    const a = { type: t };
    for (const [name, , kind, required] of AUTH_TYPES[t].fields) {
      let v = inputs[name].value;
      if (kind === 'text' || kind === 'url') v = v.trim();
      if (kind === 'secretpem') v = pemLines(v);
      if (v !== '' || required) a[name] = v;
    }
    return a;
  };
  return { el, value };
}

// pemLines gives back the line breaks that a password input strips from
// a pasted PEM block.
function pemLines(v) {
  if (v === MASK) return v;
  return v.replace(/\s*(-----BEGIN [^-]+-----)\s*/g, '$1\n').replace(/\s*(-----END [^-]+-----)\s*/g, '\n$1\n').trimStart();
}

// actions: switch on/off, test send, rotate secret, delete.
function actions(w, cat) {
  const result = h('div', { 'aria-live': 'polite' });
  const evSelect = h('select', { name: 'test-event' }, cat.events.filter((t) => w.events.some((p) => p === '*' || p === t.name || (p.endsWith('.*') && t.name.startsWith(p.slice(0, -1))))).map((t) => h('option', { value: t.name }, t.name)));
  const testForm = h('form', { class: 'stack', onsubmit: async (e) => {
    e.preventDefault();
    clear(result, h('p', { class: 'muted' }, 'Sending…'));
    try {
      const r = (await post(`webhooks/${w.id}/test`, evSelect.value ? { event: evSelect.value } : {})).test_result;
      clear(result, h('div', { class: `alert ${r.status === 'success' ? 'alert-ok' : 'alert-bad'}` },
        h('strong', {}, r.status === 'success' ? 'Delivered' : 'Failed'),
        ` · ${r.response_code ?? r.error_type ?? ''} · ${r.response_time ?? '—'} ms`,
        r.error_message ? h('div', {}, r.error_message) : '',
        r.response_body ? pre(r.response_body, 'Response body') : ''));
    } catch (err) { clear(result, errorBox(err)); }
  } }, field('Event', evSelect), h('button', { type: 'submit', class: 'btn', dataset: { write: '' } }, 'Send test'), result);

  return h('aside', { class: 'stack', 'aria-label': 'Actions' },
    h('section', { class: 'card' }, h('h2', {}, 'Delivery'),
      h('button', { type: 'button', class: 'btn', dataset: { write: '' }, onclick: async () => {
        try { await put(`webhooks/${w.id}`, { is_active: !w.is_active }); toast(w.is_active ? 'Switched off.' : 'Switched on.', 'ok'); go(`#/webhooks/${w.id}`); } catch (err) { toast(err.message, 'bad'); }
      } }, w.is_active ? 'Switch off' : 'Switch on')),
    h('section', { class: 'card' }, h('h2', {}, 'Send a test'), testForm),
    h('section', { class: 'card' }, h('h2', {}, 'Signing secret'),
      h('p', { class: 'muted' }, 'After rotating, deliveries carry signatures for the new and the old secret for 24 hours.'),
      h('button', { type: 'button', class: 'btn', dataset: { write: '' }, onclick: async () => {
        if (!(await confirmDialog('Rotate the secret?', 'A new signing secret replaces this one; the old one keeps signing for 24 hours.', 'Rotate'))) return;
        try {
          const r = await post(`webhooks/${w.id}/rotate-secret`);
          infoDialog('New signing secret', h('p', {}, 'Copy it now: it is shown once here.'), h('p', {}, h('code', { class: 'secret' }, r.secret || (r.webhook && r.webhook.secret) || JSON.stringify(r))));
        } catch (err) { toast(err.message, 'bad'); }
      } }, 'Rotate secret')),
    h('section', { class: 'card danger' }, h('h2', {}, 'Delete'),
      h('button', { type: 'button', class: 'btn btn-danger', dataset: { write: '' }, onclick: async () => {
        if (!(await confirmDialog(`Delete ${w.name}?`, 'The webhook goes, and its pending deliveries are cancelled. This cannot be undone.', 'Delete'))) return;
        try { await del(`webhooks/${w.id}`); toast('Deleted.', 'ok'); go('#/webhooks'); } catch (err) { toast(err.message, 'bad'); }
      } }, 'Delete webhook')));
}
