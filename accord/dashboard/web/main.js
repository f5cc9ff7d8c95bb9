// Accord dashboard: runs, a run's step graph (cytoscape + dagre), agents and cross-chain
// messages, refreshed whenever the server's event stream says something changed.
//
// Every string that comes from a chain (agent URIs, metadata, ...) is put in the page with
// textContent or as a cytoscape label (drawn on a canvas): never parsed as HTML.
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import './style.css';

cytoscape.use(dagre);

const COLOURS = {
  Blocked: '#9aa5b1', Ready: '#3b82f6', Claimed: '#f59e0b', Submitted: '#06b6d4',
  Backoff: '#a855f7', Done: '#16a34a', Failed: '#dc2626', Skipped: '#cbd2d9',
  Cancelled: '#6b7280', Dispatched: '#0ea5e9',
};
const NARROW = 760;

const $ = (id) => document.getElementById(id);

/** An element with text content (never HTML) and attributes. */
function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  return node;
}

function badge(state) {
  return el('span', state, { class: 'badge', 'data-state': state });
}

function short(hex, n = 10) {
  return hex && hex.length > n + 2 ? `${hex.slice(0, n)}…` : (hex || '');
}

function ether(wei) {
  const w = BigInt(wei);
  const unit = 10n ** 18n;
  const whole = w / unit;
  const frac = (w % unit).toString().padStart(18, '0').replace(/0+$/, '').slice(0, 6);
  return `${whole}${frac ? `.${frac}` : ''} ETH`;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof Node) td.appendChild(c);
    else if (c && typeof c === 'object') {
      if (c.node) td.appendChild(c.node); else td.textContent = c.text ?? '';
      if (c.class) td.className = c.class;
      if (c.title) td.title = c.title;
      for (const [k, v] of Object.entries(c.data || {})) td.dataset[k] = v;
    } else td.textContent = c ?? '';
    tr.appendChild(td);
  }
  return tr;
}

function fill(tbody, rows, emptyText, columns) {
  tbody.replaceChildren(...rows);
  if (!rows.length) {
    const tr = document.createElement('tr');
    tr.appendChild(el('td', emptyText, { colspan: columns, class: 'muted' }));
    tbody.appendChild(tr);
  }
}

// -------------------------------------------------------------------- state
const state = {
  selected: null,      // "chain/id"
  runKey: null,        // the run drawn in the graph
  nodeIds: '',         // its node ids, to know when to lay out again
  offset: 0,           // chain time minus browser time (seconds), for lease countdowns
  busy: false,
  again: false,
  seen: {},            // step node id -> states seen (for tests and the curious)
};
window.accord = state;

function selectedFromHash() {
  const m = /^#run=([^/]+)\/(\d+)$/.exec(decodeURIComponent(location.hash));
  return m ? `${m[1]}/${m[2]}` : null;
}

async function getJSON(url) {
  const resp = await fetch(url, { cache: 'no-store' });
  if (resp.status === 404) return null;
  if (!resp.ok) throw new Error(`${url}: ${resp.status}`);
  return resp.json();
}

// -------------------------------------------------------------------- chains and runs
function renderChains(chains) {
  $('chains').replaceChildren(...chains.map((c) => el(
    'li', `${c.name} · block ${c.head >= 0 ? c.head : '?'}${c.online ? '' : ' · offline'}`,
    { 'data-online': c.online, 'data-chain': c.name })));
}

function renderRuns(runs) {
  $('runs-empty').hidden = runs.length > 0;
  $('runs').replaceChildren(...runs.map((r) => {
    const key = `${r.chain}/${r.id}`;
    const b = el('button', null, { type: 'button', 'data-run': key, 'data-state': r.state,
      'aria-current': key === state.selected });
    const left = el('span');
    left.append(el('strong', `${r.chain} #${r.id}`), el('br'),
      el('span', `${r.remote ? 'remote step' : (r.workflow || short(r.definition))} · ${r.done}/${r.steps} done`,
        { class: 'sub' }));
    b.append(left, badge(r.state));
    b.addEventListener('click', () => { location.hash = `run=${key}`; });
    const li = el('li');
    li.appendChild(b);
    return li;
  }));
}

// -------------------------------------------------------------------- the run graph
let cy = null;

