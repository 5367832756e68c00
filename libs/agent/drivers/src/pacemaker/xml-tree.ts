import { create } from 'xmlbuilder2';

/** An XML element as plain data: what the CIB and crm_mon code reads and edits. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Non-blank text directly inside the element (CIB `<description>`, crm_mon `<error>`). */
  text?: string;
}

/** The structural part of xmlbuilder2's DOM nodes we walk (its types are not the lib "dom" ones). */
interface DomNode {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  childNodes: ArrayLike<DomNode>;
  attributes?: ArrayLike<{ name: string; value: string }>;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_NODE = 4;

function toTree(node: DomNode): XmlElement {
  const attrs: Record<string, string> = {};
  for (const a of Array.from(node.attributes ?? [])) attrs[a.name] = a.value;
  const children: XmlElement[] = [];
  let text = '';
  for (const child of Array.from(node.childNodes)) {
    if (child.nodeType === ELEMENT_NODE) children.push(toTree(child));
    else if (child.nodeType === TEXT_NODE || child.nodeType === CDATA_NODE) text += child.nodeValue ?? '';
  }
  const trimmed = text.trim();
  return { name: node.nodeName, attrs, children, ...(trimmed ? { text: trimmed } : {}) };
}

/** Parses a document with a real XML parser (xmlbuilder2); throws on malformed input. */
export function parseXml(xml: string): XmlElement {
  return toTree(create(xml).root().node as unknown as DomNode);
}

function escape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Serializes a tree (no declaration, two-space indent); attribute order is kept. */
export function serializeXml(el: XmlElement, indent = ''): string {
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}="${escape(v)}"`)
    .join('');
  if (el.children.length === 0 && el.text === undefined) return `${indent}<${el.name}${attrs}/>`;
  if (el.children.length === 0) return `${indent}<${el.name}${attrs}>${escape(el.text ?? '')}</${el.name}>`;
  const inner = el.children.map((c) => serializeXml(c, `${indent}  `)).join('\n');
  const text = el.text === undefined ? '' : `\n${indent}  ${escape(el.text)}`;
  return `${indent}<${el.name}${attrs}>${text}\n${inner}\n${indent}</${el.name}>`;
}

/** Canonical form for comparing: attributes sorted, whitespace ignored. */
export function canonicalXml(el: XmlElement): string {
  const attrs = Object.keys(el.attrs)
    .sort()
    .map((k) => ` ${k}="${escape(el.attrs[k] ?? '')}"`)
    .join('');
  return `<${el.name}${attrs}>${escape(el.text ?? '')}${el.children.map(canonicalXml).join('')}</${el.name}>`;
}

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el?.children.filter((c) => c.name === name) ?? [];
}

/** Every element below `el` (depth first, `el` excluded). */
export function descendants(el: XmlElement): XmlElement[] {
  return el.children.flatMap((c) => [c, ...descendants(c)]);
}
