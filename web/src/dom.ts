/** Small DOM helpers: the app builds its few dynamic parts by hand, with no framework. */

export function byId(id: string): HTMLElement;
export function byId<T extends HTMLElement>(id: string, kind: abstract new () => T): T;
export function byId(id: string, kind: abstract new () => HTMLElement = HTMLElement): HTMLElement {
  const element = document.getElementById(id);
  if (!(element instanceof kind)) throw new Error(`the page has no #${id} of the expected kind`);
  return element;
}

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child) element.append(child);
  return element;
}

/** Shows a message under a field and marks the field invalid (or clears both). */
export function fieldError(field: HTMLElement | null, message: HTMLElement, text: string | null): void {
  message.textContent = text ?? '';
  message.hidden = !text;
  if (field) {
    if (text) field.setAttribute('aria-invalid', 'true');
    else field.removeAttribute('aria-invalid');
  }
}

export const formatMs = (ms: number): string => String(Math.round(ms));
