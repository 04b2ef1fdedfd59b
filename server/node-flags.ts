// Node flags every backend process starts with (scripts, supervisor, tests and benchmarks alike).
// --max-semi-space-size=4 (MiB): under a burst of frames V8 grows its young generation to its maximum
// and a full collection does not give it back. Measured with 100,000 fuzzed frames: RSS after a full GC
// +45 MiB with the default (heap in use +1.6 MiB: no leak, only committed space), +14 MiB with 4, and the
// run was faster (61 s against 81). The `serve` script of package.json repeats the flag.
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=4'];
