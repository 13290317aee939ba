// The pgtide dashboard: a raw WebSocket to the operator's SockJS event-bus bridge (read-only), no libraries.
(function () {
  'use strict';
  var HISTORY = 120; // samples kept per member for the sparklines (about two minutes)
  var history = {};
  var clusters = {};

  function connect() {
    var proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var ws = new WebSocket(proto + location.host + '/eventbus/websocket');
    ws.binaryType = 'arraybuffer'; // the raw SockJS transport sends binary frames
    var decoder = new TextDecoder();
    ws.onopen = function () {
      setConnection(true);
      loadHistory();
      ws.send(JSON.stringify({type: 'register', address: 'pgtide.cluster-state'}));
      ws.send(JSON.stringify({type: 'register', address: 'pgtide.cluster-events'}));
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
    clusters[state.cluster] = state;
    state.members.forEach(function (m) {
      var key = state.cluster + '/' + m.member;
      var h = history[key] || (history[key] = []);
      var load = m.report && m.report.load ? m.report.load : {};
      h.push({qps: load.qps || 0, lag: m.lagBytes || 0});
      if (h.length > HISTORY) { h.shift(); }
    });
    render();
  }

  // what happened before the page was opened (or reconnected): the operator keeps the last events
  function loadHistory() {
    fetch('/api/events').then(function (r) { return r.json(); }).then(function (events) {
      document.getElementById('events').innerHTML = '';
      events.forEach(onEvent);
    }).catch(function () { /* live events still arrive */ });
  }

  function onEvent(ev) {
    var li = document.createElement('li');
    li.className = ev.type;
    li.textContent = new Date(ev.at).toLocaleTimeString() + '  ' + ev.cluster + '  ' + ev.reason + ': ' + ev.message;
    var list = document.getElementById('events');
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 200) { list.removeChild(list.lastChild); }
  }

  function text(v, digits) {
    if (v === null || v === undefined) { return '–'; }
    return typeof v === 'number' ? v.toFixed(digits || 0) : String(v);
  }

  function spark(points) {
    var w = 120, h = 22;
    var max = Math.max.apply(null, points.concat([1]));
    var d = points.map(function (p, i) {
      return (i === 0 ? 'M' : 'L') + (i * w / Math.max(1, HISTORY - 1)).toFixed(1) + ' ' + (h - p / max * h).toFixed(1);
    }).join(' ');
    return '<svg class="spark" width="' + w + '" height="' + h + '"><path d="' + d +
      '" fill="none" stroke="#1864ab" stroke-width="1.5"/></svg>';
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
        '<th>latency ms</th><th>connections</th><th>CPU cores</th><th>memory MB</th><th>QPS, last minutes</th></tr>';
      c.members.forEach(function (m) {
        var r = m.report || {};
        var load = r.load || {}, conns = r.connections || {}, res = r.resources || {};
        var state = !m.connected ? 'gone' : m.stale ? 'stale' : r.healthy ? 'running' : 'unhealthy';
        var points = (history[name + '/' + m.member] || []).map(function (p) { return p.qps; });
        html += '<tr class="' + (r.role === 'PRIMARY' ? 'primary' : '') + '"><td>' + esc(m.member) + '</td><td>' +
          esc((r.role || '?').toLowerCase()) + '</td><td class="' + (state === 'running' ? '' : 'bad') + '" title="' +
          esc(r.reason || '') + '">' + state + '</td><td>' + text(r.timeline) + '</td><td>' + text(m.lagBytes) +
          '</td><td>' + text(load.qps, 1) + '</td><td>' + text(load.meanLatencyMs, 2) + '</td><td>' +
          text(conns.total) + '/' + text(conns.max) + '</td><td>' + text(res.cpuCores, 2) + '</td><td>' +
          (res.memoryBytes ? (res.memoryBytes / 1048576).toFixed(0) : '–') + '</td><td>' + spark(points) +
          '</td></tr>';
      });
      html += '</table>';
      if (c.lastFailover) {
        var f = c.lastFailover;
        html += '<p class="meta">last ' + esc(f.kind) + ': ' + esc(f.from) + ' → ' + esc(f.to) + ' in ' +
          esc(f.durationMs) + ' ms at ' + esc(f.completedAt) + '</p>';
      }
      html += '</div>';
    });
    root.innerHTML = html || '<p class="empty">no clusters yet</p>';
  }

  connect();
}());
