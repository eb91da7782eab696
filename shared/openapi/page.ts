/**
 * The interactive documentation page (GET /function/docs): one self-contained HTML file (no CDN, no
 * external assets; the machines have no internet). Its script loads `<page>/openapi.json`, renders one
 * form per operation from the document and sends real requests ("Try it") to the sibling functions
 * (`/function/search`, …, derived from the page's own location so it works behind any path prefix).
 */

const CSS = `
:root{--fg:#1d2330;--muted:#5b6473;--line:#dde2ea;--accent:#0a66d8;--bg:#f6f8fb;--get:#1f8a4c;--post:#b5630a}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#10213f;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:6px 0 0;color:#c8d3e6;max-width:70em}
header a{color:#9cc5ff}main{display:grid;grid-template-columns:210px 1fr;gap:24px;padding:20px 28px;max-width:1400px}
#ops{min-width:0}nav{position:sticky;top:16px;align-self:start}nav a{display:block;padding:6px 8px;border-radius:6px;color:var(--fg);text-decoration:none}
nav a:hover{background:#e8eef8}.op{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin-bottom:22px}
.op h2{margin:0 0 4px;font-size:18px;display:flex;gap:10px;align-items:center}.m{font:600 12px ui-monospace,monospace;padding:2px 8px;border-radius:4px;color:#fff}
.m.get{background:var(--get)}.m.post{background:var(--post)}.path{font-family:ui-monospace,monospace}.desc{color:var(--muted);margin:4px 0 12px}
.params{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:10px 16px}
label{display:block;font:600 13px ui-monospace,monospace}label small{font:400 12px system-ui;color:var(--muted);display:block}
input,select,textarea{width:100%;padding:6px 8px;border:1px solid #c5ccd8;border-radius:6px;font:13px ui-monospace,monospace;background:#fff}
textarea{min-height:110px}.actions{margin-top:12px;display:flex;gap:12px;align-items:center}
button{background:var(--accent);color:#fff;border:0;border-radius:6px;padding:8px 18px;font-weight:600;cursor:pointer}button:disabled{opacity:.6}
.out{margin-top:12px;display:none}.out.shown{display:block}.meta{font:13px ui-monospace,monospace;color:var(--muted);word-break:break-all}
.status{font-weight:700}.status.ok{color:var(--get)}.status.err{color:#c0392b}
pre{background:#0f1724;color:#e5edf7;padding:12px;border-radius:8px;overflow:auto;max-height:480px;font-size:12.5px;margin:6px 0 0}
.error{color:#c0392b;font-weight:600}`;

