// dom.js builds DOM nodes without ever parsing HTML: every string becomes a
// text node or a property, so a tag label such as "<img onerror=…>" renders
// as the characters it is. Nothing in the workspace uses innerHTML.

// h(tag, props, ...children) makes an element.
//   props.class / props.className: class names
//   props.text: the element's text
//   props.on: {event: handler}
//   props.dataset: {key: value}
//   props.attrs: {name: value} set with setAttribute (never "on…" or "style")
//   any other key: assigned as a property (value, type, href, title, disabled …)
// children: nodes, strings (text), numbers, arrays of these, null/false (skipped).
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null) continue;
      switch (k) {
        case 'class':
        case 'className':
          node.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
          break;
        case 'text':
          node.textContent = String(v);
          break;
        case 'on':
          for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
          break;
        case 'dataset':
          for (const [dk, dv] of Object.entries(v)) node.dataset[dk] = String(dv);
          break;
        case 'attrs':
          for (const [an, av] of Object.entries(v)) {
            if (/^on/i.test(an) || an.toLowerCase() === 'style') throw new Error(`dom: attribute ${an} is not allowed`);
            if (av !== undefined && av !== null && av !== false) node.setAttribute(an, av === true ? '' : String(av));
          }
          break;
        case 'innerHTML':
        case 'outerHTML':
          throw new Error('dom: HTML strings are not allowed');
        default:
          if (/^on/i.test(k)) throw new Error(`dom: use props.on for ${k}`);
          node[k] = v;
      }
    }
  }
  append(node, children);
  return node;
}

// append adds children (see h) to node.
export function append(node, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// clear removes every child of node.
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// replace empties node and appends children.
export function replace(node, ...children) {
  return append(clear(node), children);
}

// download offers data (a Blob) as a file named name.
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// csvCell quotes one CSV field and neutralises spreadsheet formulas: a cell
// starting with = + - @ or a tab/CR is prefixed with an apostrophe (OWASP
// CSV injection), unless it is a plain number.
export function csvCell(v) {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

// toCSV makes CSV text (RFC 4180, CRLF) of a header row and rows.
export function toCSV(header, rows) {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
