// Hookrelay's web pages: the customer portal (/portal) and the operator console (/console).
// Plain DOM, no framework. Everything that comes from the API is placed with text nodes
// (textContent / createTextNode), never parsed as HTML. Keys and session tokens live in
// sessionStorage only; no cookie is ever set. Every URL is relative to the page's <base>.
'use strict';

(function () {
  const PAGE = document.body.dataset.page;
  const main = document.getElementById('main');
  const topbar = document.getElementById('topbar');
  const toastRegion = document.getElementById('toasts');
  const PORTAL_KEY = 'hookrelay.portal.session';
  const CONSOLE_KEY = 'hookrelay.console.key';

  // ---------------------------------------------------------------- DOM helpers
  const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'indeterminate']);

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    let value;
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
      else if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'value') value = v;
      else if (PROPS.has(k)) el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    add(el, children);
    if (value !== undefined) el.value = value;
    return el;
  }

  function add(el, children) {
    for (const c of [children].flat(Infinity)) {
      if (c == null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.firstChild.remove();
    return el;
  }

  let uid = 0;
  const nextId = (p) => `${p}-${++uid}`;
  const enc = encodeURIComponent;

  // ---------------------------------------------------------------- routing
  const href = (path) => `${location.pathname}${location.search}#/${path}`;
  const go = (path) => { location.hash = `#/${path}`; };
  const decode = (p) => { try { return decodeURIComponent(p); } catch (_) { return p; } };
  const routeParts = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decode);

  // A screen's timers and pollers stop when another screen is drawn.
  let generation = 0;
  let cleanups = [];
  function newScreen() {
    generation += 1;
    cleanups.forEach((f) => f());
    cleanups = [];
    const gen = generation;
    return { alive: () => gen === generation, later: (f) => cleanups.push(f) };
  }

  function every(screen, ms, fn) {
    const t = setInterval(() => { if (screen.alive() && document.visibilityState === 'visible') fn(); }, ms);
    screen.later(() => clearInterval(t));
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // ---------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || `The request failed (HTTP ${status}).`);
      this.status = status;
      this.code = e.code || 'http_' + status;
      this.field = e.field;
    }
  }

  let auth = { bearer: () => null, unauthorized: () => {} };

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const bearer = auth.bearer();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method, headers, credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_) {
      throw new ApiError(0, { error: { code: 'network', message: 'The service could not be reached. Check your connection and try again.' } });
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (res.status === 401 && bearer) {
      auth.unauthorized();
      throw new ApiError(401, data);
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  const query = (params) => {
    const q = Object.entries(params).filter(([, v]) => v != null && v !== '').map(([k, v]) => `${enc(k)}=${enc(v)}`);
    return q.length ? `?${q.join('&')}` : '';
  };

  let catalogPromise = null;
  function catalog(reload) {
    if (reload || !catalogPromise) {
      catalogPromise = api('GET', 'v1/event-types').catch((e) => {
        catalogPromise = null;
        if (e.status === 404) return { data: [], strict: false };
        throw e;
      });
    }
    return catalogPromise;
  }

  const matches = (pattern, name) => pattern === '*' || pattern === name ||
    (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1)));

  // ---------------------------------------------------------------- formatting
  const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const preciseFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  function time(iso, empty, precise) {
    if (!iso) return h('span', { class: 'muted' }, empty || '—');
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return h('span', {}, iso);
    return h('time', { datetime: iso, title: iso }, (precise ? preciseFmt : dateFmt).format(d));
  }

  function ago(iso) {
    const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (!Number.isFinite(s)) return '';
    const f = (n, u) => `${n} ${u}${n === 1 ? '' : 's'}`;
    const abs = Math.abs(s);
    const txt = abs < 60 ? f(abs, 'second') : abs < 3600 ? f(Math.round(abs / 60), 'minute')
      : abs < 86400 ? f(Math.round(abs / 3600), 'hour') : f(Math.round(abs / 86400), 'day');
    return s >= 0 ? `${txt} ago` : `in ${txt}`;
  }

  const STATUS = {
    delivered: ['ok', 'Delivered'], failed: ['bad', 'Failed'], pending: ['wait', 'Pending'],
    http_error: ['bad', 'HTTP error'], timeout: ['bad', 'Timeout'], network_error: ['bad', 'Network error'],
    blocked: ['bad', 'Blocked'], enabled: ['ok', 'Enabled'], disabled: ['off', 'Disabled'],
    failing: ['warn', 'Failing'], running: ['wait', 'Running'], done: ['ok', 'Done'],
  };
  function pill(status, label) {
    const [kind, text] = STATUS[status] || ['off', status];
    return h('span', { class: `pill pill-${kind}` }, h('span', { class: 'dot', 'aria-hidden': 'true' }), label || text);
  }

  const pretty = (v) => { try { return JSON.stringify(v, null, 2); } catch (_) { return String(v); } };

  // ---------------------------------------------------------------- components
  function button(label, opts) {
    const o = opts || {};
    return h('button', {
      type: o.type || 'button', class: `btn btn-${o.variant || 'secondary'}${o.small ? ' btn-sm' : ''}`,
      onclick: o.onclick, disabled: o.disabled, 'aria-label': o.ariaLabel, id: o.id,
    }, label);
  }

  function linkButton(label, path, variant) {
    return h('a', { class: `btn btn-${variant || 'secondary'}`, href: href(path) }, label);
  }

  const SITE = PAGE === 'portal' ? 'Webhooks' : 'Hookrelay console';
  function pageHeader(o) {
    const name = typeof o.title === 'string' ? o.title : (o.title && o.title.textContent) || '';
    document.title = name && name !== SITE ? `${name} · ${SITE}` : SITE;
    return h('div', { class: 'page-header' },
      o.crumbs && h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
        h('ol', {}, o.crumbs.map(([label, path]) => h('li', {}, path == null ? h('span', { 'aria-current': 'page' }, label) : h('a', { href: href(path) }, label))))),
      h('div', { class: 'page-title-row' },
        h('div', { class: 'page-title' }, h('h1', { class: o.mono ? 'mono break' : null }, o.title), o.extra),
        o.actions && h('div', { class: 'actions' }, o.actions)),
      o.subtitle && h('p', { class: 'subtitle' }, o.subtitle));
  }

  function card(title, body, opts) {
    const o = opts || {};
    const hid = nextId('card');
    return h('section', { class: `card ${o.class || ''}`, 'aria-labelledby': hid },
      h('div', { class: 'card-head' },
        h('div', {}, h('h2', { id: hid }, title), o.hint && h('p', { class: 'card-hint' }, o.hint)),
        o.actions && h('div', { class: 'actions' }, o.actions)),
      h('div', { class: `card-body${o.flush ? ' flush' : ''}` }, body));
  }

  function table(caption, columns, rows, opts) {
    const o = opts || {};
    const tbody = h('tbody', {});
    const t = h('div', { class: 'table-wrap' },
      h('table', { class: 'table' },
        h('caption', { class: 'sr-only' }, caption),
        h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
        tbody));
    const fill = (list) => {
      clear(tbody);
      if (!list.length && o.empty) {
        tbody.append(h('tr', {}, h('td', { colspan: columns.length, class: 'empty-cell' }, o.empty)));
      }
      addRows(list);
    };
    const row = (r) => h('tr', { 'data-id': r.id || r.name, 'data-event': r.event_id }, columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, h('div', { class: 'cell' }, c.cell(r)))));
    const addRows = (list) => { for (const r of list) tbody.append(row(r)); };
    fill(rows || []);
    return { el: t, fill, addRows };
  }

  function field(o) {
    const id = o.id || nextId('f');
    const hintId = o.hint ? `${id}-hint` : null;
    const input = o.input || h('input', { type: o.type || 'text' });
    input.id = id;
    if (o.name) input.name = o.name;
    if (o.field) input.dataset.field = o.field;
    if (hintId) input.setAttribute('aria-describedby', hintId);
    return h('div', { class: `field ${o.class || ''}`, hidden: o.hidden },
      h('label', { for: id }, o.label, o.optional && h('span', { class: 'optional' }, ' (optional)')),
      input,
      o.hint && h('p', { class: 'hint', id: hintId }, o.hint));
  }

  function emptyState(title, text, action) {
    return h('div', { class: 'empty' },
      h('div', { class: 'empty-icon', 'aria-hidden': 'true' }),
      h('p', { class: 'empty-title' }, title), text && h('p', { class: 'muted' }, text), action);
  }

  function errorBox(err) {
    return h('div', { class: 'alert alert-error', role: 'alert' }, h('strong', {}, 'Something went wrong. '), err.message || String(err));
  }

  const loading = (label) => h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), label || 'Loading…');

  function toast(message, kind) {
    const el = h('div', { class: `toast toast-${kind || 'ok'}` }, message);
    toastRegion.append(el);
    setTimeout(() => el.remove(), 5000);
  }

  function confirmDialog(title, text, confirmLabel, danger) {
    return new Promise((resolve) => {
      const tid = nextId('dlg');
      const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': tid },
        h('h2', { id: tid }, title), h('p', {}, text),
        h('div', { class: 'actions' },
          button('Cancel', { onclick: () => dlg.close('cancel') }),
          button(confirmLabel, { variant: danger ? 'danger' : 'primary', onclick: () => dlg.close('ok') })));
      dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok'); });
      document.body.append(dlg);
      dlg.showModal();
    });
  }

  async function copyText(text, input) {
    try {
      await navigator.clipboard.writeText(text);
      toast('Copied to the clipboard');
    } catch (_) {
      if (input) { input.focus(); input.select(); }
      toast('Select the text and copy it with your keyboard', 'info');
    }
  }

  // Field errors from a 422 (or from the page itself) next to the field they name.
  function clearErrors(form) {
    form.querySelectorAll('.field-error').forEach((e) => e.remove());
    form.querySelectorAll('[aria-invalid]').forEach((e) => {
      e.removeAttribute('aria-invalid');
      const d = (e.getAttribute('aria-describedby') || '').split(' ').filter((x) => !x.endsWith('-err')).join(' ');
      if (d) e.setAttribute('aria-describedby', d); else e.removeAttribute('aria-describedby');
    });
    const formErr = form.querySelector('.form-error');
    if (formErr) formErr.remove();
  }

  function showError(form, err) {
    clearErrors(form);
    const name = err.field || '';
    const targets = [...form.querySelectorAll('[data-field]')];
    const target = targets.find((t) => t.dataset.field === name) ||
      targets.find((t) => name && name.startsWith(t.dataset.field));
    if (target) {
      const id = `${target.id || nextId('x')}-err`;
      const msg = h('p', { class: 'field-error', id }, err.message);
      const fieldEl = target.closest('.field, fieldset') || target.parentElement;
      fieldEl.append(msg);
      const control = target.matches('input, select, textarea') ? target : target.querySelector('input, select, textarea');
      if (control) {
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute('aria-describedby', `${control.getAttribute('aria-describedby') || ''} ${id}`.trim());
        control.focus();
      }
    } else {
      const box = h('div', { class: 'alert alert-error form-error', role: 'alert' }, err.message);
      form.prepend(box);
      box.scrollIntoView({ block: 'nearest' });
    }
  }

  async function busy(btn, fn) {
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try { return await fn(); } finally { btn.disabled = false; btn.removeAttribute('aria-busy'); }
  }

  // ---------------------------------------------------------------- tenant screens (portal, and the console for any tenant)
  // ctx: { tenant, base: path prefix of this tenant's screens, crumbs: leading breadcrumbs }
  const tpath = (ctx, rest) => `v1/tenants/${enc(ctx.tenant)}/${rest}`;

  function endpointStatus(ep) {
    const out = [ep.enabled ? pill('enabled') : pill('disabled')];
    if (ep.failing_since) out.push(pill('failing', 'Failing'));
    return h('span', { class: 'pills' }, out);
  }

  function eventChips(types) {
    return h('ul', { class: 'chips', 'aria-label': 'Event types' }, (types || []).map((t) => h('li', { class: 'chip mono' }, t)));
  }

  function endpointsSection(screen, ctx) {
    const body = h('div', {}, loading('Loading endpoints…'));
    const section = card('Endpoints', body, {
      hint: ctx.admin ? 'Where this tenant\'s webhooks go.' : 'The URLs we send your webhooks to.',
      actions: linkButton('Add endpoint', `${ctx.base}endpoints/new`, 'primary'), flush: true,
    });
    api('GET', tpath(ctx, 'endpoints')).then((list) => {
      if (!screen.alive()) return;
      clear(body);
      if (!list.data.length) {
        body.append(emptyState('No endpoints yet', 'Add an endpoint to start receiving webhooks.', linkButton('Add endpoint', `${ctx.base}endpoints/new`, 'primary')));
        return;
      }
      const t = table('Endpoints', [
        { label: 'Endpoint', cell: (ep) => [h('a', { class: 'strong-link mono break', href: href(`${ctx.base}endpoints/${enc(ep.id)}`) }, ep.url), ep.description && h('div', { class: 'muted small' }, ep.description)] },
        { label: 'Event types', cell: (ep) => eventChips(ep.event_types) },
        { label: 'Status', cell: (ep) => [endpointStatus(ep), ep.disabled_reason && h('div', { class: 'muted small' }, ep.disabled_reason), ep.failing_since && h('div', { class: 'muted small' }, 'Failing since ', time(ep.failing_since))] },
        { label: 'Created', class: 'nowrap', cell: (ep) => time(ep.created_at) },
      ], list.data);
      body.append(t.el);
    }).catch((e) => { if (screen.alive()) clear(body).append(errorBox(e)); });
    return section;
  }

  function portalHome(screen, ctx) {
    return [pageHeader({ title: 'Webhooks', subtitle: 'Manage the endpoints that receive your events, and see every delivery.' }),
      endpointsSection(screen, ctx)];
  }

  const SCHEMES = [
    ['standard-webhooks', 'Standard Webhooks (recommended)'],
    ['hmac-sha256-hex', 'HMAC-SHA256, hex, in a header'],
    ['secret-header', 'Secret in a header'],
    ['none', 'No signature'],
  ];

  function endpointForm(screen, ctx, id) {
    const wrap = h('div', { class: 'stack' }, loading());
    const loads = [catalog(), id ? api('GET', tpath(ctx, `endpoints/${enc(id)}`)) : Promise.resolve(null)];
    Promise.all(loads).then(([cat, ep]) => {
      if (!screen.alive()) return;
      clear(wrap).append(buildEndpointForm(ctx, cat, ep));
      const first = wrap.querySelector('input');
      if (first) first.focus();
    }).catch((e) => { if (screen.alive()) clear(wrap).append(errorBox(e)); });
    const title = id ? 'Edit endpoint' : 'Add endpoint';
    const crumbs = [...ctx.crumbs, ...(id ? [['Endpoint', `${ctx.base}endpoints/${enc(id)}`]] : []), [title]];
    const aside = card('Verifying requests', [
      h('p', { class: 'small' }, 'Every request carries three headers: ', h('code', {}, 'webhook-id'), ', ', h('code', {}, 'webhook-timestamp'), ' and ', h('code', {}, 'webhook-signature'), '.'),
      h('p', { class: 'small' }, 'Check them with any Standard Webhooks library and this endpoint\'s signing secret, shown once the endpoint is saved. Reject requests whose timestamp is more than five minutes old.'),
      h('p', { class: 'small muted' }, 'Answer quickly (within 15 seconds unless agreed otherwise) with any 2xx status. Other answers are retried on a schedule, and every attempt is listed under Events.')]);
    return [pageHeader({ title, crumbs, subtitle: 'We send a signed POST request to this URL for each event it subscribes to.' }),
      h('div', { class: 'detail-layout form-layout' }, wrap, h('aside', { class: 'side', 'aria-label': 'Help' }, aside))];
  }

  function buildEndpointForm(ctx, cat, ep) {
    const known = new Set(cat.data.map((t) => t.name));
    const current = ep ? ep.event_types : [];
    const extra = current.filter((t) => !known.has(t));
    const url = h('input', { type: 'url', value: ep ? ep.url : '', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://example.com/webhooks', required: true });
    const description = h('input', { type: 'text', value: ep && ep.description ? ep.description : '', maxlength: '500' });
    const boxes = [];
    const option = (name, desc, checked) => {
      const cid = nextId('et');
      const cb = h('input', { type: 'checkbox', id: cid, value: name, checked, 'aria-describedby': desc ? `${cid}-d` : null });
      boxes.push(cb);
      return h('li', { class: 'check' }, cb, h('label', { for: cid }, h('span', { class: 'mono strong' }, name), desc && h('span', { class: 'muted small', id: `${cid}-d` }, desc)));
    };
    const patternsAllowed = !cat.strict || !cat.data.length;
    const patterns = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. invoice.* or *' });
    const types = h('fieldset', { class: 'fieldset', 'data-field': 'event_types', id: nextId('types') },
      h('legend', {}, 'Event types'),
      h('p', { class: 'hint' }, 'Choose at least one event to send to this endpoint.'),
      cat.data.length || extra.length ? h('ul', { class: 'checks' },
        cat.data.map((t) => option(t.name, t.description, current.includes(t.name))),
        extra.map((t) => option(t, 'Not in the catalog', true))) : null,
      patternsAllowed && field({ label: cat.data.length ? 'Other event types or patterns' : 'Event types or patterns', input: patterns, optional: cat.data.length > 0, hint: 'Separate with commas. "*" means every event; "invoice.*" means every event under invoice.' }));
    const sig = (ep && ep.signature) || { scheme: 'standard-webhooks' };
    const scheme = h('select', {}, SCHEMES.map(([v, l]) => h('option', { value: v, selected: v === sig.scheme }, l)));
    const header = h('input', { type: 'text', value: sig.header || '', autocomplete: 'off', spellcheck: 'false', placeholder: 'X-Signature' });
    const prefix = h('input', { type: 'text', value: sig.prefix || '', autocomplete: 'off', spellcheck: 'false', placeholder: 'sha256=' });
    const headerField = field({ label: 'Header name', input: header, field: 'signature.header' });
    const prefixField = field({ label: 'Signature prefix', input: prefix, field: 'signature.prefix', optional: true });
    const syncScheme = () => {
      headerField.hidden = !['hmac-sha256-hex', 'secret-header'].includes(scheme.value);
      prefixField.hidden = scheme.value !== 'hmac-sha256-hex';
    };
    scheme.addEventListener('change', syncScheme);
    syncScheme();
    const submit = button(ep ? 'Save changes' : 'Create endpoint', { type: 'submit', variant: 'primary' });
    const form = h('form', { class: 'form card card-pad', novalidate: true, 'aria-label': ep ? 'Edit endpoint' : 'Add endpoint' },
      field({ label: 'Endpoint URL', input: url, field: 'url', hint: 'Must accept POST requests with a JSON body.' }),
      field({ label: 'Description', input: description, field: 'description', optional: true }),
      types,
      h('fieldset', { class: 'fieldset' }, h('legend', {}, 'Signature'),
        field({ label: 'Signature scheme', input: scheme, field: 'signature', hint: 'How your server can check that a request came from us.' }),
        h('div', { class: 'row' }, headerField, prefixField)),
      h('div', { class: 'form-actions' }, submit, linkButton('Cancel', ep ? `${ctx.base}endpoints/${enc(ep.id)}` : ctx.base || '')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const eventTypes = boxes.filter((b) => b.checked).map((b) => b.value)
        .concat(patternsAllowed ? patterns.value.split(/[\s,]+/).filter(Boolean) : []);
      if (!eventTypes.length) { showError(form, { field: 'event_types', message: 'Choose at least one event type.' }); return; }
      const signature = { scheme: scheme.value };
      if (!headerField.hidden) signature.header = header.value.trim();
      if (!prefixField.hidden && prefix.value.trim()) signature.prefix = prefix.value.trim();
      const body = { url: url.value.trim(), event_types: eventTypes, signature };
      const desc = description.value.trim();
      if (desc || ep) body.description = desc || null;
      busy(submit, async () => {
        try {
          const saved = ep ? await api('PATCH', tpath(ctx, `endpoints/${enc(ep.id)}`), body)
            : await api('POST', tpath(ctx, 'endpoints'), body);
          toast(ep ? 'Endpoint saved' : 'Endpoint created');
          go(`${ctx.base}endpoints/${enc(saved.id)}`);
        } catch (e) { showError(form, e); }
      });
    });
    return form;
  }

  function endpointDetail(screen, ctx, id) {
    const wrap = h('div', { class: 'stack' }, loading());
    const draw = () => Promise.all([api('GET', tpath(ctx, `endpoints/${enc(id)}`)), catalog().catch(() => ({ data: [] }))]).then(([ep, cat]) => {
      if (!screen.alive()) return;
      clear(wrap).append(...endpointView(screen, ctx, ep, cat, draw));
    }).catch((e) => { if (screen.alive()) clear(wrap).append(pageHeader({ title: 'Endpoint', crumbs: ctx.crumbs }), errorBox(e)); });
    draw();
    return wrap;
  }

  function endpointView(screen, ctx, ep, cat, redraw) {
    const epPath = tpath(ctx, `endpoints/${enc(ep.id)}`);
    const toggle = button(ep.enabled ? 'Disable' : 'Enable', {
      onclick: async () => {
        if (ep.enabled && !await confirmDialog('Disable this endpoint?', 'It stops receiving events until you enable it again.', 'Disable', true)) return;
        await busy(toggle, async () => {
          try { await api('PATCH', epPath, { enabled: !ep.enabled }); toast(ep.enabled ? 'Endpoint disabled' : 'Endpoint enabled'); redraw(); } catch (e) { toast(e.message, 'error'); }
        });
      },
    });
    const del = button('Delete', {
      variant: 'danger-ghost',
      onclick: async () => {
        if (!await confirmDialog('Delete this endpoint?', 'It stops receiving events. Its delivery history is kept but no longer listed here. This cannot be undone.', 'Delete endpoint', true)) return;
        try { await api('DELETE', epPath); toast('Endpoint deleted'); go(ctx.base); } catch (e) { toast(e.message, 'error'); }
      },
    });
    const status = [endpointStatus(ep),
      ep.disabled_reason && h('span', { class: 'muted small' }, ep.disabled_reason),
      ep.failing_since && h('span', { class: 'muted small' }, 'Failing since ', time(ep.failing_since))];
    return [
      pageHeader({
        title: ep.url, mono: true, crumbs: [...ctx.crumbs, ['Endpoint']],
        extra: h('div', { class: 'title-meta' }, status),
        subtitle: ep.description || null,
        actions: [linkButton('Edit', `${ctx.base}endpoints/${enc(ep.id)}/edit`), toggle, del],
      }),
      h('div', { class: 'detail-layout' },
        h('div', { class: 'stack' }, deliveriesCard(screen, ctx, ep)),
        h('div', { class: 'stack side' }, secretCard(ep, epPath, redraw), testEventCard(screen, ctx, ep, cat), recoverCard(screen, ctx, ep), subscriptionCard(ep))),
    ];
  }

  function secretCard(ep, epPath, redraw) {
    const masked = 'whsec_' + '•'.repeat(24);
    const value = h('code', { class: 'secret mono', id: 'endpoint-secret' }, masked);
    let shown = false;
    const show = button('Show', { small: true, onclick: () => {
      shown = !shown;
      value.textContent = shown ? ep.secret : masked;
      show.textContent = shown ? 'Hide' : 'Show';
      show.setAttribute('aria-pressed', String(shown));
    } });
    show.setAttribute('aria-pressed', 'false');
    const copy = button('Copy', { small: true, onclick: () => copyText(ep.secret) });
    const rotate = button('Rotate secret', {
      onclick: async () => {
        if (!await confirmDialog('Rotate the signing secret?', 'A new secret is made now. For the next 24 hours requests are signed with both the old and the new secret, so you can update your server without missing a request.', 'Rotate secret')) return;
        await busy(rotate, async () => {
          try { await api('POST', `${epPath}/rotate-secret`, { grace_period_seconds: 86400 }); toast('Secret rotated. The old one keeps working for 24 hours.'); redraw(); } catch (e) { toast(e.message, 'error'); }
        });
      },
    });
    return card('Signing secret', [
      h('div', { class: 'secret-row' }, value, h('div', { class: 'actions' }, show, copy)),
      h('p', { class: 'hint' }, 'Use this secret to verify the signature of every request we send.'),
      h('div', { class: 'card-foot' }, rotate),
    ]);
  }

  function subscriptionCard(ep) {
    const sig = ep.signature || { scheme: 'standard-webhooks' };
    const schemeLabel = (SCHEMES.find(([v]) => v === sig.scheme) || [0, sig.scheme])[1];
    return card('Subscription', h('dl', { class: 'dl' },
      h('dt', {}, 'Event types'), h('dd', {}, eventChips(ep.event_types)),
      h('dt', {}, 'Signature'), h('dd', {}, schemeLabel, sig.header && h('span', { class: 'muted' }, ' · header ', h('code', {}, sig.header))),
      h('dt', {}, 'Created'), h('dd', {}, time(ep.created_at)),
      h('dt', {}, 'Endpoint ID'), h('dd', {}, h('code', {}, ep.id))));
  }

  function testEventCard(screen, ctx, ep, cat) {
    const names = cat.data.map((t) => t.name).filter((n) => ep.event_types.some((p) => matches(p, n)));
    const result = h('div', { class: 'result', role: 'status' });
    if (!names.length) {
      return card('Send a test event', h('p', { class: 'muted' }, 'None of this endpoint\'s event types is in the event catalog, so there is no example to send.'));
    }
    const select = h('select', {}, names.map((n) => h('option', { value: n }, n)));
    const send = button('Send test event', { variant: 'primary', type: 'submit' });
    const form = h('form', { class: 'inline-form', novalidate: true },
      field({ label: 'Event type', input: select, field: 'event_type' }), send);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(send, async () => {
        try {
          const evt = await api('POST', tpath(ctx, `endpoints/${enc(ep.id)}/test`), { event_type: select.value });
          clear(result).append(h('p', { class: 'alert alert-ok' }, 'Sent ', h('code', {}, evt.event_type), ` as ${evt.id}. It appears under Events below.`));
          if (screen.refreshDeliveries) screen.refreshDeliveries();
        } catch (e) { clear(result).append(h('p', { class: 'alert alert-error' }, e.message)); }
      });
    });
    return card('Send a test event', [form, result], { hint: 'Sends the event type\'s example payload to this endpoint, signed like any other event.' });
  }

  function localInput(date) {
    const p = (n) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}`;
  }

  function recoverCard(screen, ctx, ep) {
    const since = h('input', { type: 'datetime-local', value: localInput(new Date(Date.now() - 86400000)), step: '60' });
    const run = button('Recover', { type: 'submit' });
    const progress = h('div', { class: 'result', role: 'status' });
    const form = h('form', { class: 'inline-form', novalidate: true },
      field({ label: 'Failed since', input: since, field: 'since' }), run);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const d = new Date(since.value);
      if (Number.isNaN(d.getTime())) { showError(form, { field: 'since', message: 'Enter a date and time.' }); return; }
      clearErrors(form);
      busy(run, async () => {
        try {
          const job = await api('POST', tpath(ctx, `endpoints/${enc(ep.id)}/recover`), { since: d.toISOString().replace(/\.\d{3}Z$/, 'Z') });
          await followJob(screen, ctx, job, progress);
        } catch (e) { showError(form, e); }
      });
    });
    return card('Recover failed deliveries', [form, progress], { hint: 'Sends every failed delivery since this time through its retry schedule again.' });
  }

  async function followJob(screen, ctx, first, out) {
    let job = first;
    const bar = h('progress', { max: '100', 'aria-label': 'Recovery progress' });
    const text = h('p', { class: 'small' });
    clear(out).append(h('div', { class: 'job', 'data-job': job.id }, bar, text));
    for (;;) {
      const total = job.total;
      if (job.status === 'done') { bar.max = 1; bar.value = 1; } else if (total) { bar.max = total; bar.value = job.done; } else bar.removeAttribute('value');
      out.firstChild.dataset.status = job.status;
      text.textContent = job.status === 'done'
        ? `Done: ${job.done} ${job.done === 1 ? 'delivery' : 'deliveries'} checked, ${job.requeued || 0} put back on their schedule.`
        : job.status === 'failed' ? `The recovery stopped after ${job.done} deliveries. Try again.`
          : `Running… ${job.done}${total ? ` of ${total}` : ''} deliveries checked.`;
      if (job.status !== 'running' || !screen.alive()) break;
      await sleep(1000);
      try { job = await api('GET', tpath(ctx, `jobs/${enc(job.id)}`)); } catch (e) { text.textContent = e.message; break; }
    }
    if (job.status === 'done' && screen.refreshDeliveries) screen.refreshDeliveries();
  }

  function deliveriesCard(screen, ctx, ep) {
    const filter = h('select', {}, [['', 'All'], ['pending', 'Pending'], ['delivered', 'Delivered'], ['failed', 'Failed']].map(([v, l]) => h('option', { value: v }, l)));
    const updated = h('span', { class: 'muted small', role: 'status' });
    const more = button('Load more', { onclick: () => load(cursor) });
    const t = table('Deliveries of this endpoint, newest first', [
      { label: 'Status', cell: (d) => [pill(d.status),
        d.next_attempt_at && h('div', { class: 'muted small' }, new Date(d.next_attempt_at) > Date.now() ? `Next try ${ago(d.next_attempt_at)}` : 'Retrying now'),
        d.status !== 'delivered' && d.last_error && h('div', { class: 'muted small clip', title: d.last_error }, d.last_error)] },
      { label: 'Event', cell: (d) => [h('a', { class: 'strong-link mono', href: href(`${ctx.base}deliveries/${enc(d.id)}`) }, d.event_type || d.event_id), h('div', { class: 'muted small mono' }, d.id)] },
      { label: 'Attempts', class: 'num', cell: (d) => String(d.attempt_count) },
      { label: 'Created', class: 'nowrap', cell: (d) => [time(d.created_at), h('div', { class: 'muted small' }, ago(d.created_at))] },
    ], [], { empty: 'No deliveries match this filter yet.' });
    let cursor = null;
    let pages = 0;
    const body = h('div', { class: 'deliveries', 'aria-busy': 'true' }, t.el, h('div', { class: 'table-foot' }, more));
    let seq = 0; // only the latest request draws (a filter change overtakes a refresh in flight)
    async function load(from) {
      const mine = ++seq;
      body.setAttribute('aria-busy', 'true');
      try {
        const page = await api('GET', tpath(ctx, `endpoints/${enc(ep.id)}/deliveries`) + query({ status: filter.value, limit: 20, cursor: from }));
        if (!screen.alive() || mine !== seq) return;
        if (from) t.addRows(page.data); else t.fill(page.data);
        pages = from ? pages + 1 : 1;
        cursor = page.next_cursor;
        more.hidden = !cursor;
        updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      } catch (e) { if (screen.alive() && mine === seq) updated.textContent = e.message; } finally { if (mine === seq) body.setAttribute('aria-busy', 'false'); }
    }
    filter.addEventListener('change', () => load(null));
    screen.refreshDeliveries = () => load(null);
    // Gentle auto-refresh of the first page, never under the user's focus.
    every(screen, 5000, () => { if (pages <= 1 && !body.contains(document.activeElement)) load(null); });
    load(null);
    const refresh = button('Refresh', { small: true, onclick: () => load(null) });
    return card('Events', [h('div', { class: 'toolbar' }, field({ label: 'Status', input: filter, class: 'field-inline' }), h('div', { class: 'toolbar-end' }, updated, refresh)), body],
      { hint: 'Every delivery to this endpoint, newest first. Updates every few seconds.', class: 'deliveries-card', flush: true });
  }

  function deliveryDetail(screen, ctx, id) {
    const wrap = h('div', { class: 'stack' }, loading());
    const state = { count: -1 };
    const draw = async () => {
      const d = await api('GET', tpath(ctx, `deliveries/${enc(id)}`));
      let evt = null;
      try { evt = await api('GET', tpath(ctx, `events/${enc(d.event_id)}`)); } catch (_) { evt = null; }
      if (!screen.alive()) return d;
      clear(wrap).append(...deliveryView(screen, ctx, d, evt, draw));
      state.count = (d.attempts || []).length;
      return d;
    };
    draw().catch((e) => { if (screen.alive()) clear(wrap).append(pageHeader({ title: 'Delivery', crumbs: ctx.crumbs }), errorBox(e)); });
    screen.retry = async () => {
      const before = state.count;
      for (let i = 0; i < 40 && screen.alive(); i += 1) {
        await sleep(i < 10 ? 700 : 1500);
        const d = await draw();
        if ((d.attempts || []).length > before) return true;
      }
      return false;
    };
    return wrap;
  }

  function deliveryView(screen, ctx, d, evt, redraw) {
    const retry = button('Retry now', {
      variant: 'primary',
      onclick: () => busy(retry, async () => {
        try {
          await api('POST', tpath(ctx, `deliveries/${enc(d.id)}/retry`));
          toast('Retry queued: a new attempt is being made');
          if (!await screen.retry()) toast('The new attempt has not finished yet; refresh in a moment', 'info');
        } catch (e) { toast(e.message, 'error'); }
      }),
    });
    const refresh = button('Refresh', { onclick: () => redraw().catch((e) => toast(e.message, 'error')) });
    const attempts = (d.attempts || []).slice().sort((a, b) => b.number - a.number);
    const crumbs = [...ctx.crumbs];
    if (d.endpoint_id) crumbs.push([d.url, `${ctx.base}endpoints/${enc(d.endpoint_id)}`]);
    crumbs.push(['Delivery']);
    return [
      pageHeader({ title: d.event_type || 'Delivery', mono: true, crumbs, extra: h('div', { class: 'title-meta' }, pill(d.status), h('code', { class: 'muted small' }, d.id)), actions: [refresh, retry] }),
      card('Summary', h('dl', { class: 'dl dl-grid dl-4' },
        h('div', {}, h('dt', {}, 'Status'), h('dd', {}, pill(d.status))),
        h('div', {}, h('dt', {}, 'Attempts'), h('dd', { 'data-testid': 'attempt-count' }, String(d.attempt_count))),
        h('div', {}, h('dt', {}, 'Next attempt'), h('dd', {}, d.next_attempt_at ? [time(d.next_attempt_at), ` (${ago(d.next_attempt_at)})`] : h('span', { class: 'muted' }, 'None scheduled'))),
        h('div', {}, h('dt', {}, 'Created'), h('dd', {}, time(d.created_at, null, true))),
        h('div', { class: 'span-2' }, h('dt', {}, 'Endpoint URL'), h('dd', { class: 'mono break' }, d.url)),
        h('div', { class: 'span-2' }, h('dt', {}, 'Event ID'), h('dd', {}, h('code', {}, d.event_id))),
        d.last_error && h('div', { class: 'span-3' }, h('dt', {}, 'Last error'), h('dd', { class: 'break' }, d.last_error)))),
      h('div', { class: 'grid-2 delivery-grid' }, card(`Attempts (${attempts.length})`, attempts.length
        ? h('ol', { class: 'attempts', reversed: true }, attempts.map(attemptItem))
        : h('p', { class: 'muted' }, 'No attempt has been made yet.'), { class: 'attempts-card' }),
      card('Payload', evt ? h('pre', { class: 'code', id: 'payload', tabindex: '0', 'aria-label': 'Event payload' }, pretty(evt.payload)) : h('p', { class: 'muted' }, 'The event could not be loaded.'),
        { hint: evt ? `The body we send, pretty-printed. Created ${ago(evt.created_at)}.` : null, actions: evt && button('Copy', { small: true, onclick: () => copyText(pretty(evt.payload)) }) })),
    ];
  }

  function attemptItem(a) {
    const kind = a.outcome === 'delivered' ? 'delivered' : a.outcome;
    return h('li', { class: 'attempt', 'data-outcome': a.outcome },
      h('div', { class: 'attempt-head' },
        h('span', { class: 'attempt-no' }, `#${a.number}`), pill(kind),
        h('span', { class: 'meta' }, a.status_code != null ? `HTTP ${a.status_code}` : 'No response'),
        h('span', { class: 'meta' }, `${a.duration_ms} ms`),
        a.manual && h('span', { class: 'tag' }, 'Manual retry'),
        h('span', { class: 'meta push' }, time(a.started_at, null, true))),
      a.error && h('p', { class: 'attempt-error' }, a.error),
      a.response_excerpt != null && a.response_excerpt !== '' && h('details', { class: 'excerpt', open: true },
        h('summary', {}, 'Response body'), h('pre', { class: 'code code-sm', tabindex: '0' }, a.response_excerpt)));
  }

  function tenantRoute(screen, ctx, parts) {
    const [a, b, c] = parts;
    if (a === 'endpoints' && b === 'new') return endpointForm(screen, ctx, null);
    if (a === 'endpoints' && b && c === 'edit') return endpointForm(screen, ctx, b);
    if (a === 'endpoints' && b) return endpointDetail(screen, ctx, b);
    if (a === 'deliveries' && b) return deliveryDetail(screen, ctx, b);
    return null;
  }

  function brand(sub) {
    return h('div', { class: 'brand' }, h('img', { src: 'ui/icon.svg', alt: '', width: '28', height: '28' }), h('span', { class: 'brand-name' }, 'Hookrelay'), sub && h('span', { class: 'brand-sub' }, sub));
  }

  function draw(content) {
    clear(main).append(...[content].flat(Infinity).filter(Boolean));
  }

  function focusMain() {
    const h1 = main.querySelector('h1');
    if (h1) { h1.tabIndex = -1; h1.focus({ preventScroll: true }); }
  }

  // ---------------------------------------------------------------- portal
  let expiryTimer = null;
  function portalSession() {
    try { return JSON.parse(sessionStorage.getItem(PORTAL_KEY) || 'null'); } catch (_) { return null; }
  }

  function expiredScreen(why) {
    newScreen();
    sessionStorage.removeItem(PORTAL_KEY);
    clear(topbar).append(h('div', { class: 'topbar-inner' }, brand('Webhooks')));
    draw(h('div', { class: 'center-card card card-pad', id: 'expired' },
      h('div', { class: 'badge-icon', 'aria-hidden': 'true' }, h('span', { class: 'clock' })),
      h('h1', {}, why === 'missing' ? 'Open this page from your link'
        : why === 'signed-out' ? 'You signed out' : 'This link has expired or was already used — ask for a new one'),
      h('p', { class: 'muted' }, why === 'missing'
        ? 'This page opens from a personal link that signs you in. Ask the service you use for a new link to manage your webhooks.'
        : 'Links to this page work once and for a short time only. Ask the service you use for a new link to manage your webhooks.')));
    focusMain();
  }

  async function portalStart() {
    const m = location.hash.match(/^#token=([^&]+)/);
    if (m) {
      const token = decodeURIComponent(m[1]);
      history.replaceState(null, '', location.pathname + location.search);
      sessionStorage.removeItem(PORTAL_KEY);
      try {
        const s = await api('POST', 'v1/portal/exchange', { token });
        sessionStorage.setItem(PORTAL_KEY, JSON.stringify({ session_token: s.session_token, tenant_id: s.tenant_id, expires_at: s.expires_at }));
      } catch (_) { expiredScreen('expired'); return; }
    }
    const s = portalSession();
    if (!s || !s.session_token) { expiredScreen(m ? 'expired' : 'missing'); return; }
    if (s.expires_at && new Date(s.expires_at).getTime() < Date.now()) { expiredScreen('expired'); return; }
    auth = { bearer: () => (portalSession() || {}).session_token, unauthorized: () => expiredScreen('expired') };
    const left = s.expires_at ? new Date(s.expires_at).getTime() - Date.now() : NaN;
    if (left > 0 && left < 2 ** 31) {
      clearTimeout(expiryTimer);
      expiryTimer = setTimeout(() => expiredScreen('expired'), left);
    }
    const name = h('span', { class: 'tenant-name' }, s.tenant_id);
    // Signing out ends the session on the server too (DELETE v1/portal/session).
    const out = button('Sign out', { small: true, onclick: async () => {
      clearTimeout(expiryTimer);
      await api('DELETE', 'v1/portal/session').catch(() => {});
      expiredScreen('signed-out');
    } });
    clear(topbar).append(h('div', { class: 'topbar-inner' }, brand('Webhooks'),
      h('div', { class: 'topbar-end' }, h('span', { class: 'muted small' }, 'Account '), name, out)));
    api('GET', `v1/tenants/${enc(s.tenant_id)}`).then((t) => { if (t && t.name) name.textContent = t.name; }).catch(() => {});
    portalRender();
  }

  function portalRender() {
    if (/^#token=/.test(location.hash)) { portalStart(); return; }
    const s = portalSession();
    if (!s) { expiredScreen('expired'); return; }
    const screen = newScreen();
    const ctx = { tenant: s.tenant_id, base: '', crumbs: [['Endpoints', '']] };
    const parts = routeParts();
    draw(tenantRoute(screen, ctx, parts) || portalHome(screen, ctx));
    focusMain();
  }

  // ---------------------------------------------------------------- console
  const NAV = [['tenants', 'Tenants'], ['endpoints', 'Failing & disabled'], ['dlq', 'Dead-letter queue'], ['event-types', 'Event types']];

  function signIn(message) {
    newScreen();
    sessionStorage.removeItem(CONSOLE_KEY);
    clear(topbar).append(h('div', { class: 'topbar-inner' }, brand('Console')));
    const key = h('input', { type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
    const submit = button('Sign in', { type: 'submit', variant: 'primary' });
    const form = h('form', { class: 'form', novalidate: true, 'aria-label': 'Sign in' },
      message && h('div', { class: 'alert alert-error', role: 'alert' }, message),
      field({ label: 'Admin key', input: key, field: 'key', hint: 'Kept in this browser tab only, until you sign out or close it.' }),
      h('div', { class: 'form-actions' }, submit));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const value = key.value.trim();
      if (!value) { showError(form, { field: 'key', message: 'Enter the admin key.' }); return; }
      busy(submit, async () => {
        try {
          const res = await fetch('v1/tenants?limit=1', { headers: { Authorization: `Bearer ${value}` }, credentials: 'omit', cache: 'no-store' });
          if (res.status === 401 || res.status === 403) { showError(form, { field: 'key', message: 'That key was not accepted.' }); return; }
          sessionStorage.setItem(CONSOLE_KEY, value);
          consoleStart();
        } catch (_) { showError(form, { field: 'key', message: 'The service could not be reached.' }); }
      });
    });
    draw(h('div', { class: 'center-card card card-pad' }, h('h1', {}, 'Sign in to the console'), h('p', { class: 'muted' }, 'Operators only: use the deployment\'s admin key.'), form));
    key.focus();
  }

  function consoleStart() {
    if (!sessionStorage.getItem(CONSOLE_KEY)) { signIn(); return; }
    auth = { bearer: () => sessionStorage.getItem(CONSOLE_KEY), unauthorized: () => signIn('Your admin key was not accepted. Sign in again.') };
    window.removeEventListener('hashchange', consoleRender);
    window.addEventListener('hashchange', consoleRender);
    consoleRender();
  }

  function consoleTopbar(section) {
    const out = button('Sign out', { small: true, onclick: () => { sessionStorage.removeItem(CONSOLE_KEY); location.hash = ''; signIn(); } });
    clear(topbar).append(h('div', { class: 'topbar-inner' }, brand('Console'),
      h('nav', { class: 'nav', 'aria-label': 'Console' }, h('ul', {}, NAV.map(([p, l]) => h('li', {}, h('a', { href: href(p), 'aria-current': p === section ? 'page' : null }, l))))),
      h('div', { class: 'topbar-end' }, out)));
  }

  function consoleRender() {
    if (!sessionStorage.getItem(CONSOLE_KEY)) { signIn(); return; }
    const screen = newScreen();
    const parts = routeParts();
    const section = NAV.some(([p]) => p === parts[0]) ? parts[0] : 'tenants';
    consoleTopbar(section);
    let content;
    if (parts[0] === 'tenants' && parts[1] === 'new') content = tenantForm(screen, null);
    else if (parts[0] === 'tenants' && parts[1] && parts[2] === 'edit') content = tenantForm(screen, parts[1]);
    else if (parts[0] === 'tenants' && parts[1]) {
      const t = parts[1];
      const ctx = { tenant: t, admin: true, base: `tenants/${enc(t)}/`, crumbs: [['Tenants', 'tenants'], [t, `tenants/${enc(t)}`]] };
      content = tenantRoute(screen, ctx, parts.slice(2)) || tenantOverview(screen, ctx);
    } else if (parts[0] === 'endpoints') content = adminEndpoints(screen, parts[1] === 'disabled' ? 'disabled' : 'failing');
    else if (parts[0] === 'dlq') content = dlqScreen(screen);
    else if (parts[0] === 'event-types' && parts[1]) content = eventTypeForm(screen, parts[1] === 'new' ? null : parts[1]);
    else if (parts[0] === 'event-types') content = catalogScreen(screen);
    else content = tenantsScreen(screen);
    draw(content);
    focusMain();
  }

  function tenantsScreen(screen) {
    const more = button('Load more', { onclick: () => load(cursor) });
    const t = table('Tenants', [
      { label: 'Tenant', cell: (x) => [h('a', { class: 'strong-link', href: href(`tenants/${enc(x.id)}`) }, x.name || x.id), h('div', { class: 'muted small mono' }, x.id)] },
      { label: 'Created', class: 'nowrap', cell: (x) => time(x.created_at) },
      { label: 'Updated', class: 'nowrap', cell: (x) => [time(x.updated_at), h('div', { class: 'muted small' }, ago(x.updated_at))] },
    ], [], { empty: 'No tenants yet.' });
    let cursor = null;
    const status = h('div', { role: 'status' });
    async function load(from) {
      try {
        const page = await api('GET', `v1/tenants${query({ limit: 50, cursor: from })}`);
        if (!screen.alive()) return;
        if (from) t.addRows(page.data); else t.fill(page.data);
        cursor = page.next_cursor;
        more.hidden = !cursor;
      } catch (e) { if (screen.alive()) clear(status).append(errorBox(e)); }
    }
    more.hidden = true;
    load(null);
    return [pageHeader({ title: 'Tenants', subtitle: 'Your customers, each with their own endpoints and deliveries.', actions: linkButton('New tenant', 'tenants/new', 'primary') }),
      status, h('div', { class: 'card' }, t.el, h('div', { class: 'table-foot' }, more))];
  }

  function tenantForm(screen, id) {
    const wrap = h('div', { class: 'stack' }, loading());
    const load = id ? api('GET', `v1/tenants/${enc(id)}`) : Promise.resolve(null);
    load.then((t) => {
      if (!screen.alive()) return;
      const tid = h('input', { type: 'text', value: id || '', autocomplete: 'off', spellcheck: 'false', readonly: !!id, pattern: '[A-Za-z0-9_.-]{1,64}' });
      const name = h('input', { type: 'text', value: (t && t.name) || '' });
      const max = h('input', { type: 'number', min: '1', value: t ? String(t.max_endpoints) : '10' });
      const https = h('input', { type: 'checkbox', id: nextId('https'), checked: !!(t && t.https_only), 'data-field': 'https_only' });
      const submit = button(id ? 'Save tenant' : 'Create tenant', { type: 'submit', variant: 'primary' });
      const form = h('form', { class: 'form card card-pad', novalidate: true, 'aria-label': id ? 'Edit tenant' : 'New tenant' },
        field({ label: 'Tenant ID', input: tid, field: 'tenant_id', hint: id ? 'The ID cannot change.' : 'Your own ID for this customer: letters, digits, "_", "." and "-".' }),
        field({ label: 'Name', input: name, field: 'name', optional: true }),
        field({ label: 'Maximum endpoints', input: max, field: 'max_endpoints' }),
        h('div', { class: 'check' }, https, h('label', { for: https.id }, 'Only HTTPS endpoint URLs')),
        h('div', { class: 'form-actions' }, submit, linkButton('Cancel', id ? `tenants/${enc(id)}` : 'tenants')));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const idv = tid.value.trim();
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(idv)) { showError(form, { field: 'tenant_id', message: 'Use 1 to 64 letters, digits, "_", "." or "-".' }); return; }
        const body = { max_endpoints: Number(max.value), https_only: https.checked };
        if (name.value.trim()) body.name = name.value.trim();
        busy(submit, async () => {
          try {
            await api('PUT', `v1/tenants/${enc(idv)}`, body);
            toast(id ? 'Tenant saved' : 'Tenant created');
            go(`tenants/${enc(idv)}`);
          } catch (e) { showError(form, e); }
        });
      });
      clear(wrap).append(form);
    }).catch((e) => { if (screen.alive()) clear(wrap).append(errorBox(e)); });
    return [pageHeader({ title: id ? 'Edit tenant' : 'New tenant', crumbs: [['Tenants', 'tenants'], [id ? id : 'New tenant']] }), wrap];
  }

  function tenantOverview(screen, ctx) {
    const title = h('span', {}, ctx.tenant);
    api('GET', `v1/tenants/${enc(ctx.tenant)}`).then((t) => { if (t.name && screen.alive()) title.textContent = t.name; }).catch(() => {});
    const linkOut = h('div', { class: 'result', role: 'status' });
    const make = button('Copy portal link', {
      variant: 'primary',
      onclick: () => busy(make, async () => {
        try {
          const s = await api('POST', `v1/tenants/${enc(ctx.tenant)}/portal-sessions`, { ttl_seconds: 3600 });
          const input = h('input', { type: 'text', readonly: true, value: s.url, class: 'mono', id: nextId('link') });
          clear(linkOut).append(card('Portal link', [
            field({ label: 'Link for this tenant', input, hint: null }),
            h('p', { class: 'hint' }, 'Works once, until ', time(s.expires_at), '. Send it to the customer; it signs them in to their webhooks page.')],
          { actions: button('Copy', { small: true, onclick: () => copyText(s.url, input) }) }));
          copyText(s.url, input);
        } catch (e) { toast(e.message, 'error'); }
      }),
    });
    return [pageHeader({ title, crumbs: [['Tenants', 'tenants'], [ctx.tenant]], subtitle: h('span', {}, 'Tenant ID ', h('code', {}, ctx.tenant)), actions: [linkButton('Edit tenant', `tenants/${enc(ctx.tenant)}/edit`), make] }),
      linkOut, endpointsSection(screen, ctx)];
  }

  function adminEndpoints(screen, state) {
    const more = button('Load more', { onclick: () => load(cursor) });
    const t = table(state === 'failing' ? 'Failing endpoints' : 'Disabled endpoints', [
      { label: 'Endpoint', cell: (ep) => [h('a', { class: 'strong-link mono break', href: href(`tenants/${enc(ep.tenant_id)}/endpoints/${enc(ep.id)}`) }, ep.url), ep.description && h('div', { class: 'muted small' }, ep.description)] },
      { label: 'Tenant', cell: (ep) => h('a', { href: href(`tenants/${enc(ep.tenant_id)}`) }, ep.tenant_id) },
      { label: 'Status', cell: (ep) => endpointStatus(ep) },
      { label: state === 'failing' ? 'Failing since' : 'Disabled', class: 'nowrap', cell: (ep) => time(state === 'failing' ? ep.failing_since : ep.disabled_at) },
      { label: 'Reason', cell: (ep) => ep.disabled_reason || h('span', { class: 'muted' }, ep.enabled ? '—' : 'Turned off by hand') },
    ], [], { empty: state === 'failing' ? 'No endpoint is failing right now.' : 'No endpoint is disabled.' });
    let cursor = null;
    more.hidden = true;
    const status = h('div', {});
    async function load(from) {
      try {
        const page = await api('GET', `v1/admin/endpoints${query({ state, cursor: from })}`);
        if (!screen.alive()) return;
        if (from) t.addRows(page.data); else t.fill(page.data);
        cursor = page.next_cursor;
        more.hidden = !cursor;
      } catch (e) { if (screen.alive()) clear(status).append(errorBox(e)); }
    }
    load(null);
    const tabs = h('nav', { class: 'tabs', 'aria-label': 'Endpoint state' }, h('ul', {},
      [['failing', 'Failing'], ['disabled', 'Disabled']].map(([s, l]) => h('li', {}, h('a', { href: href(`endpoints/${s}`), 'aria-current': s === state ? 'page' : null }, l)))));
    return [pageHeader({ title: 'Failing & disabled endpoints', subtitle: 'Endpoints across every tenant that need attention.' }), tabs, status,
      h('div', { class: 'card' }, t.el, h('div', { class: 'table-foot' }, more))];
  }

  function dlqScreen(screen) {
    const depth = h('p', { class: 'stat-value', id: 'dlq-depth' }, '…');
    const inflight = h('p', { class: 'stat-value', id: 'dlq-inflight' }, '…');
    const out = h('div', { class: 'result', role: 'status' });
    const load = () => api('GET', 'v1/admin/dlq').then((q) => {
      if (!screen.alive()) return;
      depth.textContent = String(q.depth);
      inflight.textContent = String(q.in_flight);
    }).catch((e) => { if (screen.alive()) clear(out).append(errorBox(e)); });
    const redrive = button('Redrive all', {
      variant: 'primary',
      onclick: async () => {
        if (!await confirmDialog('Redrive the dead-letter queue?', 'Every message in the DLQ goes back to the delivery queue and is attempted again.', 'Redrive')) return;
        await busy(redrive, async () => {
          try {
            const r = await api('POST', 'v1/admin/dlq/redrive');
            clear(out).append(h('p', { class: 'alert alert-ok' }, `Moved ${r.moved} ${r.moved === 1 ? 'message' : 'messages'} back to the delivery queue.`));
            load();
          } catch (e) { clear(out).append(errorBox(e)); }
        });
      },
    });
    load();
    return [pageHeader({ title: 'Dead-letter queue', subtitle: 'Delivery messages the queue gave up on. Redrive them once the cause is fixed.', actions: [button('Refresh', { onclick: load }), redrive] }),
      out,
      h('div', { class: 'stats' },
        h('section', { class: 'card stat', 'aria-label': 'Messages in the DLQ' }, h('h2', { class: 'stat-label' }, 'Messages waiting'), depth),
        h('section', { class: 'card stat', 'aria-label': 'Messages in flight' }, h('h2', { class: 'stat-label' }, 'In flight'), inflight))];
  }

  function catalogScreen(screen) {
    const note = h('div', {});
    const t = table('Event types', [
      { label: 'Name', cell: (x) => h('a', { class: 'strong-link mono', href: href(`event-types/${enc(x.name)}`) }, x.name) },
      { label: 'Description', cell: (x) => x.description || h('span', { class: 'muted' }, '—') },
      { label: 'Schema', cell: (x) => (x.schema ? 'Yes' : h('span', { class: 'muted' }, 'None')) },
      { label: 'Example', cell: (x) => (x.example != null ? 'Yes' : h('span', { class: 'muted' }, 'None')) },
    ], [], { empty: 'The catalog is empty. Add the event types your customers can subscribe to.' });
    catalog(true).then((cat) => {
      if (!screen.alive()) return;
      t.fill(cat.data);
      clear(note).append(h('p', { class: `alert ${cat.strict ? 'alert-info' : 'alert-neutral'}` }, cat.strict
        ? 'Strict catalog: endpoints may subscribe only to these types, and events of other types are refused.'
        : 'Open catalog: these types are offered to customers; other event types are accepted too.'));
    }).catch((e) => { if (screen.alive()) clear(note).append(errorBox(e)); });
    return [pageHeader({ title: 'Event types', subtitle: 'The events your customers can subscribe to, with an example payload for test events.', actions: linkButton('New event type', 'event-types/new', 'primary') }),
      note, h('div', { class: 'card' }, t.el)];
  }

  function eventTypeForm(screen, name) {
    const wrap = h('div', { class: 'stack' }, loading());
    const load = name ? api('GET', `v1/event-types/${enc(name)}`) : Promise.resolve(null);
    load.then((et) => {
      if (!screen.alive()) return;
      const nameIn = h('input', { type: 'text', value: name || '', readonly: !!name, autocomplete: 'off', spellcheck: 'false', placeholder: 'invoice.paid' });
      const desc = h('input', { type: 'text', value: (et && et.description) || '' });
      const schema = h('textarea', { rows: '8', class: 'mono', spellcheck: 'false', value: et && et.schema != null ? pretty(et.schema) : '' });
      const example = h('textarea', { rows: '8', class: 'mono', spellcheck: 'false', value: et && et.example != null ? pretty(et.example) : '' });
      const submit = button(name ? 'Save event type' : 'Create event type', { type: 'submit', variant: 'primary' });
      const del = name && button('Delete', {
        variant: 'danger-ghost',
        onclick: async () => {
          if (!await confirmDialog(`Delete ${name}?`, 'Customers can no longer pick it. Endpoints that subscribe to it keep their subscription.', 'Delete event type', true)) return;
          try { await api('DELETE', `v1/event-types/${enc(name)}`); catalog(true); toast('Event type deleted'); go('event-types'); } catch (e) { toast(e.message, 'error'); }
        },
      });
      const form = h('form', { class: 'form card card-pad', novalidate: true, 'aria-label': name ? 'Edit event type' : 'New event type' },
        field({ label: 'Name', input: nameIn, field: 'name', hint: name ? null : 'Dot-separated, e.g. invoice.paid.' }),
        field({ label: 'Description', input: desc, field: 'description' }),
        field({ label: 'JSON Schema of the payload', input: schema, field: 'schema', optional: true, hint: 'A JSON object; leave empty for none.' }),
        field({ label: 'Example payload', input: example, field: 'example', optional: true, hint: 'JSON; sent by "Send test event".' }),
        h('div', { class: 'form-actions' }, submit, linkButton('Cancel', 'event-types'), del && h('span', { class: 'push' }, del)));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const n = nameIn.value.trim();
        if (!n) { showError(form, { field: 'name', message: 'Enter a name.' }); return; }
        const body = { description: desc.value.trim() };
        for (const [key, el] of [['schema', schema], ['example', example]]) {
          const v = el.value.trim();
          try { body[key] = v ? JSON.parse(v) : null; } catch (_) { showError(form, { field: key, message: 'This is not valid JSON.' }); return; }
        }
        busy(submit, async () => {
          try { await api('PUT', `v1/event-types/${enc(n)}`, body); catalog(true); toast('Event type saved'); go('event-types'); } catch (e) { showError(form, e); }
        });
      });
      clear(wrap).append(form);
    }).catch((e) => { if (screen.alive()) clear(wrap).append(errorBox(e)); });
    return [pageHeader({ title: name || 'New event type', mono: !!name, crumbs: [['Event types', 'event-types'], [name || 'New']] }), wrap];
  }

  // ---------------------------------------------------------------- start
  if (PAGE === 'portal') window.addEventListener('hashchange', portalRender);
  document.getElementById('skip-link').addEventListener('click', (ev) => { ev.preventDefault(); main.focus(); });
  if (PAGE === 'portal') portalStart(); else consoleStart();
}());