function graph() {
  if (cy) return cy;
  cy = cytoscape({
    container: $('graph'),
    wheelSensitivity: 0.3,
    boxSelectionEnabled: false,
    style: [
      { selector: 'node', style: {
        shape: 'round-rectangle', width: 132, height: 46, 'background-color': 'data(colour)',
        label: 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'center', 'text-halign': 'center',
        color: '#fff', 'font-size': 11, 'text-max-width': 124, 'border-width': 0 } },
      { selector: 'node.remote', style: { 'border-width': 3, 'border-color': '#1f2933',
        'border-style': 'dashed' } },
      { selector: 'edge', style: { width: 2, 'line-color': '#9aa5b1', 'target-arrow-color': '#9aa5b1',
        'target-arrow-shape': 'triangle', 'curve-style': 'bezier' } },
    ],
  });
  state.cy = cy;
  return cy;
}

function layout() {
  const narrow = window.innerWidth < NARROW;
  graph().layout({ name: 'dagre', rankDir: narrow ? 'TB' : 'LR', nodeSep: 18, rankSep: 46,
    fit: true, padding: 16, animate: false }).run();
  state.narrowLayout = narrow;
}

function nodeLabel(s) {
  const agent = s.agent !== null ? ` · agent ${s.agent}` : '';
  return `${s.name}\n${s.state}${agent}`;
}

function renderGraph(run) {
  const g = graph();
  const key = `${run.chain}/${run.id}`;
  const ids = run.steps.map((s) => `s${s.index}`).join(',');
  for (const s of run.steps) {
    const id = `s${s.index}`;
    (state.seen[`${key}/${id}`] ||= []).includes(s.state) || state.seen[`${key}/${id}`].push(s.state);
  }
  if (key !== state.runKey || ids !== state.nodeIds) {
    g.elements().remove();
    g.add(run.steps.map((s) => ({ group: 'nodes', data: {
      id: `s${s.index}`, name: s.name, state: s.state, label: nodeLabel(s),
      colour: COLOURS[s.state] || '#9aa5b1', chain: s.chain },
      classes: s.chain !== run.chain ? 'remote' : '' })));
    g.add(run.steps.flatMap((s) => s.deps.map((d) => ({ group: 'edges', data: {
      id: `e${d}-${s.index}`, source: `s${d}`, target: `s${s.index}` } }))));
    state.runKey = key;
    state.nodeIds = ids;
    layout();
    return;
  }
  for (const s of run.steps) {
    g.getElementById(`s${s.index}`).data({ state: s.state, label: nodeLabel(s),
      colour: COLOURS[s.state] || '#9aa5b1' });
  }
}

function votes(s) {
  return s.quorum ? `+${s.approvals} −${s.rejections} / ${s.quorum}` : '—';
}

function renderRun(run) {
  if (!run) {
    $('run-title').textContent = 'Run';
    $('run-meta').textContent = state.selected ? `run ${state.selected} not found` : 'no run selected';
    $('steps').tBodies[0].replaceChildren();
    return;
  }
  state.offset = run.time - Date.now() / 1000;
  $('run-title').replaceChildren(el('span', `Run ${run.chain} #${run.id} `), badge(run.state));
  $('run-meta').textContent = `${run.workflow || 'workflow'} · definition ${short(run.definition, 14)}`
    + ` · escrow ${ether(run.escrow)} · ${run.messages.length} cross-chain messages`;
  renderGraph(run);
  fill($('steps').tBodies[0], run.steps.map((s) => {
    const tr = row([
      s.index, s.name, badge(s.state), s.chain, s.role,
      s.agent === null ? '—' : s.agent,
      { text: '—', class: 'lease', data: s.leaseEnd ? { leaseEnd: s.leaseEnd } : {} },
      s.settled ? `${s.attempts}` : `${s.attempts}/${s.maxAttempts}`,
      { text: s.result ? short(s.result) : '—', class: 'mono', title: s.result || '' },
      votes(s),
    ]);
    tr.dataset.step = s.name;
    tr.dataset.state = s.state;
    return tr;
  }), 'no steps', 10);
  tickLeases();
}

