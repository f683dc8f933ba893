/**
 * @module gateways/s3/xml
 * A small XML writer for S3 answers and a safe parser for the few request bodies S3 takes
 * (CreateBucketConfiguration, Delete, CompleteMultipartUpload, VersioningConfiguration,
 * Tagging, CORSConfiguration, LifecycleConfiguration). The parser knows elements, attributes, text, CDATA, comments
 * and the predefined and numeric entities; DOCTYPE/ENTITY declarations are refused (no entity
 * expansion attacks), as are unbalanced or trailing content: MalformedXML.
 */

/** Escapes text for element content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'))
    // Characters XML 1.0 cannot carry at all are written as references S3 clients accept.
    .replace(/[\u0001-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
}

/** A child of `el`: an element string made by `el`/`txt`, or undefined (skipped). */
export type XmlChild = string | undefined | false;

/** An element with already-serialized children. */
export function el(name: string, ...children: XmlChild[]): string {
  return `<${name}>${children.filter((c): c is string => typeof c === 'string').join('')}</${name}>`;
}

/** An element holding text (escaped); undefined text gives nothing. */
export function txt(name: string, value: string | number | boolean | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A whole document: declaration and root element with the S3 namespace. */
export function doc(root: string, ...children: XmlChild[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${children.filter((c): c is string => typeof c === 'string').join('')}</${root}>`;
}

/** A parsed element: local name (namespace prefix dropped), attributes, children, text. */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

/** Thrown on malformed input; the gateway answers MalformedXML. */
export class XmlError extends Error {}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;

function decodeEntities(s: string): string {
  if (/&(?![^;&\s]{1,10};)/.test(s)) throw new XmlError('bare &');
  return s.replace(/&([^;&\s]{1,10});/g, (m, e: string) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return '\'';
      default: {
        const n = e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : e.startsWith('#') ? Number.parseInt(e.slice(1), 10) : NaN;
        if (!Number.isInteger(n) || n < 1 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) throw new XmlError(`bad entity ${m}`);
        return String.fromCodePoint(n);
      }
    }
  });
}

const localName = (n: string): string => n.slice(n.indexOf(':') + 1);

/** Parses a document; throws XmlError. `maxDepth` bounds nesting. */
export function parseXml(input: string, maxDepth = 16): XmlNode {
  let i = 0;
  const s = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const skipWs = () => { while (i < s.length && /\s/.test(s[i]!)) i++; };
  const skipMisc = () => {
    for (;;) {
      skipWs();
      if (s.startsWith('<?', i)) { const j = s.indexOf('?>', i); if (j < 0) throw new XmlError('unterminated declaration'); i = j + 2; continue; }
      if (s.startsWith('<!--', i)) { const j = s.indexOf('-->', i); if (j < 0) throw new XmlError('unterminated comment'); i = j + 3; continue; }
      if (s.startsWith('<!', i)) throw new XmlError('DOCTYPE and declarations are not accepted');
      return;
    }
  };
  const parseElement = (depth: number): XmlNode => {
    if (depth > maxDepth) throw new XmlError('too deep');
    if (s[i] !== '<') throw new XmlError('element expected');
    i++;
    const m = NAME.exec(s.slice(i, i + 256));
    if (!m) throw new XmlError('bad element name');
    const rawName = m[0];
    i += rawName.length;
    const node: XmlNode = { name: localName(rawName), attrs: {}, children: [], text: '' };
    for (;;) {
      skipWs();
      if (s.startsWith('/>', i)) { i += 2; return node; }
      if (s[i] === '>') { i++; break; }
      const a = NAME.exec(s.slice(i, i + 256));
      if (!a) throw new XmlError('bad attribute');
      i += a[0].length;
      skipWs();
      if (s[i] !== '=') throw new XmlError('= expected');
      i++;
      skipWs();
      const q = s[i];
      if (q !== '"' && q !== '\'') throw new XmlError('quote expected');
      const end = s.indexOf(q, i + 1);
      if (end < 0) throw new XmlError('unterminated attribute');
      node.attrs[localName(a[0])] = decodeEntities(s.slice(i + 1, end));
      i = end + 1;
    }
    let text = '';
    for (;;) {
      if (i >= s.length) throw new XmlError(`unterminated <${rawName}>`);
      if (s.startsWith('</', i)) {
        i += 2;
        if (!s.startsWith(rawName, i)) throw new XmlError(`mismatched end of <${rawName}>`);
        i += rawName.length;
        skipWs();
        if (s[i] !== '>') throw new XmlError('> expected');
        i++;
        node.text = text;
        return node;
      }
      if (s.startsWith('<![CDATA[', i)) { const j = s.indexOf(']]>', i); if (j < 0) throw new XmlError('unterminated CDATA'); text += s.slice(i + 9, j); i = j + 3; continue; }
      if (s.startsWith('<!--', i)) { const j = s.indexOf('-->', i); if (j < 0) throw new XmlError('unterminated comment'); i = j + 3; continue; }
      if (s.startsWith('<?', i)) { const j = s.indexOf('?>', i); if (j < 0) throw new XmlError('unterminated PI'); i = j + 2; continue; }
      if (s.startsWith('<!', i)) throw new XmlError('declarations are not accepted');
      if (s[i] === '<') { node.children.push(parseElement(depth + 1)); continue; }
      const j = s.indexOf('<', i);
      const raw = s.slice(i, j < 0 ? s.length : j);
      text += decodeEntities(raw);
      i += raw.length;
    }
  };
  skipMisc();
  if (i >= s.length) throw new XmlError('empty document');
  const root = parseElement(1);
  skipMisc();
  if (i < s.length) throw new XmlError('content after the root element');
  return root;
}

/** The first child named `name`. */
export function child(n: XmlNode, name: string): XmlNode | undefined {
  return n.children.find((c) => c.name === name);
}

/** Every child named `name`. */
export function children(n: XmlNode, name: string): XmlNode[] {
  return n.children.filter((c) => c.name === name);
}

/** Text of the first child named `name` (trimmed), or undefined. */
export function childText(n: XmlNode, name: string): string | undefined {
  const c = child(n, name);
  return c === undefined ? undefined : c.text;
}
