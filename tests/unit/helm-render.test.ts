// The Go-template subset renderer that stands in for helm (tests/helpers/helm-render.ts): each case is what
// helm 3 prints for the same template (Go's text/template with Sprig), and what is outside the subset throws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeValues, renderString, TemplateError } from '../helpers/helm-render.ts';

const V = (values: Record<string, unknown>) => ({ Values: values, Release: { Name: 'rel', Namespace: 'ns' } });

test('fields, literals, quote, default and printf', () => {
  assert.equal(renderString('a: {{ .Values.x }} {{ .Release.Name }}', V({ x: 3 })), 'a: 3 rel');
  assert.equal(renderString('a: {{ .Values.x | quote }}', V({ x: 8080 })), 'a: "8080"');
  assert.equal(
    renderString('{{ .Values.missing | default "d" }}/{{ "" | default "e" }}/{{ .Values.x | default 9 }}', V({ x: 1 })),
    'd/e/1',
  );
  assert.equal(renderString('{{ printf "%s-%s" .Release.Name "web" | trunc 5 | trimSuffix "-" }}', V({})), 'rel-w');
  assert.equal(renderString('{{ printf "%s-%s" .Release.Name "x" | trunc 4 | trimSuffix "-" }}', V({})), 'rel');
});

test('trim markers remove the whitespace beside them, newlines included', () => {
  const src = 'x:\n  {{- if .Values.on }}\n  on: true\n  {{- end }}\ny: 1\n';
  assert.equal(renderString(src, V({ on: true })), 'x:\n  on: true\ny: 1\n');
  assert.equal(renderString(src, V({ on: false })), 'x:\ny: 1\n');
  assert.equal(renderString('a {{- " b " -}} c', V({})), 'a b c');
});

test('if / else if / else, and, or, not, eq, gt, int, empty', () => {
  const src = '{{ if gt (int .Values.n) 1 }}many{{ else if eq (int .Values.n) 1 }}one{{ else }}none{{ end }}';
  assert.deepEqual(
    [3, 1, 0].map((n) => renderString(src, V({ n }))),
    ['many', 'one', 'none'],
  );
  assert.equal(
    renderString('{{ and .Values.a .Values.b }}|{{ or .Values.c .Values.b }}|{{ not .Values.c }}', V({ a: 'x', b: 'y', c: '' })),
    'y|y|true',
  );
  assert.equal(renderString('{{ if empty .Values.l }}empty{{ end }}{{ if .Values.m }}m{{ end }}', V({ l: [], m: {} })), 'empty');
});

test('range over a list and a map (keys sorted), with, include and nindent', () => {
  assert.equal(renderString('{{ range .Values.l }}[{{ . }}]{{ end }}', V({ l: ['a', 'b'] })), '[a][b]');
  assert.equal(renderString('{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}', V({ m: { b: 2, a: 1 } })), 'a=1;b=2;');
  assert.equal(renderString('{{ range $x := .Values.l }}{{ $x }}{{ $.Release.Name }}{{ end }}', V({ l: [1] })), '1rel');
  assert.equal(renderString('{{ range .Values.l }}x{{ else }}none{{ end }}', V({ l: [] })), 'none');
  assert.equal(
    renderString(
      '{{ with .Values.w }}{{ .k }}{{ else }}no{{ end }}|{{ with .Values.z }}{{ . }}{{ else }}no{{ end }}',
      V({ w: { k: 'v' } }),
    ),
    'v|no',
  );
  const defines = '{{- define "labels" -}}\na: {{ .Release.Name }}\nb: c\n{{- end }}';
  assert.equal(renderString('labels:{{ include "labels" . | nindent 2 }}\n', V({}), defines), 'labels:\n  a: rel\n  b: c\n');
  assert.equal(renderString('{{ include "labels" . | indent 1 }}', V({}), defines), ' a: rel\n b: c');
});

test('toYaml sorts keys and drops the final newline, as helm does', () => {
  assert.equal(
    renderString('r:{{ toYaml .Values.r | nindent 2 }}', V({ r: { requests: { memory: '256Mi', cpu: '250m' } } })),
    'r:\n  requests:\n    cpu: 250m\n    memory: 256Mi',
  );
});

test('what helm would do differently, or what is outside the subset, throws', () => {
  assert.throws(() => renderString('{{ .Values.typo }}', V({})), /not set/);
  assert.throws(() => renderString('{{ .Values.big }}', V({ big: 1000000 })), /exponent/);
  assert.throws(() => renderString('{{ .Values.m }}', V({ m: { a: 1 } })), /toYaml/);
  assert.throws(() => renderString('{{ upper "a" }}', V({})), /upper is not in the subset/);
  assert.throws(() => renderString('{{ template "x" . }}', V({})), /not in the subset/);
  assert.throws(() => renderString('{{ $x := 1 }}', V({})), /not in the subset/);
  assert.throws(() => renderString('{{ if .Values.a }}x', V({ a: 1 })), /without end/);
  assert.throws(
    () => renderString('{{ required "set secret.value" .Values.s }}', V({ s: '' })),
    (e: unknown) => e instanceof TemplateError && e.message === 'set secret.value',
  );
  assert.throws(() => renderString('{{ fail "no" }}', V({})), /^TemplateError: no$|no/);
});

test('values merge as helm merges them: maps deep, lists and scalars replaced, null removes', () => {
  assert.deepEqual(mergeValues({ a: { b: 1, c: 2 }, l: [1, 2], s: 'x' }, { a: { c: 3 }, l: [9], s: null }), {
    a: { b: 1, c: 3 },
    l: [9],
    s: undefined,
  });
});