const SCRIPT = `
(function () {
  'use strict';
  var here = location.pathname.replace(/\\/+$/, '');
  var specUrl = here + '/openapi.json';
  var fnRoot = here.replace(/\\/docs$/, '');
  var MAX_SHOW = 200000;
  document.getElementById('spec-link').setAttribute('href', specUrl);

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function exampleOf(schema) {
    if (!schema) return '';
    if (Array.isArray(schema.examples) && schema.examples.length) return String(schema.examples[0]);
    if (schema.default !== undefined) return String(schema.default);
    return '';
  }

  function paramField(opId, p) {
    var s = p.schema || {};
    var id = opId + '-' + p.name;
    var input;
    if (Array.isArray(s.enum)) {
      input = el('select', { id: id, name: p.name }, [el('option', { value: '', text: '(default)' })].concat(
        s.enum.map(function (v) { return el('option', { value: String(v), text: String(v) }); })));
    } else {
      input = el('input', { id: id, name: p.name, type: 'text', placeholder: exampleOf(s), autocomplete: 'off' });
    }
    var hint = [];
    if (s.pattern) hint.push('pattern ' + s.pattern);
    if (s.minimum !== undefined || s.maximum !== undefined) hint.push('range [' + (s.minimum !== undefined ? s.minimum : '') + ', ' + (s.maximum !== undefined ? s.maximum : '') + ']');
    if (s.maxLength !== undefined) hint.push('≤ ' + s.maxLength + ' chars');
    return el('div', { 'data-param': p.name }, [
      el('label', { for: id, title: hint.join('; ') }, [document.createTextNode(p.name + (p.required ? ' *' : '')), el('small', { text: p.description || '' })]),
      input,
    ]);
  }

  function showResult(box, res) {
    box.className = 'out shown';
    box.querySelector('.status').textContent = res.status + ' ' + (res.statusText || '');
    box.querySelector('.status').className = 'status ' + (res.status < 400 ? 'ok' : 'err');
    box.querySelector('.ctype').textContent = res.type || '';
    box.querySelector('.took').textContent = res.ms + ' ms';
    var text = res.text;
    if (/json/.test(res.type) && !/ndjson/.test(res.type)) {
      try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* show as is */ }
    }
    if (text.length > MAX_SHOW) text = text.slice(0, MAX_SHOW) + '\\n… (' + res.text.length + ' characters in all; shortened)';
    box.querySelector('pre').textContent = text;
  }

  function renderOp(spec, path, method, op) {
    var opId = op.operationId || (method + path);
    var form = el('form', { 'data-testid': 'form-' + opId, novalidate: 'novalidate' });
    var params = el('div', { class: 'params' }, (op.parameters || []).map(function (p) { return paramField(opId, p); }));
    form.appendChild(params);
    var bodyType, bodyText;
    if (op.requestBody && op.requestBody.content) {
      var types = Object.keys(op.requestBody.content);
      bodyType = el('select', { name: '_content_type', id: opId + '-ctype' }, types.map(function (t) { return el('option', { value: t, text: t }); }));
      bodyText = el('textarea', { name: '_body', id: opId + '-body', spellcheck: 'false' });
      bodyText.value = op.requestBody.content[types[0]].example || '';
      bodyType.addEventListener('change', function () { bodyText.value = op.requestBody.content[bodyType.value].example || ''; });
      form.appendChild(el('div', { style: 'margin-top:10px' }, [
        el('label', { for: bodyText.id }, [document.createTextNode('request body'), el('small', { text: op.requestBody.description || '' })]),
        bodyType, bodyText,
      ]));
    }
    var url = el('span', { class: 'meta url' });
    var button = el('button', { type: 'submit', 'data-testid': 'try-' + opId, text: 'Try it' });
    form.appendChild(el('div', { class: 'actions' }, [button, url]));
    var out = el('div', { class: 'out', 'data-testid': 'result-' + opId }, [
      el('div', { class: 'meta' }, [el('span', { class: 'status' }), document.createTextNode(' · '), el('span', { class: 'ctype' }), document.createTextNode(' · '), el('span', { class: 'took' })]),
      el('pre', { 'data-testid': 'body-' + opId }),
    ]);

    function requestUrl() {
      var q = new URLSearchParams();
      (op.parameters || []).forEach(function (p) {
        var f = form.elements.namedItem(p.name);
        if (f && f.value !== '') q.append(p.name, f.value);
      });
      var s = q.toString();
      return fnRoot + path + (s ? '?' + s : '');
    }
    form.addEventListener('input', function () { url.textContent = method.toUpperCase() + ' ' + requestUrl(); });
    url.textContent = method.toUpperCase() + ' ' + requestUrl();
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var target = requestUrl();
      var init = { method: method.toUpperCase(), headers: {} };
      if (bodyText) { init.headers['content-type'] = bodyType.value; init.body = bodyText.value; }
      button.disabled = true;
      var t0 = performance.now();
      fetch(target, init).then(function (res) {
        return res.text().then(function (text) {
          showResult(out, { status: res.status, statusText: res.statusText, type: res.headers.get('content-type') || '', text: text, ms: Math.round(performance.now() - t0) });
        });
      }).catch(function (err) {
        showResult(out, { status: 0, statusText: 'network error', type: '', text: String(err), ms: Math.round(performance.now() - t0) });
      }).then(function () { button.disabled = false; });
    });

    return el('section', { class: 'op', id: 'op-' + opId, 'data-testid': 'op-' + opId }, [
      el('h2', {}, [el('span', { class: 'm ' + method, text: method.toUpperCase() }), el('span', { class: 'path', text: fnRoot + path }), el('span', { text: '— ' + (op.summary || '') })]),
      el('p', { class: 'desc', text: op.description || '' }),
      form,
      out,
    ]);
  }

  function render(spec) {
    document.title = spec.info.title;
    document.getElementById('title').textContent = spec.info.title + ' ' + spec.info.version;
    document.getElementById('intro').textContent = spec.info.description || '';
    var nav = document.getElementById('nav');
    var ops = document.getElementById('ops');
    Object.keys(spec.paths).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var opId = op.operationId || (method + path);
        nav.appendChild(el('a', { href: '#op-' + opId, text: method.toUpperCase() + ' ' + path }));
        ops.appendChild(renderOp(spec, path, method, op));
      });
    });
    document.body.setAttribute('data-ready', 'true');
  }

  fetch(specUrl).then(function (r) {
    if (!r.ok) throw new Error('GET ' + specUrl + ' answered ' + r.status);
    return r.json();
  }).then(render).catch(function (err) {
    document.getElementById('ops').appendChild(el('p', { class: 'error', text: 'Could not load the OpenAPI document: ' + err.message }));
    document.body.setAttribute('data-ready', 'error');
  });
})();`;

/** The documentation page (HTML with inline CSS and script). */
export function docsPageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API documentation</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body>
<header><h1 id="title">API documentation</h1><p id="intro"></p><p><a href="docs/openapi.json" id="spec-link">openapi.json</a></p></header>
<main><nav id="nav"></nav><div id="ops"></div></main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
