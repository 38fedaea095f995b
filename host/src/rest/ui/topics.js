// Topics: the list with partitions and end offsets, and a record browser over one partition.

import { api, enc, h, number, thead, toast } from './api.js';

export function topicList() {
  const body = h('tbody');
  const node = h('section', {},
    h('div', { class: 'toolbar' }, h('h1', {}, 'Topics')),
    h('table', { class: 'topics' }, thead(['Topic', 'Partitions', 'End offsets']), body));
  const refresh = async () => {
    const names = await api('GET', '/topics');
    // A topic may go between the list and its description: it is then left out.
    const described = await Promise.all(names.map((name) => api('GET', `/topics/${enc(name)}`).catch(() => null)));
    body.replaceChildren(...described.filter(Boolean).map((topic) => h('tr', { 'data-topic': topic.name },
      h('td', {}, h('a', { href: `#/topics/${enc(topic.name)}` }, topic.name)),
      h('td', { class: 'num' }, topic.end_offsets.length),
      h('td', { class: 'num' }, topic.end_offsets.map(number).join(', ')))));
  };
  return { node, refresh };
}

/** A value as one line, and in full when clicked; a JsonConverter envelope shows its payload. */
function valueCell(text, kind) {
  if (text === null || text === undefined) return h('td', { class: `${kind} null` }, 'null');
  let short = text;
  let full = text;
  try {
    const parsed = JSON.parse(text);
    full = JSON.stringify(parsed, null, 2);
    const envelope = parsed && typeof parsed === 'object' && 'schema' in parsed && 'payload' in parsed;
    short = JSON.stringify(envelope ? parsed.payload : parsed);
  } catch {
    // Not JSON: shown as it is.
  }
  const pre = h('pre', { class: 'text', title: 'Click to show all of it' }, short);
  pre.addEventListener('click', () => {
    const expanded = pre.classList.toggle('expanded');
    pre.textContent = expanded ? full : short;
  });
  return h('td', { class: kind }, pre);
}

function time(timestamp) {
  return timestamp === undefined ? '–' : new Date(timestamp).toISOString().replace('T', ' ').slice(0, 23);
}

export function topicBrowser(topic) {
  const path = `/topics/${enc(topic)}`;
  let ends = [0];
  const partition = h('select', { 'aria-label': 'Partition', onchange: () => read(0) }, h('option', { value: 0 }, '0'));
  const offset = h('input', { type: 'number', min: 0, value: 0, 'aria-label': 'Offset' });
  const max = h('select', { 'aria-label': 'Records per page', onchange: () => read(Number(offset.value)) },
    [20, 50, 200].map((n) => h('option', { value: n }, `${n} per page`)));
  const end = h('span', { class: 'muted' });
  const body = h('tbody');
  const empty = h('p', { class: 'empty', hidden: true }, 'No records from this offset.');
  const step = (direction) => read(Number(offset.value) + direction * Number(max.value));
  const node = h('section', { class: 'browser' },
    h('div', { class: 'toolbar' }, h('h1', {}, topic), end),
    h('div', { class: 'buttons' },
      h('label', {}, 'Partition ', partition),
      h('label', {}, 'Offset ', offset),
      max,
      h('button', { type: 'button', onclick: () => read(Number(offset.value)) }, 'Read'),
      h('button', { type: 'button', onclick: () => read(0) }, 'Oldest'),
      h('button', { type: 'button', onclick: () => step(-1) }, '← Previous'),
      h('button', { type: 'button', onclick: () => step(1) }, 'Next →'),
      h('button', { type: 'button', onclick: () => read(ends[partition.value] - Number(max.value)) }, 'Newest')),
    h('table', { class: 'records' }, thead(['Offset', 'Timestamp', 'Key', 'Value', 'Headers']), body),
    empty);

  async function read(from) {
    const start = Math.max(0, Math.trunc(from) || 0);
    offset.value = start;
    let records;
    try {
      records = await api('GET', `${path}/records?partition=${partition.value}&offset=${start}&max=${max.value}`);
    } catch (e) {
      records = [];
      toast(e.message, true);
    }
    empty.hidden = records.length > 0;
    body.replaceChildren(...records.map((record) => h('tr', { 'data-offset': record.offset },
      h('td', {}, record.offset),
      h('td', {}, time(record.timestamp)),
      valueCell(record.key, 'key'),
      valueCell(record.value, 'value'),
      h('td', {}, (record.headers ?? []).map(([key, value]) => h('div', {}, h('code', {}, key), ' ', value ?? 'null'))))));
  }

  let first = true;
  /** Polls only the end offsets: the page of records stays as it was read. */
  const refresh = async () => {
    let description;
    try {
      description = await api('GET', path);
    } catch (e) {
      if (e.status !== 404) throw e;
      end.textContent = `there is no topic ${topic}`;
      return;
    }
    ends = description.end_offsets;
    if (partition.options.length !== ends.length) {
      partition.replaceChildren(...ends.map((_, p) => h('option', { value: p }, String(p))));
    }
    end.textContent = `end offset ${number(ends[partition.value])} of partition ${partition.value}`;
    if (first) {
      first = false;
      await read(0);
    }
  };
  return { node, refresh };
}
