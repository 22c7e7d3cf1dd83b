/**
 * React's real client renderer in Node, for hooks whose probe component renders nothing: React
 * DOM then only reads the window (the current event, the focus) and listens on the root element,
 * so stand-ins for both are enough.
 */
import { afterAll, beforeAll } from 'vitest';

class HTMLIFrameElement {}
const fakeWindow = { event: undefined, document: undefined, HTMLIFrameElement };

/** Installs the stand-in window for the test file (call at its top level). */
export function useReactInNode(): void {
  const scope = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean; window?: unknown };
  beforeAll(() => {
    scope.IS_REACT_ACT_ENVIRONMENT = true;
    scope.window = fakeWindow;
  });
  afterAll(() => {
    delete scope.window;
    delete scope.IS_REACT_ACT_ENVIRONMENT;
  });
}

/** A stand-in for the root element React renders into. */
export function rootContainer(): Element {
  const ownerDocument = Object.assign(new EventTarget(), { defaultView: fakeWindow });
  return Object.assign(new EventTarget(), {
    nodeType: 1,
    nodeName: 'DIV',
    tagName: 'DIV',
    namespaceURI: 'http://www.w3.org/1999/xhtml',
    ownerDocument,
  }) as unknown as Element;
}
