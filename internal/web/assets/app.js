// hookd's dashboard: sign-in, the shell and the router. Pages live in
// their own modules and render into <main>.
import { setToken, claims, whenUnauthorized, get } from './api.js';
import { h, clear, errorBox, uid } from './ui.js';
import { webhooksPage, webhookPage } from './webhooks.js';
import { deliveriesPage, deliveryPage } from './deliveries.js';
import { statsPage } from './stats.js';
import { livePage, stopLive } from './live.js';
import { catalogPage } from './catalog.js';
import { integrationsPage } from './integrations.js';

const TOKEN_KEY = 'hookd.token';

// tabStore is sessionStorage, or memory where a browser refuses storage to
// a page in a third-party frame.
const tabStore = (() => {
  try {
    sessionStorage.setItem('hookd.probe', '1');
    sessionStorage.removeItem('hookd.probe');
    return sessionStorage;
  } catch {
    const m = new Map();
    return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
  }
})();
const params = new URLSearchParams(location.search);

// ctx is what every page may know about the signed-in user and the frame.
export const ctx = {
  embed: params.get('embed') === '1',
  user: null, // {sub, tenant, scopes, exp}
  get readonly() { return !!this.user && this.user.scopes.includes('readonly'); },
  get admin() { return !!this.user && !this.readonly && this.user.scopes.includes('events:admin'); },
  get publisher() { return !!this.user && !this.readonly && this.user.scopes.includes('events:publish'); },
};

const main = document.getElementById('main');

function applyTheme() {
  const root = document.documentElement;
  let theme = params.get('theme');
  if (!ctx.embed && !theme) theme = localStorage.getItem('hookd.theme');
  if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
  const accent = params.get('accent');
  if (accent && /^#[0-9a-fA-F]{6}$/.test(accent)) {
    root.style.setProperty('--accent', accent);
    // Text on the accent: dark on light colours, white on dark ones.
    const n = parseInt(accent.slice(1), 16);
    const lum = (0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
    root.style.setProperty('--on-accent', lum > 0.6 ? '#111' : '#fff');
  }
  if (ctx.embed) root.classList.add('embed');
}

function readToken() {
  // The fragment never reaches the server; take the token out of the
  // address bar at once and keep it for this tab only.
  const m = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (m) {
    tabStore.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search + '#/webhooks');
  }
  return tabStore.getItem(TOKEN_KEY) || '';
}

function signIn(token) {
  const c = claims(token);
  if (!c || !c.sub) return 'That is not a hookd token (a JWT with a "sub" claim).';
  if (c.exp && c.exp * 1000 < Date.now()) return 'That token has expired. Ask for a new one.';
  tabStore.setItem(TOKEN_KEY, token);
  setToken(token);
  ctx.user = c;
  return '';
}

export function signOut(message, info) {
  stopLive();
  tabStore.removeItem(TOKEN_KEY);
  setToken('');
  ctx.user = null;
  showSignIn(message, info);
}

