// Renders the Helm chart (deploy/helm/atelier) without helm, which cannot be downloaded here: a small
// interpreter of the subset of Go templates the chart keeps to, and that subset only. Anything else
// (a function, an action or a syntax it does not know) throws, so the chart cannot drift past what this
// renders faithfully. Where it knowingly differs from helm it is stricter: printing a value that is not
// set throws (helm prints nothing), and so does printing a number helm would print in exponent form.
//
// The subset: {{ }} with {{- -}} trimming; comments; define / include; if / else if / else; range over a
// list (dot or `$v :=`) or a map (`$k, $v :=`, keys sorted as Go does); with; pipelines of fields (.Values,
// .Release, .Chart, $, $var), string/number/bool literals and parenthesised pipelines; the functions
// listed in FUNCTIONS below, with helm's (Sprig's) meaning.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

type Value = unknown;
type Scope = { dot: Value; root: Value; vars: Map<string, Value> };

export class TemplateError extends Error {}

// ------------------------------------------------------------------ parse

type Node =
  | { t: 'text'; text: string }
  | { t: 'print'; pipe: string }
  | { t: 'if'; branches: { cond: string | null; body: Node[] }[] }
  | { t: 'range'; pipe: string; key?: string; value?: string; body: Node[]; otherwise: Node[] }
  | { t: 'with'; pipe: string; body: Node[]; otherwise: Node[] };

interface Action {
  text: string;
  at: number;
}

/** Splits a template into text and actions, applying the trim markers. */
function lex(src: string, file: string): (string | Action)[] {
  const out: (string | Action)[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push(src.slice(i));
      break;
    }
    let text = src.slice(i, open);
    let inner = open + 2;
    if (src.startsWith('- ', inner) || src.startsWith('-\n', inner)) {
      text = text.replace(/\s+$/, '');
      inner += 1;
    }
    out.push(text);
    const close = src.indexOf('}}', inner);
    if (close < 0) throw new TemplateError(`${file}: unclosed {{ at offset ${open}`);
    let body = src.slice(inner, close);
    i = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const rest = /^\s*/.exec(src.slice(i))![0];
      i += rest.length;
    }
    out.push({ text: body.trim(), at: open });
  }
  return out;
}

function parseTemplate(src: string, file: string, defines: Map<string, Node[]>): Node[] {
  const items = lex(src, file);
  let pos = 0;
  const where = (a: Action) => `${file}:${src.slice(0, a.at).split('\n').length}`;
  /** Nodes until one of `stops` (returned with the action that stopped). */
  const block = (stops: RegExp | null): { nodes: Node[]; stop?: Action } => {
    const nodes: Node[] = [];
    while (pos < items.length) {
      const item = items[pos++]!;
      if (typeof item === 'string') {
        if (item) nodes.push({ t: 'text', text: item });
        continue;
      }
      const a = item.text;
      if (stops?.test(a)) return { nodes, stop: item };
      if (/^\/\*[\s\S]*\*\/$/.test(a)) continue;
      let m: RegExpExecArray | null;
      if ((m = /^define\s+"([^"]+)"$/.exec(a))) {
        const inner = block(/^end$/);
        if (!inner.stop) throw new TemplateError(`${where(item)}: define without end`);
        defines.set(m[1]!, inner.nodes);
      } else if ((m = /^if\s+([\s\S]+)$/.exec(a))) {
        const branches: { cond: string | null; body: Node[] }[] = [];
        let cond: string | null = m[1]!;
        for (;;) {
          const inner = block(/^(else(\s+if\s+[\s\S]+)?|end)$/);
          if (!inner.stop) throw new TemplateError(`${where(item)}: if without end`);
          branches.push({ cond, body: inner.nodes });
          if (inner.stop.text === 'end') break;
          if (cond === null) throw new TemplateError(`${where(inner.stop)}: else after else`);
          const elseIf = /^else\s+if\s+([\s\S]+)$/.exec(inner.stop.text);
          cond = elseIf ? elseIf[1]! : null;
        }
        nodes.push({ t: 'if', branches });
      } else if ((m = /^(range|with)\s+(?:(\$\w+)(?:\s*,\s*(\$\w+))?\s*:=\s*)?([\s\S]+)$/.exec(a))) {
        const inner = block(/^(else|end)$/);
        if (!inner.stop) throw new TemplateError(`${where(item)}: ${m[1]} without end`);
        let otherwise: Node[] = [];
        if (inner.stop.text === 'else') {
          const rest = block(/^end$/);
          if (!rest.stop) throw new TemplateError(`${where(item)}: ${m[1]} without end`);
          otherwise = rest.nodes;
        }
        if (m[1] === 'with') {
          if (m[2]) throw new TemplateError(`${where(item)}: with $var := is not in the subset`);
          nodes.push({ t: 'with', pipe: m[4]!, body: inner.nodes, otherwise });
        } else {
          const [key, value] = m[3] ? [m[2], m[3]] : [undefined, m[2]];
          nodes.push({ t: 'range', pipe: m[4]!, key, value, body: inner.nodes, otherwise });
        }
      } else if (/^(end|else)\b/.test(a) || /^(template|block|break|continue)\b/.test(a) || /^\$\w+\s*:?=/.test(a)) {
        throw new TemplateError(`${where(item)}: {{ ${a} }} is not in the subset`);
      } else {
        nodes.push({ t: 'print', pipe: a });
      }
    }
    if (stops) return { nodes };
    return { nodes };
  };
  const { nodes } = block(null);
  return nodes;
}

