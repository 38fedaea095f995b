// The REST API client and the few DOM helpers every view shares.

// The page is served at <worker>/ui/, so the API is one level up (also behind a proxy that
// adds a path prefix).
const base = new URL('..', location.href);

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// With rest.auth=tenants the API wants a bearer token: asked for once, kept for the tab.
const TOKEN_KEY = 'wasmconnect-token';
let askedForToken = false;

/** Calls the worker; an error answer ({"error_code":N,"message":"..."}) throws an ApiError. */
export async function api(method, path, body) {
  const init = { method, headers: {} };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(new URL(path.replace(/^\//, ''), base), init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (response.status === 401 && !askedForToken) {
    askedForToken = true;
    const entered = window.prompt(`${data?.message ?? 'This worker needs a token.'}\nToken:`);
    if (entered && entered.trim()) {
      sessionStorage.setItem(TOKEN_KEY, entered.trim());
      return api(method, path, body);
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.message ?? `${response.status} ${response.statusText}`);
  }
  return data;
}

export const enc = encodeURIComponent;

/** An element with attributes (`on*` ones are listeners) and children (text, nodes, arrays). */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A connector or task state as a coloured label. */
export function badge(state, title) {
  return h('span', { class: `state state-${(state || 'unknown').toLowerCase()}`, title }, state || 'UNKNOWN');
}

export function thead(columns) {
  return h('thead', {}, h('tr', {}, columns.map((column) => h('th', {}, column))));
}

const shownData = new WeakMap();

/** Replaces `element`'s children with `build()` only when `data` differs from last time. */
export function update(element, data, build) {
  const key = JSON.stringify(data);
  if (shownData.get(element) === key) return;
  shownData.set(element, key);
  element.replaceChildren(...[build()].flat(Infinity));
}

let toastTimer;

/** A short message at the bottom of the page; errors stay longer. */
export function toast(message, error = false) {
  const box = document.getElementById('toast');
  box.textContent = message;
  box.className = error ? 'shown error' : 'shown';
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.className = ''; }, error ? 8000 : 3000);
}

/** Runs `action`, reporting success or the API's error message as a toast; true if it worked. */
export async function attempt(action, success) {
  try {
    await action();
    if (success) toast(success);
    return true;
  } catch (e) {
    toast(e.message, true);
    return false;
  }
}

export function number(n) {
  return n === undefined || n === null ? '–' : n.toLocaleString('en');
}
