// Small DOM helpers: an element builder, formatting, dialogs, form errors.

// h builds an element: h('a', {href: '#'}, 'text', child…). Attributes
// starting with "on" become listeners; class, for and dataset work too.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let seq = 0;
export const uid = (p) => `${p || 'f'}-${++seq}`;

export function fmtTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  if (isNaN(d)) return s;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function timeEl(s) {
  return s ? h('time', { datetime: s, title: s }, fmtTime(s)) : '—';
}

export function rate(v) {
  return v === null || v === undefined ? '—' : `${Number(v).toFixed(1)} %`;
}

export function ms(v) {
  return v === null || v === undefined ? '—' : `${v} ms`;
}

export function badge(kind, text) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

export function statusBadge(status) {
  const kinds = { success: 'ok', failed: 'bad', pending: 'warn', active: 'ok', inactive: 'muted' };
  return badge(kinds[status] || 'muted', status);
}

export function pre(value, label) {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return h('pre', { class: 'code', tabindex: '0', 'aria-label': label || 'JSON' }, text === undefined ? '—' : text);
}

// toast announces a short message to everyone, screen readers included.
export function toast(msg, kind) {
  const el = document.getElementById('toast');
  el.className = `toast show ${kind || ''}`;
  el.textContent = msg;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => { el.className = 'toast'; }, 5000);
}

// confirmDialog asks a yes/no question in a modal <dialog>.
export function confirmDialog(title, text, yes) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const dlg = h('dialog', { 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      h('p', {}, text),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => dlg.close('no') }, 'Cancel'),
        h('button', { type: 'button', class: 'btn btn-danger', onclick: () => dlg.close('yes') }, yes || 'Confirm')));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'yes'); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

// infoDialog shows content once (a new secret) until closed.
export function infoDialog(title, ...content) {
  const titleId = uid('dlg');
  const dlg = h('dialog', { 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title), ...content,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-primary', onclick: () => dlg.close() }, 'Done')));
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

// field builds a labelled control with a place for its error. name is the
// API's field path (retry_config.max_retries) used to place errors.
export function field(label, control, opts = {}) {
  const id = control.id || (control.id = uid('f'));
  const errId = id + '-err';
  const hintId = opts.hint ? id + '-hint' : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' + (opts.wide ? ' wide' : ''), dataset: { field: opts.name || control.name || '' } },
    h('label', { for: id }, label),
    control,
    opts.hint && h('p', { class: 'hint', id: hintId }, opts.hint),
    h('p', { class: 'field-error', id: errId, hidden: true }));
}

// showErrors puts each of the API's details beside the field it names (the
// longest data-field that the path starts with); the rest go to summary.
export function showErrors(form, err, summary) {
  clearErrors(form);
  const fields = [...form.querySelectorAll('[data-field]')].filter((f) => f.dataset.field);
  const rest = [];
  for (const d of err.details || []) {
    const path = d.field || '';
    let best = null;
    for (const f of fields) {
      const name = f.dataset.field;
      if ((path === name || path.startsWith(name + '.') || path.startsWith(name + '[')) && (!best || name.length > best.dataset.field.length)) best = f;
    }
    if (!best) { rest.push(d); continue; }
    const p = best.querySelector('.field-error');
    p.hidden = false;
    p.textContent = p.textContent ? p.textContent + ' ' + d.message : d.message;
    const ctl = best.querySelector('input, select, textarea, fieldset');
    if (ctl) {
      ctl.setAttribute('aria-invalid', 'true');
      const by = (ctl.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
      if (!by.includes(p.id)) by.push(p.id);
      ctl.setAttribute('aria-describedby', by.join(' '));
    }
  }
  const msgs = rest.map((d) => (d.field ? `${d.field}: ` : '') + d.message);
  if (!err.details || !err.details.length) msgs.unshift(err.message);
  else if (msgs.length) msgs.unshift(err.message);
  if (summary) {
    clear(summary, msgs.length ? h('ul', {}, msgs.map((m) => h('li', {}, m))) : '');
    summary.hidden = !msgs.length;
  }
  const first = form.querySelector('[aria-invalid="true"]') || summary;
  if (first) first.focus();
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) { p.hidden = true; p.textContent = ''; }
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
}

// errorBox shows a failed load in place of a page.
export function errorBox(err) {
  return h('div', { class: 'alert alert-bad', role: 'alert' }, err.message || String(err));
}

// pageHead is a page's title row with optional actions.
export function pageHead(title, ...actions) {
  return h('div', { class: 'page-head' }, h('h1', {}, title), h('div', { class: 'actions' }, ...actions));
}

// json parses a textarea's JSON, or throws an error with details for name.
export function parseJSON(text, name) {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    const err = new Error('Please correct the highlighted fields.');
    err.details = [{ field: name, message: 'not valid JSON: ' + e.message }];
    throw err;
  }
}