// ------------------------------------------------------------------ evaluate

type Token = { k: 'str' | 'num' | 'bool' | 'field' | 'var' | 'ident' | '(' | ')' | '|'; v: string };

function tokenize(pipe: string): Token[] {
  const out: Token[] = [];
  const re =
    /\s*(?:("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)\b|(true|false)\b|((?:\$\w*)?(?:\.[A-Za-z_]\w*)+|\.)|(\$\w*)|([A-Za-z_]\w*)|([()|]))/y;
  let i = 0;
  while (i < pipe.length) {
    if (/^\s*$/.test(pipe.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(pipe);
    if (!m) throw new TemplateError(`cannot read "${pipe.slice(i)}" in {{ ${pipe} }}`);
    i = re.lastIndex;
    if (m[1]) out.push({ k: 'str', v: JSON.parse(m[1]) });
    else if (m[2]) out.push({ k: 'num', v: m[2] });
    else if (m[3]) out.push({ k: 'bool', v: m[3] });
    else if (m[4]) out.push({ k: 'field', v: m[4] });
    else if (m[5]) out.push({ k: 'var', v: m[5] });
    else if (m[6]) out.push({ k: 'ident', v: m[6] });
    else out.push({ k: m[7] as '(' | ')' | '|', v: m[7]! });
  }
  return out;
}

const truthy = (v: Value): boolean => {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
};

const isMap = (v: Value): v is Record<string, Value> => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(v: Value, what: string): string {
  if (v === undefined || v === null) throw new TemplateError(`${what} prints a value that is not set`);
  if (typeof v === 'number') {
    if (Math.abs(v) >= 1e21 || (Number.isInteger(v) && Math.abs(v) >= 1e6))
      throw new TemplateError(`${what} prints ${v}, which helm prints in exponent form: quote it in values.yaml`);
    return String(v);
  }
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  throw new TemplateError(`${what} prints a list or map: use toYaml`);
}

const indentLines = (n: number, s: string) => {
  const pad = ' '.repeat(n);
  return pad + s.replaceAll('\n', `\n${pad}`);
};

/** helm's toYaml: sorted keys, no trailing newline. */
const toYaml = (v: Value) =>
  v === undefined || v === null ? 'null' : stringify(v, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');

const FUNCTIONS: Record<string, (r: Renderer, args: Value[], scope: Scope) => Value> = {
  include: (r, [name, dot]) => r.include(String(name), dot),
  quote: (_, args) => args.map((a) => JSON.stringify(a === undefined || a === null ? '' : String(a))).join(' '),
  default: (_, [fallback, given]) => (truthy(given) ? given : fallback),
  required: (_, [message, given]) => {
    if (given === undefined || given === null || given === '') throw new TemplateError(String(message));
    return given;
  },
  fail: (_, [message]) => {
    throw new TemplateError(String(message));
  },
  toYaml: (_, [v]) => toYaml(v),
  indent: (_, [n, s]) => indentLines(Number(n), String(s)),
  nindent: (_, [n, s]) => `\n${indentLines(Number(n), String(s))}`,
  trunc: (_, [n, s]) => String(s).slice(0, Number(n)),
  trimSuffix: (_, [suffix, s]) => (String(s).endsWith(String(suffix)) ? String(s).slice(0, -String(suffix).length) : String(s)),
  printf: (_, [format, ...args]) => {
    let i = 0;
    return String(format).replace(/%[sdv%]/g, (spec) => (spec === '%%' ? '%' : text(args[i++], 'printf')));
  },
  and: (_, args) => args.find((a) => !truthy(a)) ?? args.at(-1),
  or: (_, args) => args.find((a) => truthy(a)) ?? args.at(-1),
  not: (_, [v]) => !truthy(v),
  eq: (_, [a, b]) => a === b,
  ne: (_, [a, b]) => a !== b,
  gt: (_, [a, b]) => Number(a) > Number(b),
  int: (_, [v]) => Math.trunc(Number(v ?? 0)),
  empty: (_, [v]) => !truthy(v),
};

class Renderer {
  readonly defines = new Map<string, Node[]>();
  readonly root: Value;
  #depth = 0;

  constructor(root: Value) {
    this.root = root;
  }

  include(name: string, dot: Value): string {
    const body = this.defines.get(name);
    if (!body) throw new TemplateError(`include "${name}": no such define`);
    if (++this.#depth > 50) throw new TemplateError(`include "${name}": too deep`);
    try {
      return this.render(body, { dot, root: this.root, vars: new Map([['$', dot]]) });
    } finally {
      this.#depth--;
    }
  }

  render(nodes: Node[], scope: Scope): string {
    let out = '';
    for (const n of nodes) {
      if (n.t === 'text') out += n.text;
      else if (n.t === 'print') out += text(this.pipe(n.pipe, scope), `{{ ${n.pipe} }}`);
      else if (n.t === 'if') {
        const branch = n.branches.find((b) => b.cond === null || truthy(this.pipe(b.cond, scope)));
        if (branch) out += this.render(branch.body, scope);
      } else if (n.t === 'with') {
        const v = this.pipe(n.pipe, scope);
        out += truthy(v) ? this.render(n.body, { ...scope, dot: v }) : this.render(n.otherwise, scope);
      } else {
        const v = this.pipe(n.pipe, scope);
        const entries: [Value, Value][] = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : isMap(v)
            ? Object.keys(v)
                .sort()
                .map((k) => [k, v[k]])
            : truthy(v)
              ? (() => {
                  throw new TemplateError(`range over ${typeof v} in {{ range ${n.pipe} }}`);
                })()
              : [];
        if (entries.length === 0) out += this.render(n.otherwise, scope);
        for (const [k, x] of entries) {
          const vars = new Map(scope.vars);
          if (n.key) vars.set(n.key, k);
          if (n.value) vars.set(n.value, x);
          out += this.render(n.body, { ...scope, dot: x, vars });
        }
      }
    }
    return out;
  }

  pipe(source: string, scope: Scope): Value {
    const tokens = tokenize(source);
    let pos = 0;
    const pipeline = (): Value => {
      let value: Value;
      let first = true;
      for (;;) {
        value = command(first ? [] : [value]);
        first = false;
        if (tokens[pos]?.k !== '|') return value;
        pos++;
      }
    };
    const operand = (): Value => {
      const t = tokens[pos++];
      if (!t) throw new TemplateError(`{{ ${source} }} ends early`);
      if (t.k === 'str') return t.v;
      if (t.k === 'num') return Number(t.v);
      if (t.k === 'bool') return t.v === 'true';
      if (t.k === '(') {
        const v = pipeline();
        if (tokens[pos++]?.k !== ')') throw new TemplateError(`{{ ${source} }}: missing )`);
        return v;
      }
      if (t.k === 'field' || t.k === 'var') return this.field(t.v, scope, source);
      throw new TemplateError(`{{ ${source} }}: unexpected ${t.v}`);
    };
    const command = (piped: Value[]): Value => {
      const t = tokens[pos];
      if (t?.k === 'ident') {
        pos++;
        const fn = FUNCTIONS[t.v];
        if (!fn) throw new TemplateError(`{{ ${source} }}: the function ${t.v} is not in the subset`);
        const args: Value[] = [];
        while (pos < tokens.length && tokens[pos]!.k !== '|' && tokens[pos]!.k !== ')') args.push(operand());
        return fn(this, [...args, ...piped], scope);
      }
      if (piped.length > 0) throw new TemplateError(`{{ ${source} }}: only a function can follow |`);
      const v = operand();
      if (pos < tokens.length && tokens[pos]!.k !== '|' && tokens[pos]!.k !== ')')
        throw new TemplateError(`{{ ${source} }}: a value takes no arguments`);
      return v;
    };
    const v = pipeline();
    if (pos !== tokens.length) throw new TemplateError(`{{ ${source} }}: unexpected ${tokens[pos]!.v}`);
    return v;
  }

  field(path: string, scope: Scope, source: string): Value {
    const m = /^(\$\w*)?(.*)$/.exec(path)!;
    let v: Value;
    if (m[1]) {
      if (!scope.vars.has(m[1])) throw new TemplateError(`{{ ${source} }}: ${m[1]} is not defined`);
      v = m[1] === '$' ? scope.root : scope.vars.get(m[1]);
    } else v = scope.dot;
    for (const key of m[2]!.split('.').filter(Boolean)) {
      if (v === undefined || v === null) return undefined;
      if (!isMap(v)) throw new TemplateError(`{{ ${source} }}: .${key} of a ${typeof v}`);
      v = v[key];
    }
    return v;
  }
}

// ------------------------------------------------------------------ chart

export interface ChartRender {
  /** template file → its output */
  files: Record<string, string>;
  /** every YAML document of the output, in file order */
  objects: Record<string, unknown>[];
}

export interface Release {
  name: string;
  namespace: string;
}

/** Deep merge as helm merges values: maps merge, anything else replaces. */
export function mergeValues(base: Value, over: Value): Value {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Record<string, Value> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = v === null ? undefined : mergeValues(base[k], v);
  return out;
}

/** Renders the chart in `dir` with its values.yaml overridden by `values`, as `helm template` would. */
export function renderChart(
  dir: string,
  values: Record<string, unknown> = {},
  release: Release = { name: 'atelier', namespace: 'atelier' },
): ChartRender {
  const chart = parse(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const merged = mergeValues(parse(readFileSync(join(dir, 'values.yaml'), 'utf8')), values);
  const root = {
    Values: merged,
    Release: { Name: release.name, Namespace: release.namespace, Service: 'Helm' },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const r = new Renderer(root);
  const templates = readdirSync(join(dir, 'templates')).sort();
  const parsed = new Map<string, Node[]>();
  for (const f of templates) {
    if (!/\.(ya?ml|tpl)$/.test(f)) throw new TemplateError(`templates/${f}: helm renders only .yaml and .tpl here`);
    parsed.set(f, parseTemplate(readFileSync(join(dir, 'templates', f), 'utf8'), `templates/${f}`, r.defines));
  }
  const files: Record<string, string> = {};
  const objects: Record<string, unknown>[] = [];
  for (const [f, nodes] of parsed) {
    if (f.startsWith('_') || f.endsWith('.tpl')) continue;
    const out = r.render(nodes, { dot: root, root, vars: new Map([['$', root]]) });
    files[f] = out;
    for (const doc of parseAllDocuments(out)) {
      if (doc.errors.length > 0) throw new TemplateError(`templates/${f} renders invalid YAML: ${doc.errors[0]!.message}\n${out}`);
      const o = doc.toJS() as Record<string, unknown> | null;
      if (o) objects.push(o);
    }
  }
  return { files, objects };
}

/** A single template string rendered with `root` as its dot (for the renderer's own tests). */
export function renderString(src: string, root: Record<string, unknown>, defines = ''): string {
  const r = new Renderer(root);
  parseTemplate(defines, 'defines', r.defines);
  return r.render(parseTemplate(src, 'template', r.defines), { dot: root, root, vars: new Map([['$', root]]) });
}