function tickLeases() {
  const now = Date.now() / 1000 + state.offset;
  for (const td of document.querySelectorAll('td.lease')) {
    const end = Number(td.dataset.leaseEnd || 0);
    td.textContent = end ? (end > now ? `${Math.ceil(end - now)}s left` : 'expired') : '—';
  }
}

// -------------------------------------------------------------------- agents and messages
function renderAgents(agents) {
  const now = Date.now() / 1000 + state.offset;
  fill($('agents').tBodies[0], agents.map((a) => {
    const meta = el('span');
    for (const m of a.metadata) {
      const long = /^0x[0-9a-fA-F]{40,}$/.test(m.value);  // addresses, hashes: shortened
      meta.appendChild(el('span', `${m.key}: ${long ? short(m.value, 12) : m.value}`,
        { class: 'kv', title: long ? m.value : undefined }));
    }
    const roles = el('span');
    for (const r of a.roles) roles.appendChild(el('span', `${r.role} (${ether(r.bond)})`, { class: 'kv' }));
    const live = a.liveUntil === 0 ? 'never' : a.live ? `live (${Math.max(0, Math.round((a.liveUntil - now) / 60))} min left)` : 'expired';
    const rep = a.reputation ? `${a.reputation.value} (${a.reputation.count} feedback)` : '—';
    const tr = row([a.chain, a.id, a.name || '—', { text: a.uri || '—', class: 'wrap agent-uri' },
      { node: meta, class: 'wrap agent-meta' }, { node: roles }, live, rep]);
    tr.dataset.agent = `${a.chain}/${a.id}`;
    return tr;
  }), 'no agents registered yet', 8);
}

function renderMessages(messages) {
  fill($('messages').tBodies[0], messages.map((m) => {
    const tr = row([
      { text: short(m.id, 12), class: 'mono', title: m.id },
      `${m.origin || '?'} → ${m.destination || '?'}`,
      badge(m.status),
      m.latency === null || m.latency === undefined ? '—' : `${m.latency}s`,
      m.signers || '—',
      { text: m.label || '—', class: 'wrap' },
    ]);
    tr.dataset.message = m.id;
    tr.dataset.status = m.status;
    return tr;
  }), 'no cross-chain messages yet', 6);
}

// -------------------------------------------------------------------- refresh loop
async function refresh() {
  if (state.busy) { state.again = true; return; }
  state.busy = true;
  try {
    const [chains, runs, agents, messages] = await Promise.all([
      getJSON('/api/chains'), getJSON('/api/runs'), getJSON('/api/agents'), getJSON('/api/messages')]);
    renderChains(chains);
    // Default: the newest run started by a user (runs opened by a router for a remote step
    // are listed too, marked "remote step").
    const first = runs.find((r) => !r.remote) || runs[0];
    state.selected = selectedFromHash() || state.selected || (first ? `${first.chain}/${first.id}` : null);
    renderRuns(runs);
    let run = null;
    if (state.selected) {
      const [chain, id] = state.selected.split('/');
      run = await getJSON(`/api/runs/${encodeURIComponent(chain)}/${id}`);
    }
    renderRun(run);
    renderAgents(agents);
    renderMessages(messages);
    state.updated = Date.now();
  } catch (err) {
    console.warn('refresh failed', err);
  } finally {
    state.busy = false;
    if (state.again) { state.again = false; refresh(); }
  }
}

function legend() {
  $('legend').replaceChildren(...Object.entries(COLOURS).map(([name, colour]) => {
    const li = el('li', name);
    li.style.setProperty('--swatch', colour);
    return li;
  }), el('li', 'dashed border: runs on another chain', { class: 'remote-note' }));
}

function connect() {
  const live = $('live');
  const events = new EventSource('/api/events');
  events.addEventListener('changed', () => {
    live.dataset.live = 'live';
    live.textContent = 'live';
    refresh();
  });
  events.onerror = () => {
    live.dataset.live = 'reconnecting';
    live.textContent = 'reconnecting…';
  };
}

window.addEventListener('hashchange', () => { state.selected = selectedFromHash(); refresh(); });
window.addEventListener('resize', () => {
  if (cy && state.narrowLayout !== (window.innerWidth < NARROW)) layout();
  else if (cy) cy.fit(undefined, 16);
});
setInterval(tickLeases, 1000);
legend();
connect();
