// DOM helpers. Data from the API (paths, file names, headers, messages) only ever reaches the
// page as text nodes or as attribute values set through setAttribute: never as markup.

/** Creates an element; `children` may be nodes, strings (added as text), arrays, null. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

const svgNS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element, like `h`. */
export function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(svgNS, tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value == null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.setAttribute('class', value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name === 'checked' || name === 'selected' || name === 'value' || name === 'disabled') {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's content. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** A labelled form control: `<div class="field"><label for=id>…</label>control hint</div>`. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintElement = hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  if (hintElement) control.setAttribute('aria-describedby', hintElement.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintElement);
}

/** `<select>` with [value, label] options. */
export function select(name, options, current) {
  return h('select', { name }, options.map(([value, label]) => h('option', { value, selected: value === current }, label)));
}

/** A date as local text, or a dash. */
export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString();
}

/** A relative time ("in 5 min", "3 h ago"). */
export function relative(iso, now = Date.now()) {
  if (!iso) return '';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const units = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];
  const [unit, size] = units.find(([, size]) => Math.abs(seconds) >= size) ?? ['s', 1];
  const amount = Math.round(Math.abs(seconds) / size);
  return seconds >= 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`;
}

export function number(value) {
  return value == null ? '—' : Number(value).toLocaleString();
}