// showSignIn shows the sign-in form, with why (an error, or with info a
// plain note such as having signed out).
function showSignIn(message, info) {
  document.getElementById('top').hidden = true;
  document.title = 'Sign in · hookd';
  const id = uid('token');
  const err = h('p', { class: info ? 'note' : 'field-error', id: id + '-err', role: info ? 'status' : 'alert', hidden: !message }, message || '');
  const input = h('textarea', { id, name: 'token', rows: '4', required: true, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': id + '-err' });
  const form = h('form', { class: 'card signin', onsubmit: (e) => {
    e.preventDefault();
    const problem = signIn(input.value.trim());
    if (problem) {
      err.textContent = problem; err.hidden = false; err.className = 'field-error';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    history.replaceState(null, '', location.pathname + location.search + '#/webhooks');
    renderShell();
    route();
  } },
  h('h1', {}, ctx.embed ? 'Sign in' : 'Sign in to hookd'),
  h('p', { class: 'muted' }, 'Paste an API token (a JWT from ', h('code', {}, 'hookd token'), ' or your identity provider). It is kept in this browser tab only.'),
  h('div', { class: 'field' }, h('label', { for: id }, 'Token'), input, err),
  h('button', { class: 'btn btn-primary', type: 'submit' }, 'Sign in'));
  clear(main, form);
  input.focus();
}

function renderShell() {
  const top = document.getElementById('top');
  top.hidden = false;
  document.getElementById('brand').hidden = ctx.embed;
  const who = document.getElementById('who');
  const u = ctx.user;
  clear(who,
    h('span', { class: 'user', title: `tenant ${u.tenant}` }, u.sub, ctx.readonly ? h('span', { class: 'badge badge-muted' }, 'read-only') : ''),
    !ctx.embed && h('button', { type: 'button', class: 'btn btn-ghost', id: 'theme-toggle', 'aria-label': 'Switch between light and dark theme', onclick: toggleTheme }, '◐'),
    !ctx.embed && h('button', { type: 'button', class: 'btn btn-ghost', id: 'sign-out', onclick: () => signOut('You signed out.', true) }, 'Sign out'));
}

function toggleTheme() {
  const root = document.documentElement;
  const dark = root.dataset.theme ? root.dataset.theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  root.dataset.theme = dark ? 'light' : 'dark';
  localStorage.setItem('hookd.theme', root.dataset.theme);
}

// parseHash splits #/a/b?x=1 into ['a','b'] and its query.
export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [p, q] = raw.split('?');
  return { parts: p.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q || '') };
}

// go navigates to a hash route (keeping ?embed=… and the theme).
export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

const pages = {
  webhooks: (p, q) => (p[1] ? webhookPage(p[1], q) : webhooksPage(q)),
  deliveries: (p, q) => (p[2] ? deliveryPage(p[1], p[2]) : deliveriesPage(p[1], q)),
  stats: (p, q) => statsPage(p[1], q),
  live: (p, q) => livePage(q),
  events: (p, q) => catalogPage(p[1], q),
  integrations: (p, q) => integrationsPage(p[1], q),
};

const titles = { webhooks: 'Webhooks', deliveries: 'Deliveries', stats: 'Stats', live: 'Live', events: 'Event catalog', integrations: 'Integrations' };

let generation = 0;

export async function route(moveFocus) {
  if (!ctx.user) { showSignIn(); return; }
  const { parts, query } = parseHash();
  const name = pages[parts[0]] ? parts[0] : 'webhooks';
  if (name !== 'live') stopLive();
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${titles[name]} · hookd`;
  const mine = ++generation;
  const el = h('div', { class: 'page', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  clear(main, el);
  try {
    const content = await pages[name](parts, query);
    if (mine !== generation) return;
    clear(el, content);
  } catch (err) {
    if (mine !== generation || !ctx.user) return;
    clear(el, errorBox(err));
  }
  el.removeAttribute('aria-busy');
  // After a move to another page, start reading and tabbing at its content.
  if (moveFocus) main.focus({ preventScroll: true });
}

function start() {
  applyTheme();
  whenUnauthorized(() => {
    if (ctx.user) signOut('Your token has expired or is no longer accepted. Sign in again with a new one.');
  });
  const t = readToken();
  if (t) {
    const problem = signIn(t);
    if (problem) { signOut(problem); return; }
  }
  if (!ctx.user) { showSignIn(); return; }
  renderShell();
  if (!location.hash || location.hash === '#') history.replaceState(null, '', location.pathname + location.search + '#/webhooks');
  route();
  // The token is checked by the server too: a revoked or expired one
  // signs out on the first 401.
  get('webhooks', { limit: 1 }).catch(() => {});
}

window.addEventListener('hashchange', () => {
  if (/(?:^#|&)token=/.test(location.hash)) { start(); return; }
  if (ctx.user) { renderShell(); route(true); }
});
start();
