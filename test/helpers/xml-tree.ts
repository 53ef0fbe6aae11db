/** An XML element as the strict reader below returns it. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = '[A-Za-z_][\\w.-]*';
const OPEN = new RegExp(`<(${NAME})((?:\\s+${NAME}="[^"<]*")*)\\s*(/?)>`, 'y');
const CLOSE = new RegExp(`</(${NAME})\\s*>`, 'y');
const ATTR = new RegExp(`(${NAME})="([^"<]*)"`, 'g');
const TEXT = /[^<]+/y;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
const DECODED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * A small, strict XML reader for the reports the tests parse back (the project has no XML parser
 * among its dependencies): elements, attributes in double quotes, text, the five entities and
 * character references; anything else (a bare &, a mismatched or unclosed tag, trailing text)
 * throws. No DTDs, comments or CDATA: the reports have none.
 */
export function parseXml(document: string): XmlElement {
  let at = 0;
  const declaration = /^<\?xml [^?]*\?>\s*/.exec(document);
  if (declaration) at = declaration[0].length;
  const element = (): XmlElement => {
    OPEN.lastIndex = at;
    const open = OPEN.exec(document);
    if (!open) throw new Error(`expected a start tag at ${at}: ${document.slice(at, at + 40)}`);
    at = OPEN.lastIndex;
    const node: XmlElement = { name: open[1] as string, attrs: attributes(open[2] ?? ''), children: [], text: '' };
    if (open[3] === '/') return node;
    for (;;) {
      TEXT.lastIndex = at;
      const text = TEXT.exec(document);
      if (text) {
        node.text += decode(text[0]);
        at = TEXT.lastIndex;
      }
      CLOSE.lastIndex = at;
      const close = CLOSE.exec(document);
      if (close) {
        if (close[1] !== node.name) throw new Error(`</${close[1]}> closes <${node.name}>`);
        at = CLOSE.lastIndex;
        return node;
      }
      if (at >= document.length) throw new Error(`<${node.name}> is not closed`);
      node.children.push(element());
    }
  };
  const root = element();
  if (document.slice(at).trim() !== '') throw new Error(`text after the root element: ${document.slice(at, at + 40)}`);
  return root;
}

/** Every element named `name` under `node`, depth first. */
export function findAll(node: XmlElement, name: string): XmlElement[] {
  return [...(node.name === name ? [node] : []), ...node.children.flatMap((c) => findAll(c, name))];
}

function attributes(text: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const [, name, value] of text.matchAll(ATTR)) {
    if (Object.hasOwn(attrs, name as string)) throw new Error(`attribute ${name} twice`);
    attrs[name as string] = decode(value ?? '');
  }
  return attrs;
}

function decode(text: string): string {
  if (text.replace(ENTITY, '').includes('&')) throw new Error(`a bare & in ${text.slice(0, 60)}`);
  return text.replace(ENTITY, (entity) => {
    const body = entity.slice(1, -1);
    if (body.startsWith('#x')) return String.fromCodePoint(parseInt(body.slice(2), 16));
    if (body.startsWith('#')) return String.fromCodePoint(Number(body.slice(1)));
    return DECODED[body] as string;
  });
}
