type Child = Node | string | number | null | undefined | false;

/** An element with attributes (`class`, `data-*`, …) and children; text is never parsed as HTML. */
export function h(
  tag: string,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

/** Replaces the children in one step, so the panel never shows half a list. */
export function fill(parent: Element, children: (Node | false | null)[]): void {
  parent.replaceChildren(...children.filter((c): c is Node => c instanceof Node));
}
