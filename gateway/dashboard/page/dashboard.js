// The dashboard: one EventSource on /events; a snapshot, then changes every half second.
// Devices are kept in a Map and only the visible page is drawn, so 5,000 rows stay cheap.
'use strict';
const PAGE_SIZE = 50;
const devices = new Map(); // id -> [id, model, online, connections, lastSeen, rate, lastRefusal]
let totals = [];
let deadLetters = [];
let commands = [];
let page = 0;
const $ = (id) => document.getElementById(id);

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function ago(ms, now) {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : new Date(ms).toLocaleString();
}

const time = (ms) => new Date(ms).toLocaleTimeString();

function renderFleet() {
  const now = Date.now();
  const filter = $('filter').value.trim().toLowerCase();
  const rows = [...devices.values()].filter((d) => !filter || d[0].toLowerCase().includes(filter));
  rows.sort((a, b) => b[4] - a[4] || (a[0] < b[0] ? -1 : 1));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  page = Math.min(page, pages - 1);
  const body = $('devices');
  body.replaceChildren(
    ...rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map((d) => {
      const tr = document.createElement('tr');
      tr.dataset.device = d[0];
      tr.append(cell(d[0]), cell(d[1]), cell(d[2] ? 'online' : 'offline', d[2] ? 'online' : 'offline'), cell(String(d[3])), cell(ago(d[4], now)), cell(String(d[5])), cell(d[6] || '–'));
      return tr;
    }),
  );
  const online = [...devices.values()].filter((d) => d[2]).length;
  $('fleet-count').textContent = `${devices.size} devices, ${online} online${filter ? `, ${rows.length} match` : ''}`;
  $('page').textContent = `page ${page + 1} of ${pages}`;
  $('prev').disabled = page === 0;
  $('next').disabled = page >= pages - 1;
}

function chart(id, values) {
  const svg = $(id);
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? 300 / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(40 - (v / max) * 38).toFixed(1)}`).join(' ');
  let line = svg.querySelector('polyline');
  if (!line) svg.append((line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline')));
  line.setAttribute('points', points);
}

function renderTotals() {
  const last = totals[totals.length - 1];
  if (!last) return;
  const recent = totals.slice(-300); // the last five minutes
  $('t-readings').textContent = String(last[1]);
  $('t-refusals').textContent = String(last[2]);
  $('t-p99').textContent = last[3] === null ? 'no acks' : last[3] < 0 ? '> 5 s' : `≤ ${last[3]} ms`;
  $('t-mqtt').textContent = String(last[4]);
  chart('c-readings', recent.map((s) => s[1]));
  chart('c-refusals', recent.map((s) => s[2]));
  chart('c-p99', recent.map((s) => (s[3] === null ? 0 : s[3] < 0 ? 5000 : s[3])));
  chart('c-mqtt', recent.map((s) => s[4]));
}

function renderEvents() {
  $('deadletters').replaceChildren(
    ...deadLetters.slice().reverse().map((e) => {
      const tr = document.createElement('tr');
      tr.append(cell(time(e.at)), cell(e.device), cell(e.code), cell(e.path || '–'), cell(e.message, 'message'));
      return tr;
    }),
  );
  $('commands').replaceChildren(
    ...commands.slice().reverse().map((e) => {
      const tr = document.createElement('tr');
      tr.dataset.command = e.id;
      tr.append(cell(time(e.at)), cell(e.device), cell(e.id), cell(e.code ? `${e.status} (${e.code})` : e.status));
      return tr;
    }),
  );
}

const keep = (list, more, n) => list.concat(more).slice(-n);

function apply(data, snapshot) {
  if (snapshot) {
    devices.clear();
    totals = [];
    deadLetters = [];
    commands = [];
  }
  for (const row of data.devices) devices.set(row[0], row);
  if (data.totals) totals = keep(totals, data.totals, 600);
  deadLetters = keep(deadLetters, data.deadLetters, 50);
  commands = keep(commands, data.commands, 50);
  renderFleet();
  renderTotals();
  renderEvents();
}

function connect() {
  const feed = new EventSource('events');
  feed.addEventListener('snapshot', (e) => {
    $('feed-status').textContent = 'live';
    apply(JSON.parse(e.data), true);
  });
  feed.addEventListener('changes', (e) => apply(JSON.parse(e.data), false));
  // EventSource reconnects by itself and the gateway then sends a fresh snapshot.
  feed.onerror = () => ($('feed-status').textContent = 'reconnecting…');
}

$('filter').addEventListener('input', () => {
  page = 0;
  renderFleet();
});
$('prev').addEventListener('click', () => {
  page = Math.max(0, page - 1);
  renderFleet();
});
$('next').addEventListener('click', () => {
  page += 1;
  renderFleet();
});
setInterval(renderFleet, 1000); // "last seen" keeps counting between changes
connect();
