// Connectors: the list with states and throughput, and one connector's tasks, traces, topics
// and config. Both poll; the actions call the REST API and refresh at once.

import { api, attempt, badge, enc, h, number, thead, update } from './api.js';

/** The last sample of records written per connector, turned into records per second. */
const samples = new Map();

/**
 * Read and written summed over the tasks, and the lag: a sink's is its consumer group's, so
 * the same for each task; a source's is what each task has still to read, so it adds up.
 */
function totals(status) {
  const tasks = status?.tasks ?? [];
  const sum = (field) => tasks.reduce((n, task) => n + (task.progress?.[field] ?? 0), 0);
  const lags = tasks.map((task) => task.progress?.lag).filter((lag) => typeof lag === 'number');
  const lag = !lags.length ? null : status.type === 'source' ? lags.reduce((a, b) => a + b, 0) : Math.max(...lags);
  return { read: sum('records_read'), written: sum('records_written'), lag };
}

/**
 * A task's lag; for a source still reading a snapshot, with a bar of the records read
 * against those read and still to read.
 */
function lagCell(type, progress) {
  const lag = progress?.lag;
  if (type !== 'source' || !(lag > 0)) return h('td', { class: 'num' }, number(lag));
  const read = progress.records_read ?? 0;
  const title = `${number(read)} read, ${number(lag)} still to read`;
  return h('td', { class: 'num snapshot', title },
    h('progress', { value: read, max: read + lag }), ' ', number(lag));
}

/** Records written per second since the previous sample at least a second old. */
function throughput(name, written) {
  const now = performance.now();
  const last = samples.get(name);
  // The counters start again with a new worker or a recreated connector.
  if (!last || written < last.written) {
    samples.set(name, { now, written, rate: null });
    return null;
  }
  if (now - last.now < 1000) return last.rate;
  const rate = ((written - last.written) * 1000) / (now - last.now);
  samples.set(name, { now, written, rate });
  return rate;
}

function perSecond(rate) {
  return rate === null ? '–' : `${rate.toFixed(rate < 10 ? 1 : 0)}/s`;
}

/** `io.confluent.connect.jdbc.JdbcSourceConnector` → `JdbcSourceConnector`. */
function shortClass(name) {
  return (name ?? '').split('.').pop();
}

/** Connector and task traces: [who, trace]. */
function failures(status) {
  const found = [];
  if (status?.connector?.trace) found.push(['connector', status.connector.trace]);
  for (const task of status?.tasks ?? []) {
    if (task.trace) found.push([`task ${task.id}`, task.trace]);
  }
  return found;
}

/**
 * A trace under its connector's row: its first line whole (for a failure the host knows,
 * what to do about it), then the start of the rest.
 */
function summary(trace) {
  const [first, ...rest] = trace.split('\n');
  const text = rest.join(' ').replace(/\s+/g, ' ').trim();
  return [h('strong', {}, first), ' ', text.length > 200 ? `${text.slice(0, 200)}…` : text];
}

