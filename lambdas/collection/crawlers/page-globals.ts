/**
 * The few browser globals our in-page scripts use, typed here so the project need not load the whole
 * DOM library (which would make `document` look valid in Node code). Read them as
 * `const { document } = globalThis as unknown as PageGlobals` inside functions run by page.evaluate.
 */
export interface PageElement {
  textContent: string;
  innerText: string;
}

export interface PageGlobals {
  document: {
    body: PageElement & { scrollHeight: number };
    documentElement: { lang: string };
    querySelector(selector: string): PageElement | null;
  };
  window: { scrollTo(x: number, y: number): void };
}
