// Create a connector from JSON (the body of POST /connectors) or edit one's config (the body
// of PUT /connectors/NAME/config), with the plugin's validation shown per key.

import { api, enc, h, thead, toast } from './api.js';

export function editor(name) {
  const creating = name === null;
  const text = h('textarea', { id: 'connector-json', spellcheck: 'false', rows: 20, 'aria-label': 'Connector JSON' });
  const plugin = h('select', { id: 'plugin', 'aria-label': 'Plugin', onchange: () => fromPlugin(plugin.value) },
    h('option', { value: '' }, 'Start from a plugin…'));
  const report = h('div', { class: 'report', 'aria-live': 'polite' });
  const keys = h('div', { class: 'keys' });
  const back = creating ? '#/connectors' : `#/connectors/${enc(name)}`;
  const node = h('section', { class: 'editor' },
    h('div', { class: 'toolbar' }, h('h1', {}, creating ? 'New connector' : `Edit ${name}`)),
    h('p', { class: 'muted' }, creating
      ? 'The body of POST /connectors: {"name": "...", "config": {"connector.class": "...", ...}}.'
      : `The config of ${name}, as PUT /connectors/${name}/config takes it. Hidden passwords keep their value.`),
    creating ? plugin : null,
    text,
    h('div', { class: 'buttons' },
      h('button', { type: 'button', onclick: () => validate() }, 'Validate'),
      h('button', { type: 'button', class: 'primary', onclick: () => submit() }, creating ? 'Create' : 'Save'),
      h('a', { class: 'button', href: back }, 'Cancel')),
    report,
    keys);

  /** The request body and its config map, or null after saying what is wrong. */
  function parse() {
    let body;
    try {
      body = JSON.parse(text.value);
    } catch (e) {
      show(`This is not valid JSON: ${e.message}`);
      return null;
    }
    const config = creating ? body?.config : body;
    if (!config || typeof config !== 'object' || Array.isArray(config)) {
      show(creating ? 'The JSON needs a "config" object.' : 'The config is a JSON object of keys and their values.');
      return null;
    }
    return { body, config };
  }

  /** The plugin's verdict on `config`; throws when there is none to be had. */
  async function verdict(config) {
    const connectorClass = config['connector.class'];
    if (!connectorClass) throw new Error('The config needs "connector.class", the plugin to run.');
    return api('PUT', `/connector-plugins/${enc(connectorClass)}/config/validate`, config);
  }

  async function validate() {
    const parsed = parse();
    if (!parsed) return;
    try {
      const result = await verdict(parsed.config);
      show(result.error_count ? `${result.error_count} problem(s):` : `Valid: ${result.name} accepts this config.`, result);
    } catch (e) {
      show(e.message);
    }
  }

  async function submit() {
    const parsed = parse();
    if (!parsed) return;
    try {
      const info = creating
        ? await api('POST', '/connectors', parsed.body)
        : await api('PUT', `/connectors/${enc(name)}/config`, parsed.config);
      toast(creating ? `Created ${info.name}` : `Saved ${info.name}`);
      location.hash = `#/connectors/${enc(info.name)}`;
    } catch (e) {
      // A refused config: list its problems per key, as Validate does.
      const result = e.status === 400 ? await verdict(parsed.config).catch(() => null) : null;
      show(result?.error_count ? `Not saved: ${result.error_count} problem(s):` : e.message, result);
    }
  }

  /** A message, and the keys that have errors when there is a validation result. */
  function show(message, result) {
    const bad = (result?.configs ?? []).filter((c) => c.value.errors.length);
    report.replaceChildren(
      h('p', { class: result && !result.error_count ? 'ok' : 'problem' }, message),
      bad.length ? h('table', { class: 'problems' }, thead(['Key', 'Value', 'Problem']),
        h('tbody', {}, bad.map((c) => h('tr', { 'data-key': c.value.name },
          h('td', { title: c.definition.documentation }, h('code', {}, c.value.name)),
          h('td', {}, c.value.value ?? '–'),
          h('td', {}, c.value.errors.join(' ')))))) : '');
  }

  /** A template with the plugin's required keys, keeping the name already typed. */
  async function fromPlugin(connectorClass) {
    if (!connectorClass) return;
    let current = {};
    try {
      current = JSON.parse(text.value);
    } catch {
      // Replaced whole: the template is what was asked for.
    }
    const config = { 'connector.class': connectorClass, 'tasks.max': '1' };
    const definition = await describe(connectorClass);
    const required = (definition ?? []).filter((key) => key.required);
    for (const key of required) config[key.name] = key.default_value ?? '';
    text.value = JSON.stringify({ name: current?.name ?? '', config }, null, 2);
    report.replaceChildren(h('p', { class: 'muted' }, required.length
      ? `Give the connector a name and fill in ${required.map((key) => key.name).join(', ')}; the keys are listed below.`
      : 'Give the connector a name; its keys are listed below.'));
  }

  /** Fetches a plugin's keys and shows them under the editor, for reference. */
  async function describe(connectorClass) {
    try {
      const definition = await api('GET', `/connector-plugins/${enc(connectorClass)}/config`);
      keys.replaceChildren(h('details', {},
        h('summary', {}, `Keys of ${connectorClass}`),
        h('table', {}, thead(['Key', 'Type', 'Default', 'Documentation']),
          h('tbody', {}, definition.map((key) => h('tr', {},
            h('td', {}, h('code', {}, key.name), key.required ? ' *' : ''),
            h('td', {}, key.type), h('td', {}, key.default_value ?? ''), h('td', {}, key.documentation)))))));
      return definition;
    } catch (e) {
      toast(e.message, true);
      return null;
    }
  }

  (async () => {
    try {
      if (creating) {
        const plugins = await api('GET', '/connector-plugins');
        const classes = [...new Map(plugins.map((p) => [p.class, p])).values()];
        plugin.append(...classes.map((p) => h('option', { value: p.class }, `${p.class} (${p.type} ${p.version})`)));
        text.value = JSON.stringify({ name: '', config: { 'connector.class': '', 'tasks.max': '1' } }, null, 2);
      } else {
        const config = await api('GET', `/connectors/${enc(name)}/config`);
        text.value = JSON.stringify(config, null, 2);
        describe(config['connector.class']);
      }
    } catch (e) {
      show(e.message);
    }
  })();

  return { node };
}
