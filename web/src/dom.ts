// A small element builder. Attributes go through setAttribute, text through textContent:
// no HTML strings, so no injection and nothing the CSP would refuse. There is no `style`
// attribute on purpose (CSP style-src 'self'); use classes, or element.style from code.

type Child = Node | string | number | null | undefined | false;
type Handler = (event: Event) => void;

export interface Props {
  class?: string;
  text?: string;
  on?: Partial<Record<keyof HTMLElementEventMap, Handler>>;
  [attribute: string]: string | number | boolean | undefined | Props['on'];
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (key === 'on') {
      for (const [name, handler] of Object.entries(value as NonNullable<Props['on']>)) {
        if (handler) element.addEventListener(name, handler);
      }
    } else if (key === 'text') {
      element.textContent = String(value);
    } else if (key === 'class') {
      element.className = String(value);
    } else if (key === 'style') {
      throw new Error('h(): set styles through classes (CSP style-src self)');
    } else {
      element.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number> = {},
  ...children: (SVGElement | string)[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  for (const child of children) {
    element.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

export function clear(element: Element): void {
  while (element.firstChild) element.removeChild(element.firstChild);
}

/** A status line that screen readers announce. */
export function statusLine(kind: 'info' | 'error' | 'ok' = 'info', text = ''): HTMLParagraphElement {
  return h('p', { class: `status-line ${kind}`, role: kind === 'error' ? 'alert' : 'status', text });
}

export function setStatus(line: HTMLElement, kind: 'info' | 'error' | 'ok', text: string): void {
  line.className = `status-line ${kind}`;
  line.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  line.textContent = text;
}
