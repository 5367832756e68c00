/** A corosync.conf section: `name { key: value … subsection { … } }`. */
export interface CorosyncSection {
  name: string;
  values: Record<string, string>;
  sections: CorosyncSection[];
}

export interface CorosyncNode {
  name: string;
  nodeid: string;
  ring0Addr: string;
}

/** Parses corosync.conf's syntax (Corosync's own parser rules: one item per line, `#` comments). */
export function parseCorosyncConf(text: string): CorosyncSection {
  const root: CorosyncSection = { name: '', values: {}, sections: [] };
  const stack = [root];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const where = `line ${i + 1}`;
    const current = stack[stack.length - 1] as CorosyncSection;
    const open = /^([A-Za-z0-9_.-]+)\s*\{$/.exec(line);
    if (open) {
      const section: CorosyncSection = { name: open[1] ?? '', values: {}, sections: [] };
      current.sections.push(section);
      stack.push(section);
      return;
    }
    if (line === '}') {
      if (stack.length === 1) throw new Error(`${where}: unexpected closing brace`);
      stack.pop();
      return;
    }
    const item = /^([A-Za-z0-9_.-]+)\s*:\s*(.*)$/.exec(line);
    if (!item) throw new Error(`${where}: not "key: value", "section {" or "}": ${line}`);
    current.values[item[1] ?? ''] = item[2] ?? '';
  });
  if (stack.length > 1) throw new Error(`missing closing brace for section ${stack[stack.length - 1]?.name}`);
  return root;
}

export function corosyncNodes(conf: CorosyncSection): CorosyncNode[] {
  const nodelist = conf.sections.find((s) => s.name === 'nodelist');
  return (nodelist?.sections ?? [])
    .filter((s) => s.name === 'node')
    .map((n) => ({ name: n.values.name ?? '', nodeid: n.values.nodeid ?? '', ring0Addr: n.values.ring0_addr ?? '' }));
}

/**
 * What `corosync -t` does not check, and a Triad node needs: a totem and quorum section, every
 * node named with an id and address, no name/id/address twice, and this node in the nodelist.
 * Returns the problems (empty when none).
 */
export function corosyncConfProblems(text: string, nodeName: string): string[] {
  let conf: CorosyncSection;
  try {
    conf = parseCorosyncConf(text);
  } catch (e) {
    return [(e as Error).message];
  }
  const problems: string[] = [];
  for (const name of ['totem', 'nodelist', 'quorum']) {
    if (!conf.sections.some((s) => s.name === name)) problems.push(`no ${name} section`);
  }
  const nodes = corosyncNodes(conf);
  nodes.forEach((n, i) => {
    for (const [key, value] of [['name', n.name], ['nodeid', n.nodeid], ['ring0_addr', n.ring0Addr]] as const) {
      if (!value) problems.push(`node ${i + 1} of the nodelist has no ${key}`);
    }
  });
  for (const key of ['name', 'nodeid', 'ring0Addr'] as const) {
    const seen = new Set<string>();
    for (const n of nodes) {
      if (n[key] && seen.has(n[key])) problems.push(`${key === 'ring0Addr' ? 'ring0_addr' : key} ${n[key]} appears twice in the nodelist`);
      seen.add(n[key]);
    }
  }
  if (!nodes.some((n) => n.name === nodeName)) problems.push(`this node (${nodeName}) is not in the nodelist`);
  return problems;
}
