// The console's entry point: a hash router (#/connectors, #/connectors/NAME,
// #/connectors/NAME/edit, #/new, #/topics, #/topics/NAME) and the 2-second status poll.

import { api, toast } from './api.js';
import { connectorList, connectorDetail } from './connectors.js';
import { editor } from './editor.js';
import { topicList, topicBrowser } from './topics.js';

const POLL_MS = 2000;

const routes = [
  [/^#\/connectors\/([^/]+)\/edit$/, 'connectors', (name) => editor(name)],
  [/^#\/connectors\/([^/]+)$/, 'connectors', (name) => connectorDetail(name)],
  [/^#\/new$/, 'connectors', () => editor(null)],
  [/^#\/topics\/([^/]+)$/, 'topics', (name) => topicBrowser(name)],
  [/^#\/topics$/, 'topics', () => topicList()],
  [/^/, 'connectors', () => connectorList()],
];

let shown = 0;

/**
 * Shows the view for the current hash. A view is `{ node, refresh? }`; its `refresh` runs
 * now and then every POLL_MS until another view replaces it.
 */
async function show() {
  const generation = ++shown;
  const [pattern, section, make] = routes.find(([p]) => p.test(location.hash));
  const args = location.hash.match(pattern).slice(1).map(decodeURIComponent);
  for (const link of document.querySelectorAll('nav a')) {
    link.classList.toggle('active', link.dataset.section === section);
  }
  const view = make(...args);
  document.getElementById('view').replaceChildren(view.node);
  // A slow answer may arrive after the user moved on: only the view still shown polls.
  while (view.refresh && generation === shown) {
    try {
      await view.refresh();
    } catch (e) {
      toast(`Cannot refresh: ${e.message}`, true);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

window.addEventListener('hashchange', show);
show();

// The version is only shown; a worker that does not answer is reported by the views.
api('GET', '/').then((info) => { document.getElementById('worker').textContent = `worker ${info.version}`; }, () => {});
