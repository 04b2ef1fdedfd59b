// Whether a check's command result meets its `expect`: one pure function shared by every runner
// (integration tests, the lab manager, bench/baseline/cli-lab.sh through the CLI below).
// CLI: `node sandbox/labs/expect.ts '<expect as JSON>' <exit code> < stdout` exits 0 when met, else prints why.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExpectSchema, type LabCheck } from './schema.ts';

export interface CommandResult {
  exitCode: number;
  stdout: string;
}

/** What does not match (empty when the check passes). */
export function checkFailures(expect: LabCheck['expect'], result: CommandResult): string[] {
  const failures: string[] = [];
  if (result.exitCode !== expect.exitCode) failures.push(`exit code ${result.exitCode}, expected ${expect.exitCode}`);
  for (const s of expect.stdoutIncludes) {
    if (!result.stdout.includes(s)) failures.push(`stdout lacks ${JSON.stringify(s)}`);
  }
  if (expect.stdoutMatches !== undefined && !new RegExp(expect.stdoutMatches).test(result.stdout)) {
    failures.push(`stdout does not match /${expect.stdoutMatches}/`);
  }
  return failures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [json, code] = process.argv.slice(2);
  if (json === undefined || code === undefined || !/^\d+$/.test(code)) {
    console.error("usage: node sandbox/labs/expect.ts '<expect JSON>' <exit code> < stdout");
    process.exit(2);
  }
  const expect = ExpectSchema.parse(JSON.parse(json));
  const failures = checkFailures(expect, { exitCode: Number(code), stdout: readFileSync(0, 'utf8') });
  for (const f of failures) console.log(f);
  process.exit(failures.length === 0 ? 0 : 1);
}
