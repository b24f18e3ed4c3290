// The few DOM helpers the screens share. Text goes in as text nodes only: nothing here (or
// anywhere in the UI) parses HTML, so model output and user input can never become markup.

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
type Child = Node | string | number | null | undefined | false;

/** h('button', { type: 'button', onclick: go }, 'Save'): attributes; on* become listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A labelled form control: <div class="field"><label for=id>…</label>control hint?</div>. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

/** An error line tied to a control (aria-invalid, aria-describedby); show('') hides it. */
export function errorLine(control?: HTMLElement): {
  el: HTMLParagraphElement;
  show(text: string): void;
} {
  const el = h('p', { class: 'error', role: 'alert', hidden: true });
  el.id = `e-${Math.random().toString(36).slice(2, 9)}`;
  return {
    el,
    show(text: string) {
      el.textContent = text;
      el.hidden = !text;
      if (control) {
        if (text) {
          control.setAttribute('aria-invalid', 'true');
          control.setAttribute('aria-errormessage', el.id);
        } else {
          control.removeAttribute('aria-invalid');
        }
      }
    },
  };
}

/** A screen: a section with a focusable heading (focused when the screen opens). */
export function screen(title: string, ...children: Child[]): HTMLElement {
  return h(
    'section',
    { class: 'screen', 'aria-labelledby': 'screen-title' },
    h('h2', { id: 'screen-title', tabindex: -1 }, title),
    ...children,
  );
}
