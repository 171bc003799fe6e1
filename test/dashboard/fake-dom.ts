import dashboardScript from '../../src/admin/dashboard/client-bundle.js';
import { DashboardPage } from '../../src/admin/dashboard/page';

// Just enough of a browser to run the dashboard's script (the bundle the Worker serves,
// built by vitest.config.ts) in Node: the elements of the real page (by id, with their
// `hidden` state), the DOM calls the script makes, a sessionStorage, a fetch answered
// by the test, and timers that fire only when the test says. What Chromium does with
// it is the browser test's part.

type Listener = (event: unknown) => void;

export class FakeText {
  readonly nodeType = 3;
  parentNode: FakeElement | null = null;
  constructor(public textContent: string) {}
  remove() {
    this.parentNode?.removeChild(this);
  }
}

type FakeNode = FakeElement | FakeText;

export class FakeElement {
  readonly nodeType = 1;
  parentNode: FakeElement | null = null;
  childNodes: FakeNode[] = [];
  attributes = new Map<string, string>();
  hidden = false;
  disabled = false;
  title = '';
  style: Record<string, string> = {};
  dataset: Record<string, string> = {};
  listeners = new Map<string, Listener[]>();
  #value: string | undefined;

  constructor(
    readonly document: FakeDocument,
    readonly tagName: string,
  ) {}

  get value(): string {
    if (this.#value !== undefined) return this.#value;
    // A select shows its first option until one is chosen.
    if (this.tagName === 'select') return this.children[0]?.getAttribute('value') ?? '';
    return '';
  }
  set value(value: string) {
    this.#value = value;
  }

  get children(): FakeElement[] {
    return this.childNodes.filter((node): node is FakeElement => node instanceof FakeElement);
  }
  get lastChild(): FakeNode | null {
    return this.childNodes.at(-1) ?? null;
  }
  get textContent(): string {
    return this.childNodes.map((node) => node.textContent).join('');
  }
  set textContent(text: string) {
    for (const node of this.childNodes) node.parentNode = null;
    this.childNodes = [];
    if (text !== '') this.appendChild(new FakeText(text));
  }
  get className(): string {
    return this.attributes.get('class') ?? '';
  }
  set className(value: string) {
    this.attributes.set('class', value);
  }
  get classList() {
    const classes = () => new Set(this.className.split(/\s+/).filter(Boolean));
    const write = (set: Set<string>) => (this.className = [...set].join(' '));
    return {
      contains: (name: string) => classes().has(name),
      add: (name: string) => write(classes().add(name)),
      remove: (name: string) => {
        const set = classes();
        set.delete(name);
        write(set);
      },
      toggle: (name: string, on?: boolean) => {
        const set = classes();
        if (on ?? !set.has(name)) set.add(name);
        else set.delete(name);
        write(set);
      },
    };
  }

  setAttribute(name: string, value: unknown) {
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  append(...nodes: (FakeNode | string)[]) {
    for (const node of nodes) this.appendChild(typeof node === 'string' ? new FakeText(node) : node);
  }
  appendChild<T extends FakeNode>(node: T): T {
    node.remove();
    node.parentNode = this;
    this.childNodes.push(node);
    return node;
  }
  insertBefore<T extends FakeNode>(node: T, before: FakeNode | null): T {
    if (before === null) return this.appendChild(node);
    node.remove();
    node.parentNode = this;
    this.childNodes.splice(this.childNodes.indexOf(before), 0, node);
    return node;
  }
  removeChild(node: FakeNode) {
    const at = this.childNodes.indexOf(node);
    if (at >= 0) this.childNodes.splice(at, 1);
    node.parentNode = null;
  }
  remove() {
    this.parentNode?.removeChild(this);
  }
  addEventListener(type: string, listener: Listener) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  focus() {
    this.document.activeElement = this;
  }
  /** A click as a user makes one: nothing happens on a disabled or hidden button. */
  click() {
    if (this.disabled || this.hidden) throw new Error(`<${this.tagName}> is ${this.disabled ? 'disabled' : 'hidden'}`);
    for (const listener of this.listeners.get('click') ?? []) listener({ type: 'click', target: this, preventDefault() {} });
  }

  /** Every element below this one whose data-testid is `testid`, in document order. */
  allByTestId(testid: string): FakeElement[] {
    return this.children.flatMap((child) => [...(child.getAttribute('data-testid') === testid ? [child] : []), ...child.allByTestId(testid)]);
  }
  byTestId(testid: string): FakeElement {
    const found = this.allByTestId(testid);
    if (found.length !== 1) throw new Error(`${found.length} elements with data-testid="${testid}"`);
    return found[0];
  }
}

export class FakeDocument {
  hidden = false;
  activeElement: FakeElement | null = null;
  readonly body = new FakeElement(this, 'body');
  readonly #byId = new Map<string, FakeElement>();
  listeners = new Map<string, Listener[]>();

  /** The page's elements that carry an id, as the page renders them (tag, attributes, hidden), without their content. */
  constructor(html: string) {
    for (const match of html.matchAll(/<([a-z0-9]+)\b([^>]*)>/g)) {
      const [, tag, attrs] = match;
      const id = /\sid="([^"]+)"/.exec(attrs)?.[1];
      if (id === undefined) continue;
      const element = new FakeElement(this, tag);
      for (const [, name, value] of attrs.matchAll(/\s([a-z][\w-]*)(?:="([^"]*)")?/g)) {
        if (name === 'hidden') element.hidden = true;
        else element.setAttribute(name, value ?? '');
      }
      this.#byId.set(id, element);
      this.body.appendChild(element);
    }
  }

