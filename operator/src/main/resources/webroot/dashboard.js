// The pgtide dashboard: a raw WebSocket to the operator's SockJS event-bus bridge (read-only), no libraries.
(function () {
  'use strict';
  var clusters = {};
  var charts = {}; // per cluster: the last hour's charts (SVG), from the operator's samples
  var errors = {}; // per cluster: each member's recent errors (time, severity, SQLSTATE), from the operator
  var CHARTS = [
    {column: 1, title: 'replication lag', unit: 'bytes', short: 'bytes'},
    {column: 2, title: 'QPS', unit: 'statements/s', short: '/s'},
    {column: 3, title: 'mean latency', unit: 'ms', short: 'ms'},
    {column: 4, title: 'connections', unit: 'clients', short: ''}
  ];
  var COLORS = ['#1864ab', '#c92a2a', '#2b8a3e', '#e67700', '#862e9c', '#0b7285'];

  // On Kubernetes the operator answers a reader with a token only (`kubectl create token`), given in the page's
  // fragment (#token=…), which the browser never sends anywhere; in local mode the page itself is the credential.
  var token = new URLSearchParams(location.hash.slice(1)).get('token');
  function api(path) {
    return fetch(path, token ? {headers: {Authorization: 'Bearer ' + token}} : {});
  }
  function register(ws, address) {
    var frame = {type: 'register', address: address};
    if (token) { frame.headers = {Authorization: 'Bearer ' + token}; }
    ws.send(JSON.stringify(frame));
  }

  function connect() {
    var proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var ws = new WebSocket(proto + location.host + '/eventbus/websocket');
    ws.binaryType = 'arraybuffer'; // the raw SockJS transport sends binary frames
    var decoder = new TextDecoder();
    ws.onopen = function () {
      setConnection(true);
      loadHistory();
      loadSamples();
      register(ws, 'pgtide.cluster-state');
      register(ws, 'pgtide.cluster-events');
      ws.pinger = setInterval(function () { ws.send(JSON.stringify({type: 'ping'})); }, 5000);
    };
    ws.onmessage = function (e) {
      var msg = JSON.parse(typeof e.data === 'string' ? e.data : decoder.decode(e.data));
      if (msg.type !== 'rec') { return; }
      if (msg.address === 'pgtide.cluster-state') { onState(msg.body); }
      if (msg.address === 'pgtide.cluster-events') { onEvent(msg.body); }
    };
    ws.onclose = function () {
      clearInterval(ws.pinger);
      setConnection(false);
      setTimeout(connect, 1000);
    };
  }

  function setConnection(up) {
    var el = document.getElementById('connection');
    el.textContent = up ? 'live' : 'disconnected, retrying…';
    el.className = up ? 'up' : 'down';
  }

  function onState(state) {
    var first = !clusters[state.cluster];
    clusters[state.cluster] = state;
    if (first) { loadSamples(); }
    render();
  }

  // what happened before the page was opened (or reconnected): the operator keeps the last events
  function loadHistory() {
    api('/api/events').then(function (r) { return r.json(); }).then(function (events) {
      document.getElementById('events').innerHTML = '';
      events.forEach(onEvent);
    }).catch(function () { /* live events still arrive */ });
  }

  // the last hour per member, kept by the operator: drawn on load and every 15 s
  function loadSamples() {
    Object.keys(clusters).forEach(function (name) {
      var parts = name.split('/');
      api('/api/clusters/' + encodeURIComponent(parts[0]) + '/' + encodeURIComponent(parts[1]) + '/samples')
        .then(function (r) { return r.json(); })
        .then(function (s) { charts[name] = chartsOf(s); render(); })
        .catch(function () { /* the next round tries again */ });
      // each member's recent errors (codes, not messages: `pgtide logs` has those)
      api('/api/clusters/' + encodeURIComponent(parts[0]) + '/' + encodeURIComponent(parts[1]) + '/errors')
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (e) { errors[name] = e; render(); })
        .catch(function () { /* the next round tries again */ });
    });
  }
  setInterval(loadSamples, 15000);

  function human(v, unit) {
    if (unit === 'bytes') {
      var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
      while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
      return (v >= 10 || i === 0 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[i];
    }
    return ((v >= 100 || v === 0 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2)) + ' ' + unit).trim();
  }

  function clock(ms) {
    var d = new Date(ms);
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }

  // one chart: a line per member over the last hour, a y axis from 0 with its unit, an x axis of clock times
  function chart(spec, samples, now) {
    var W = 340, H = 130, L = 56, B = 20, T = 18, R = 18, from = now - 3600000;
    var max = 0;
    Object.keys(samples.members).forEach(function (m) {
      samples.members[m].forEach(function (row) { if (row[spec.column] !== null) { max = Math.max(max, row[spec.column]); } });
    });
    max = max > 0 ? max * 1.1 : 1;
    function x(at) { return (L + (at - from) / 3600000 * (W - L - R)).toFixed(1); }
    function y(v) { return (T + (1 - v / max) * (H - T - B)).toFixed(1); }
    var svg = '<svg class="chart" width="' + W + '" height="' + H + '" data-title="' + esc(spec.title) + '">' +
      '<text class="title" x="' + L + '" y="12">' + esc(spec.title) + ' (' + esc(spec.unit) + ')</text>' +
      '<line class="axis" x1="' + L + '" y1="' + T + '" x2="' + L + '" y2="' + (H - B) + '"/>' +
      '<line class="axis" x1="' + L + '" y1="' + (H - B) + '" x2="' + (W - R) + '" y2="' + (H - B) + '"/>' +
      '<text class="y-label" x="' + (L - 4) + '" y="' + (T + 4) + '">' + esc(human(max, spec.short)) + '</text>' +
      '<text class="y-label" x="' + (L - 4) + '" y="' + (H - B) + '">0</text>';
    [0, 0.5, 1].forEach(function (f) {
      var at = from + f * 3600000;
      svg += '<text class="x-label" x="' + x(at) + '" y="' + (H - 6) + '">' + clock(at) + '</text>';
    });
    Object.keys(samples.members).sort().forEach(function (m, i) {
      var d = '', gap = true, last = 0;
      samples.members[m].forEach(function (row) {
        var v = row[spec.column];
        // a missing sample (member gone, value unknown) breaks the line
        if (v === null || row[0] - last > 2.5 * samples.everyMs) { gap = true; }
        if (v !== null) { d += (gap ? 'M' : 'L') + x(row[0]) + ' ' + y(v) + ' '; gap = false; }
        last = row[0];
      });
      svg += '<path class="series" data-member="' + esc(m) + '" d="' + d + '" fill="none" stroke="' +
        COLORS[i % COLORS.length] + '" stroke-width="1.5"/>';
    });
    return svg + '</svg>';
  }

  function chartsOf(samples) {
    var now = Date.now();
    var legend = Object.keys(samples.members).sort().map(function (m, i) {
      return '<span style="color:' + COLORS[i % COLORS.length] + '">■ ' + esc(m) + '</span>';
    }).join(' ');
    return '<div class="charts"><p class="legend">last hour, every ' + (samples.everyMs / 1000) + ' s: ' + legend +
      '</p>' + CHARTS.map(function (spec) { return chart(spec, samples, now); }).join('') + '</div>';
  }

  function onEvent(ev) {
    // newest first, each with its date and time: history from before a reload or an operator restart included
    var li = document.createElement('li');
    li.className = ev.type;
    li.setAttribute('data-reason', ev.reason);
    var when = document.createElement('time');
    when.dateTime = new Date(ev.at).toISOString();
    when.textContent = new Date(ev.at).toLocaleString();
    li.appendChild(when);
    li.appendChild(document.createTextNode(ev.cluster + '  ' + ev.reason + ': ' + ev.message));
    var list = document.getElementById('events');
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 500) { list.removeChild(list.lastChild); }
  }

  function text(v, digits) {
    if (v === null || v === undefined) { return '–'; }
    return typeof v === 'number' ? v.toFixed(digits || 0) : String(v);
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }

  function render() {
    var root = document.getElementById('clusters');
    var html = '';
    Object.keys(clusters).sort().forEach(function (name) {
      var c = clusters[name];
      html += '<div class="cluster"><h3>' + esc(name) + ' — primary: <span class="primary-name" data-cluster="' +
        esc(name) + '">' + esc(c.primary || 'NONE') + '</span>' +
        (c.splitView ? ' <span class="split">SPLIT VIEW: more than one primary</span>' : '') + '</h3>';
      html += '<table><tr><th>member</th><th>role</th><th>state</th><th>TL</th><th>lag bytes</th><th>QPS</th>' +
        '<th>latency ms</th><th>connections</th><th>CPU cores</th><th>memory MB</th></tr>';
      c.members.forEach(function (m) {
        var r = m.report || {};
        var load = r.load || {}, conns = r.connections || {}, res = r.resources || {};
        var state = !m.connected ? 'gone' : m.stale ? 'stale' : r.healthy ? 'running' : 'unhealthy';
        html += '<tr class="' + (r.role === 'PRIMARY' ? 'primary' : '') + '"><td>' + esc(m.member) + '</td><td>' +
          esc((r.role || '?').toLowerCase()) + '</td><td class="' + (state === 'running' ? '' : 'bad') + '" title="' +
          esc(r.reason || '') + '">' + state + '</td><td>' + text(r.timeline) + '</td><td>' + text(m.lagBytes) +
          '</td><td>' + text(load.qps, 1) + '</td><td>' + text(load.meanLatencyMs, 2) + '</td><td>' +
          text(conns.total) + '/' + text(conns.max) + '</td><td>' + text(res.cpuCores, 2) + '</td><td>' +
          (res.memoryBytes ? (res.memoryBytes / 1048576).toFixed(0) : '–') + '</td></tr>';
      });
      html += '</table>';
      var errs = errors[name] || {};
      var errLines = Object.keys(errs).sort().filter(function (m) { return errs[m].length; }).map(function (m) {
        return '<li>' + esc(m) + ': ' + errs[m].map(function (e) {
          return '<span class="bad" title="' + esc((e.user || '') + '@' + (e.database || '')) + '">' +
            esc(e.severity) + ' ' + esc(e.sqlstate || '') + '</span> ' + clock(e.time);
        }).join(', ') + '</li>';
      });
      if (errLines.length) {
        html += '<p class="meta">recent errors (last hour; <code>pgtide logs</code> shows them):</p><ul class="errors">' +
          errLines.join('') + '</ul>';
      }
      if (c.lastFailover) {
        var f = c.lastFailover;
        html += '<p class="meta">last ' + esc(f.kind) + ': ' + esc(f.from) + ' → ' + esc(f.to) + ' in ' +
          esc(f.durationMs) + ' ms at ' + esc(f.completedAt) + '</p>';
      }
      html += (charts[name] || '') + '</div>';
    });
    root.innerHTML = html || '<p class="empty">no clusters yet</p>';
  }

  connect();
}());
