// When a lab's PHP script really ended, for the preview's timing bars: with fastcgi_finish_request() the
// response (and FastCGI's END_REQUEST, sent by that very call) ends long before the script does, so
// neither the proxy nor the FastCGI records can tell it. PHP-FPM can: its access log is written when the
// worker is done, and %{mili}d is the whole script's time. A lab opts in by installing SCRIPT_LOG_POOL_FILE
// (sandbox/labs/files/finish-request/atelier-timing.conf), which logs this proxy's request id (the
// X-Atelier-Request header, seen by PHP-FPM as HTTP_X_ATELIER_REQUEST) and that duration.
import { REQUEST_ID, type ScriptTiming } from '../../protocol/preview.ts';

export const SCRIPT_LOG_POOL_FILE = '/etc/php/8.2/fpm/pool.d/zz-atelier-timing.conf';
export const SCRIPT_LOG = '/var/log/atelier-php-timing.log';
/** the last lines are enough: the panel asks only about the page it just loaded */
export const SCRIPT_LOG_COMMAND = `tail -n 64 ${SCRIPT_LOG} 2>/dev/null || true`;

/**
 * The log's lines as timings, for the requests this proxy named (other requests log "-"). The learner is
 * root in the lab and may write anything there: a line that is not exactly id and duration is skipped.
 */
export function parseScriptLog(text: string): ScriptTiming[] {
  const found: ScriptTiming[] = [];
  for (const line of text.slice(-16_384).split('\n')) {
    const m = /^(\S+) (\d{1,9}(?:\.\d{1,3})?)$/.exec(line.trim());
    if (!m || !REQUEST_ID.test(m[1]!)) continue;
    found.push({ request: m[1]!, durationMs: Number(m[2]) });
  }
  return found.slice(-64);
}