  getElementById(id: string): FakeElement | null {
    return this.#byId.get(id) ?? null;
  }
  createElement(tag: string) {
    return new FakeElement(this, tag);
  }
  createElementNS(_ns: string, tag: string) {
    return new FakeElement(this, tag);
  }
  createTextNode(text: string) {
    return new FakeText(text);
  }
  addEventListener(type: string, listener: Listener) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
}

/** One call the script made to the admin API. */
export interface FakeCall {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/**
 * The admin API as the test wants it: path (without /__lb/api and query) → JSON body,
 * or a function of the call that returns the body or a whole Response.
 */
export type FakeApi = Record<string, unknown>;

/**
 * Runs the dashboard script on the real page's elements, signed in with `token`.
 * `tick()` fires the pending poll timer, as 2 s passing would.
 */
export function runDashboard(api: FakeApi, token = 'test-token') {
  const html = DashboardPage({})!.toString();
  if (typeof html !== 'string') throw new Error('the page rendered asynchronously');
  const document = new FakeDocument(html);
  const storage = new Map<string, string>([['switchyard.adminToken', token]]);
  const sessionStorage = {
    getItem: (name: string) => storage.get(name) ?? null,
    setItem: (name: string, value: string) => void storage.set(name, value),
    removeItem: (name: string) => void storage.delete(name),
  };
  const requests: string[] = [];
  const calls: FakeCall[] = [];
  const fetch = async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    requests.push(`${init.method ?? 'GET'} ${url}`);
    const path = new URL(url, 'http://dashboard.test').pathname.replace(/^\/__lb\/api/, '');
    const call = { method: init.method ?? 'GET', path, authorization: init.headers?.authorization, body: init.body === undefined ? undefined : JSON.parse(init.body) };
    calls.push(call);
    if (!(path in api)) return Response.json({ error: { code: 'not_found', message: `no ${path}` } }, { status: 404 });
    const answer = typeof api[path] === 'function' ? (api[path] as (call: FakeCall) => unknown)(call) : api[path];
    return answer instanceof Response ? answer : Response.json(answer);
  };
  const timers = new Map<number, () => void>();
  let nextTimer = 1;
  const setTimeout = (callback: () => void) => {
    timers.set(nextTimer, callback);
    return nextTimer++;
  };
  const clearTimeout = (id: number) => void timers.delete(id);
  new Function('document', 'sessionStorage', 'fetch', 'setTimeout', 'clearTimeout', dashboardScript)(
    document,
    sessionStorage,
    fetch,
    setTimeout,
    clearTimeout,
  );
  return {
    document,
    requests,
    calls,
    /** Runs the timers due now (the next poll). */
    tick() {
      const due = [...timers.values()];
      timers.clear();
      for (const callback of due) callback();
    },
    /** The one element of the page with this data-testid. */
    byTestId(testid: string): FakeElement {
      return document.body.byTestId(testid);
    },
    byId(id: string): FakeElement {
      const element = document.getElementById(id);
      if (element === null) throw new Error(`the page has no #${id}`);
      return element;
    },
  };
}
