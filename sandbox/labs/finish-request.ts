// "Profiter des avantages d'un serveur FastCGI en PHP": fastcgi_finish_request() sends the whole response
// and ends the request, then the script keeps working. Nginx and PHP-FPM (Debian's unix socket) on one host;
// two scripts do the same 4-second job, with and without fastcgi_finish_request(), and log to /tmp/travail.log.
import { defineLab } from './schema.ts';
import { CHAPTER_PAGE, runs } from './common.ts';
import { nginx, phpFpm, finishRequest } from './diagnoses.ts';

const LOG = '/tmp/travail.log';
const DONE = 'travail terminé';
const WITHOUT = '/var/www/html/sans-finish.php';
const WITH = '/var/www/html/avec-finish.php';
const url = (file: string) => `http://localhost/${file.replace(/^.*\//, '')}`;

/** bash's time of one curl, and the status it got: « 200 » then « real 0m4.012s ». */
const timed = (file: string) => `{ time curl -s -o /dev/null -w '%{http_code}\\n' -m 20 ${url(file)}; } 2>&1 | grep -E '^([0-9]{3}$|real)'`;

/** What breaks both measures, most specific first: a service stopped, the script that does not compile. */
const broken = (file: string, after: string) => [
  nginx.stopped({ after, host: 'web', run: 'service nginx stop' }),
  phpFpm.stoppedBehindNginx(url(file), { after, host: 'web', run: 'service php8.2-fpm stop' }),
  // A typo: `ech` for `echo`.
  phpFpm.parseError(file, url(file), { after, host: 'web', run: `sed -i 's/^echo /ech /' ${file}` }),
];

export default defineLab({
  id: 'finish-request',
  title: 'fastcgi_finish_request() : répondre avant la fin du travail',
  chapter: '05-fastcgi',
  hosts: [
    {
      name: 'web',
      ...runs('nginx', 'php-fpm'),
      files: [
        { path: '/etc/nginx/sites-available/default', source: 'finish-request/default' },
        { path: '/var/www/html/index.php', source: CHAPTER_PAGE },
        { path: '/var/www/html/avec-finish.php', source: 'finish-request/avec-finish.php' },
        { path: '/var/www/html/sans-finish.php', source: 'finish-request/sans-finish.php' },
        // PHP-FPM logs when each preview request's script really ended (server/preview/script-timing.ts).
        { path: '/etc/php/8.2/fpm/pool.d/zz-atelier-timing.conf', source: 'finish-request/atelier-timing.conf' },
      ],
      boot: ['service php8.2-fpm start', 'service nginx start'],
      workdir: '/var/www/html',
    },
  ],
  preview: { host: 'web', port: 80, path: '/avec-finish.php' },
  solution: [
    {
      id: 'without',
      title: 'Sans fastcgi_finish_request() : curl attend la fin du travail',
      host: 'web',
      run: `time curl -s http://localhost/sans-finish.php; cat ${LOG}`,
      timeoutSeconds: 30,
    },
    {
      id: 'with',
      title: 'Avec fastcgi_finish_request() : curl rend la main tout de suite, le travail continue',
      host: 'web',
      run: `time curl -s http://localhost/avec-finish.php; cat ${LOG}; sleep 5; cat ${LOG}`,
      timeoutSeconds: 30,
    },
  ],
  checks: [
    // « Comparez le temps », timed as the student does, with bash's time: 4 s of work, then the answer…
    {
      id: 'slow-without',
      title: 'Sans fastcgi_finish_request(), curl rend la main après les 4\u202Fsecondes de travail',
      host: 'web',
      run: timed(WITHOUT),
      expect: { stdoutMatches: '^200\\s+real\\s+0m([4-9]|[1-5]\\d)\\.\\d+s' },
      after: 'without',
      timeoutSeconds: 30,
      diagnoses: [
        ...broken(WITHOUT, 'without'),
        // The learner added the call to the control script too.
        finishRequest.inControl(WITHOUT, {
          after: 'without',
          host: 'web',
          run: `sed -i '/^sleep(4)/i fastcgi_finish_request();' ${WITHOUT} && grep -q '^fastcgi_finish_request' ${WITHOUT}`,
        }),
      ],
    },
    // …or the answer at once (well under a second), the work after it: wait for the work to end, so that it
    // does not write into the log of the next measure.
    {
      id: 'fast-with',
      title: 'Avec fastcgi_finish_request(), curl rend la main en moins d’une seconde',
      host: 'web',
      run: `rm -f ${LOG}; ${timed(WITH)}; for i in $(seq 1 40); do grep -q 'avec-finish.php : ${DONE}' ${LOG} 2>/dev/null && break; sleep 0.25; done`,
      expect: { stdoutMatches: '^200\\s+real\\s+0m0\\.\\d+s' },
      after: 'with',
      timeoutSeconds: 30,
      diagnoses: [
        ...broken(WITH, 'with'),
        // Commented out, as a learner tries « without » on this script.
        finishRequest.missing(WITH, { after: 'with', host: 'web', run: `sed -i 's|^fastcgi_finish_request|// &|' ${WITH}` }),
        // Moved to the end of the script, after the work.
        finishRequest.afterWork(WITH, {
          after: 'with',
          host: 'web',
          run: `sed -i '/^fastcgi_finish_request/d' ${WITH} && echo 'fastcgi_finish_request();' >> ${WITH}`,
        }),
      ],
    },
    {
      id: 'waits-without',
      title: 'Sans fastcgi_finish_request(), la réponse arrive après la fin du travail',
      host: 'web',
      run: `rm -f ${LOG}; curl -s -m 20 http://localhost/sans-finish.php && cat ${LOG}`,
      expect: { stdoutIncludes: ['Réponse préparée', `sans-finish.php : ${DONE}`] },
      timeoutSeconds: 30,
    },
    {
      id: 'answers-first',
      title: 'Avec fastcgi_finish_request(), la réponse arrive avant la fin du travail',
      host: 'web',
      // The response is complete while the log does not say "terminé" yet: the work outlives the request.
      run: `rm -f ${LOG}; curl -s -m 20 http://localhost/avec-finish.php && if grep -q '${DONE}' ${LOG} 2>/dev/null; then echo 'travail déjà terminé'; exit 1; else echo 'travail en cours'; fi`,
      expect: { stdoutIncludes: ['Réponse envoyée', 'travail en cours'] },
      timeoutSeconds: 30,
    },
    {
      id: 'work-goes-on',
      title: 'Le travail se termine ensuite (journal /tmp/travail.log)',
      host: 'web',
      run: `for i in $(seq 1 40); do grep -q 'avec-finish.php : ${DONE}' ${LOG} 2>/dev/null && break; sleep 0.25; done; cat ${LOG}`,
      expect: { stdoutIncludes: ['avec-finish.php : début du travail', `avec-finish.php : ${DONE}`] },
      timeoutSeconds: 30,
    },
  ],
});