/** Pause or Resume, Restart, Edit and Delete; `done` runs after an action succeeded. */
function actions(name, state, done, deleted) {
  const path = `/connectors/${enc(name)}`;
  const call = (label, method, suffix, message) =>
    h('button', { type: 'button', onclick: async () => (await attempt(() => api(method, path + suffix), message)) && done() }, label);
  const paused = state === 'PAUSED' || state === 'STOPPED';
  const remove = async () => {
    if (!confirm(`Delete connector ${name}? Its tasks stop.`)) return;
    if (await attempt(() => api('DELETE', path), `Deleted ${name}`)) deleted();
  };
  return h('span', { class: 'actions' },
    paused ? call('Resume', 'PUT', '/resume', `Resuming ${name}`) : call('Pause', 'PUT', '/pause', `Pausing ${name}`),
    call('Restart', 'POST', '/restart?includeTasks=true&onlyFailed=false', `Restarting ${name} and its tasks`),
    h('a', { class: 'button', href: `#${path}/edit` }, 'Edit'),
    h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete'));
}

export function connectorList() {
  const body = h('tbody');
  const empty = h('p', { class: 'empty', hidden: true }, 'No connectors yet. ', h('a', { href: '#/new' }, 'Create one'), '.');
  const node = h('section', {},
    h('div', { class: 'toolbar' }, h('h1', {}, 'Connectors'), h('a', { class: 'button primary', href: '#/new' }, 'New connector')),
    h('table', { class: 'connectors' },
      thead(['Name', 'Type', 'Plugin', 'State', 'Tasks', 'Read', 'Written', 'Throughput', 'Lag', '']), body),
    empty);
  const refresh = async () => {
    const connectors = await api('GET', '/connectors?expand=status&expand=info');
    const names = Object.keys(connectors);
    empty.hidden = names.length > 0;
    body.replaceChildren(...names.flatMap((name) => rows(name, connectors[name], refresh)));
  };
  return { node, refresh };
}

function rows(name, { status, info }, refresh) {
  const sums = totals(status);
  const state = status?.connector?.state;
  const link = `#/connectors/${enc(name)}`;
  const row = h('tr', { 'data-connector': name },
    h('td', {}, h('a', { href: link }, name)),
    h('td', {}, status?.type ?? info?.type),
    h('td', { title: info?.config?.['connector.class'] }, shortClass(info?.config?.['connector.class'])),
    h('td', { class: 'connector-state' }, badge(state)),
    h('td', { class: 'task-states' }, (status?.tasks ?? []).map((task) => badge(task.state, `task ${task.id}`))),
    h('td', { class: 'num' }, number(sums.read)),
    h('td', { class: 'num' }, number(sums.written)),
    h('td', { class: 'num' }, perSecond(throughput(name, sums.written))),
    h('td', { class: 'num', title: status?.type === 'source' ? 'records still to read' : 'records not yet committed' }, number(sums.lag)),
    h('td', {}, actions(name, state, refresh, refresh)));
  // The start of each trace under the row; the connector's page has them whole.
  const traces = failures(status).map(([who, trace]) =>
    h('tr', { class: 'failure', 'data-connector': name },
      h('td', { colspan: 10, title: trace }, h('a', { href: link }, `${who}: `), summary(trace))));
  return [row, ...traces];
}

export function connectorDetail(name) {
  const path = `/connectors/${enc(name)}`;
  const title = h('div', { class: 'toolbar' });
  const tasks = h('tbody');
  const traces = h('div', { class: 'traces' });
  const topics = h('p');
  const config = h('pre', { class: 'config' });
  const content = h('div', {},
    title,
    h('h2', {}, 'Tasks'),
    h('table', { class: 'tasks' }, thead(['Task', 'State', 'Worker', 'Read', 'Written', 'Lag']), tasks),
    traces,
    h('h2', {}, 'Topics'), topics,
    h('h2', {}, 'Config'), config);
  const missing = h('p', { class: 'empty', hidden: true }, `There is no connector ${name}. `, h('a', { href: '#/connectors' }, 'All connectors'));
  const node = h('section', { class: 'detail' }, content, missing);
  const refresh = async () => {
    let status, info, used;
    try {
      [status, info, used] = await Promise.all([api('GET', `${path}/status`), api('GET', path), api('GET', `${path}/topics`)]);
    } catch (e) {
      if (e.status !== 404) throw e;
      [content.hidden, missing.hidden] = [true, false];
      return;
    }
    [content.hidden, missing.hidden] = [false, true];
    const state = status.connector.state;
    update(title, [state, status.type, info.config['connector.class'], status.connector.worker_id], () => [
      h('h1', {}, name, ' ', badge(state)),
      h('span', { class: 'muted' }, `${status.type} · ${info.config['connector.class']} · worker ${status.connector.worker_id}`),
      actions(name, state, refresh, () => { location.hash = '#/connectors'; }),
    ]);
    tasks.replaceChildren(...status.tasks.map((task) => h('tr', { 'data-task': task.id },
      h('td', {}, task.id), h('td', {}, badge(task.state)), h('td', {}, task.worker_id),
      h('td', { class: 'num' }, number(task.progress?.records_read)),
      h('td', { class: 'num' }, number(task.progress?.records_written)),
      lagCell(status.type, task.progress))));
    // Replaced only when they change, so a trace being selected for copying stays selected.
    const found = failures(status);
    update(traces, found, () => found.map(([who, trace]) => h('figure', { class: 'trace' },
      h('figcaption', {}, `Trace of the ${who}`), h('pre', {}, trace))));
    const names = used[name]?.topics ?? [];
    update(topics, names, () => names.length
      ? names.map((topic) => [h('a', { class: 'topic', href: `#/topics/${enc(topic)}` }, topic), ' '])
      : 'None yet.');
    update(config, info.config, () => JSON.stringify(info.config, null, 2));
  };
  return { node, refresh };
}
