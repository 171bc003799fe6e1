import { describe } from './api';

// Building the page's parts: text only, never markup (no innerHTML), so nothing the
// API returns can become code.

const SVG_NS = 'http://www.w3.org/2000/svg';

type Attributes = Record<string, string> | null;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attributes, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (attrs) for (const name of Object.keys(attrs)) node.setAttribute(name, attrs[name]);
  if (text !== undefined) node.textContent = text;
  return node;
}

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attributes): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  if (attrs) for (const name of Object.keys(attrs)) node.setAttribute(name, attrs[name]);
  return node;
}

/** Changes the text only when it differs, so a screen reader is not told it again. */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** The error in the API's one shape, code, message and each issue with its path; null clears it. */
export function showError(target: Element, err: unknown): void {
  target.textContent = '';
  if (err === null || err === undefined) return;
  target.appendChild(document.createTextNode(describe(err)));
  const issues = (err as { issues?: unknown }).issues;
  if (Array.isArray(issues) && issues.length) {
    const list = el('ul');
    for (const issue of issues as { path?: string; message: string }[]) {
      list.appendChild(el('li', null, (issue.path ? `${issue.path}: ` : '') + issue.message));
    }
    target.appendChild(list);
  }
}

/** A colour sample beside a name. */
export function swatch(color: string): HTMLSpanElement {
  const node = el('span', { class: 'swatch', 'aria-hidden': 'true' });
  node.style.background = color;
  return node;
}
