// Event catalog: every type with its schema and example; tenant types can
// be registered and changed with scope events:admin.
import { catalog, post, put, del } from './api.js';
import { h, field, pageHead, pre, showErrors, clearErrors, toast, confirmDialog, parseJSON, badge, timeEl } from './ui.js';
import { ctx, go } from './app.js';

export async function catalogPage(name) {
  const cat = await catalog(true);
  if (name && ctx.admin) {
    const t = name === 'new' ? null : cat.events.find((e) => e.name === name);
    return [pageHead(t ? `Edit ${t.name}` : 'New event type'), typeForm(t)];
  }
  const groups = {};
  for (const t of cat.events) (groups[t.category] ||= []).push(t);
  const cats = Object.fromEntries((cat.categories || []).map((c) => [c.name, c.display_name]));
  return [
    pageHead('Event catalog', ctx.admin && h('a', { class: 'btn btn-primary', href: '#/events/new', dataset: { write: '' } }, 'New event type')),
    h('p', { class: 'muted' }, `${cat.events.length} event types. Webhooks subscribe to them by name, by category (order.*) or all (*).`),
    Object.entries(groups).map(([c, types]) => h('section', { class: 'card' },
      h('h2', {}, cats[c] || c, ' ', h('span', { class: 'muted' }, `(${types.length})`)),
      h('ul', { class: 'types' }, types.map((t) => typeItem(t, t === cat.events[0]))))),
  ];
}

// typeItem is one type, its schema and example folded (the first open).
function typeItem(t, open) {
  const deprecate = async () => {
    if (!(await confirmDialog(`Deprecate ${t.name}?`, 'Webhooks keep it, but it is marked deprecated.', 'Deprecate'))) return;
    try { await del(`webhooks/events/${t.name}`); toast('Deprecated.', 'ok'); go('#/events?t=' + Date.now()); } catch (err) { toast(err.message, 'bad'); }
  };
  return h('li', {}, h('details', { open },
    h('summary', {}, h('code', {}, t.name), ' ', h('span', { class: 'muted' }, t.description || ''), ' ',
      t.deprecated ? badge('warn', 'deprecated') : '', !t.builtin ? badge('muted', 'tenant') : '',
      t.webhooks_count ? badge('ok', `${t.webhooks_count} webhooks`) : ''),
    h('div', { class: 'type-body' },
      h('p', { class: 'sub' }, `version ${t.version}`, t.last_triggered ? [' · last published ', timeEl(t.last_triggered)] : ''),
      h('div', { class: 'split even' },
        h('div', {}, h('h3', {}, 'Schema'), pre(t.payload_schema, `${t.name} schema`)),
        h('div', {}, h('h3', {}, 'Example'), pre(t.example_payload ?? null, `${t.name} example`))),
      ctx.admin && !t.builtin && h('div', { class: 'actions' },
        h('a', { class: 'btn', href: `#/events/${encodeURIComponent(t.name)}`, dataset: { write: '' } }, 'Edit'),
        !t.deprecated && h('button', { type: 'button', class: 'btn btn-danger', dataset: { write: '' }, onclick: deprecate }, 'Deprecate')))));
}

function typeForm(t) {
  const name = h('input', { name: 'name', required: true, value: t ? t.name : '', readonly: !!t, placeholder: 'shipment.returned' });
  const description = h('input', { name: 'description', value: t ? t.description : '' });
  const category = h('input', { name: 'category', value: t ? t.category : '', placeholder: 'sales' });
  const version = h('input', { name: 'version', value: t ? t.version : '1.0' });
  const schema = h('textarea', { name: 'payload_schema', rows: '10', class: 'mono', spellcheck: 'false' });
  schema.value = JSON.stringify(t ? t.payload_schema : { type: 'object', properties: {}, required: [] }, null, 2);
  const example = h('textarea', { name: 'example_payload', rows: '6', class: 'mono', spellcheck: 'false' });
  example.value = t && t.example_payload ? JSON.stringify(t.example_payload, null, 2) : '{}';
  const summary = h('div', { class: 'alert alert-bad', role: 'alert', tabindex: '-1', hidden: true });
  const form = h('form', { class: 'card form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    clearErrors(form);
    summary.hidden = true;
    try {
      const body = { description: description.value, category: category.value.trim(), version: version.value.trim(),
        payload_schema: parseJSON(schema.value, 'payload_schema'), example_payload: parseJSON(example.value, 'example_payload') };
      if (t) await put(`webhooks/events/${t.name}`, body);
      else await post('webhooks/events', { name: name.value.trim(), ...body });
      toast('Saved.', 'ok');
      go('#/events');
    } catch (err) { showErrors(form, err, summary); }
  } }, summary,
  h('div', { class: 'grid' }, field('Name', name, { name: 'name' }), field('Category', category, { name: 'category' }), field('Version', version, { name: 'version' })),
  field('Description', description, { name: 'description', wide: true }),
  field('Payload schema (JSON Schema)', schema, { name: 'payload_schema', wide: true }),
  field('Example payload', example, { name: 'example_payload', wide: true }),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', dataset: { write: '' } }, 'Save'), h('a', { class: 'btn', href: '#/events' }, 'Cancel')));
  return form;
}
