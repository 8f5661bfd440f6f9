// A jsdom document for the React Testing Library tests, installed as globals before React DOM
// loads (imported first by a test, or as a vitest setup file). Not vitest's `jsdom` environment: that replaces Node's globals
// (Uint8Array among them) with the window's, and the stack the tests run in the same process
// (NATS, PostgreSQL clients) then breaks; here only the DOM's names are added. Updates arrive
// from the network as in an app, outside act(); React Testing Library turns act's checks on
// only around its own render and act calls.
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/' });
const DOM_GLOBALS = ['window', 'document', 'navigator', 'Node', 'Element', 'HTMLElement', 'Text', 'DocumentFragment', 'MutationObserver', 'getComputedStyle', 'Event', 'CustomEvent', 'requestAnimationFrame', 'cancelAnimationFrame'] as const;

const source = dom.window as unknown as Record<string, unknown>;
for (const name of DOM_GLOBALS) {
  const value = name === 'window' ? dom.window : source[name];
  Object.defineProperty(globalThis, name, { value: typeof value === 'function' && !/^[A-Z]/.test(name) ? (value as () => unknown).bind(dom.window) : value, configurable: true, writable: true });
}
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
