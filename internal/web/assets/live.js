// Live: the tenant's events as they are published (Server-Sent Events with
// ?access_token=), resuming after a reconnect from the last event seen.
import { getToken, catalog, get } from './api.js';
import { h, field, pageHead, pre, timeEl } from './ui.js';
import { go } from './app.js';

let source = null;
let retryTimer = null;
let lastId = '';

export function stopLive() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
}

export async function livePage(query) {
  stopLive();
  lastId = '';
  const cat = await catalog();
  const filter = query.get('events') || '';
  const input = h('input', { name: 'events', id: 'live-filter', value: filter, placeholder: 'order.*, payment.received', list: 'live-types' });
  const state = h('span', { class: 'badge badge-muted', id: 'live-state', role: 'status' }, 'connecting');
  const list = h('ol', { class: 'feed', id: 'live-feed', 'aria-label': 'Events, newest first', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const empty = h('p', { class: 'muted', id: 'live-empty' }, 'Waiting for events… Publish one to see it here.');
  const names = cat.events.map((t) => t.name);

  const connect = () => {
    const q = new URLSearchParams({ format: 'sse', access_token: getToken() });
    if (filter) q.set('events', filter);
    if (lastId) q.set('last_event_id', lastId);
    const es = new EventSource('/api/events/stream/?' + q);
    source = es;
    es.onopen = () => { state.textContent = 'live'; state.className = 'badge badge-ok'; };
    const onEvent = (e) => {
      if (e.lastEventId) lastId = e.lastEventId;
      let data = e.data;
      try { data = JSON.parse(e.data); } catch { /* shown as text */ }
      empty.hidden = true;
      const ts = data && data.timestamp;
      list.prepend(h('li', { class: 'card event' },
        h('div', { class: 'event-head' }, h('strong', {}, e.type === 'message' ? 'event' : e.type), h('code', { class: 'sub' }, e.lastEventId), timeEl(ts)),
        h('details', { open: list.children.length < 3 }, h('summary', {}, 'Payload'), pre(data, 'Payload'))));
      while (list.children.length > 200) list.lastChild.remove();
    };
    es.onmessage = onEvent;
    for (const n of names) es.addEventListener(n, onEvent);
    es.onerror = () => {
      // The browser reconnects by itself while it can; when it gives up
      // (a 401, the server going away) start again from the last id.
      state.textContent = 'reconnecting'; state.className = 'badge badge-warn';
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        // A refused token signs out (the API call's 401 does it).
        get('webhooks', { limit: 1 }).catch(() => {});
        retryTimer = setTimeout(() => { if (source === es) connect(); }, 2000);
      }
    };
  };
  connect();
  return [
    pageHead('Live', state),
    h('form', { class: 'card filters', 'aria-label': 'Filter the stream', onsubmit: (e) => {
      e.preventDefault();
      go('#/live' + (input.value.trim() ? '?events=' + encodeURIComponent(input.value.trim()) : ''));
    } }, field('Event types', input, { hint: 'Comma-separated; wildcards such as order.* allowed; empty: all.' }),
    h('datalist', { id: 'live-types' }, names.map((n) => h('option', { value: n }))),
    h('div', { class: 'field end' }, h('button', { type: 'submit', class: 'btn' }, 'Filter'))),
    empty, list,
  ];
}
