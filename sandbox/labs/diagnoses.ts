// Why « Vérifier » fails, for the failure modes the chapter and its asides describe and the typos a
// learner makes: each one a probe of the lab's real state (a command whose success means "this is what
// is wrong"), a French explanation and hint, and an example that puts a lab in that state (the tests run
// every example and expect its diagnosis). Order matters: the first that applies is the answer.
import { POOL } from './common.ts';
import type { LabInput } from './schema.ts';

type Diagnosis = NonNullable<LabInput['checks']>[number]['diagnoses'] extends (infer D)[] | undefined ? D : never;
type Example = Diagnosis['example'];

/** The last line of Nginx's error log after asking for `url` once. */
const nginxLastError = (url: string) => `curl -s -o /dev/null -m 5 ${url}; tail -n 1 /var/log/nginx/error.log`;

export const nginx = {
  /** `nginx -t` refuses the configuration: quote its message (file and line). */
  configInvalid: (example: Example): Diagnosis => ({
    id: 'nginx-config-invalid',
    host: 'web',
    run: '! nginx -t 2>&1',
    expect: { stdoutMatches: '\\[emerg\\] (.+)' },
    explain: 'La configuration de Nginx est refusée\u202F: {1}.',
    hint: 'Corrigez la ligne indiquée, vérifiez avec nginx -t, puis rechargez\u202F: service nginx reload.',
    example,
  }),
  stopped: (example: Example): Diagnosis => ({
    id: 'nginx-stopped',
    host: 'web',
    run: '! pgrep -x nginx >/dev/null',
    explain: 'Nginx ne tourne pas sur l’hôte web\u202F: personne ne répond sur le port 80.',
    hint: 'Démarrez-le\u202F: service nginx start (après nginx -t si vous avez modifié sa configuration).',
    example,
  }),
  /** The file says php:9000 but the running Nginx still sends to 127.0.0.1 (edited, not reloaded). */
  notReloaded: (conf: string, url: string, example: Example): Diagnosis => ({
    id: 'nginx-not-reloaded',
    host: 'web',
    run: `grep -qE '^\\s*fastcgi_pass\\s+php:9000;' ${conf} && { ${nginxLastError(url)}; }`,
    expect: { stdoutMatches: 'upstream: "fastcgi://127\\.0\\.0\\.1:9000"' },
    explain: 'Le fichier dit bien fastcgi_pass php:9000, mais Nginx tourne encore avec l’ancienne configuration (127.0.0.1:9000).',
    hint: 'Rechargez Nginx\u202F: nginx -t && service nginx reload.',
    example,
  }),
  /** The file still sends .php to 127.0.0.1:9000 (the step that points it at php not done, or done on another line). */
  stillLocal: (conf: string, example: Example): Diagnosis => ({
    id: 'fastcgi-still-local',
    host: 'web',
    run: `grep -nE '^\\s*fastcgi_pass\\s+127\\.0\\.0\\.1:9000;' ${conf}`,
    expect: { stdoutMatches: '^(\\d+):' },
    explain: `${conf} envoie toujours les fichiers .php à 127.0.0.1:9000 (ligne {1})\u202F: Nginx y cherche PHP-FPM sur sa propre machine.`,
    hint: 'Sur cette ligne, remplacez 127.0.0.1 par php (gardez l’ancienne en commentaire, un # devant), puis nginx -t.',
    example,
  }),
  /** The chapter's first 502: fastcgi_pass 127.0.0.1:9000 while PHP-FPM is on another host. */
  upstreamLocal: (url: string, example: Example): Diagnosis => ({
    id: 'fastcgi-local',
    host: 'web',
    run: nginxLastError(url),
    expect: { stdoutMatches: 'Connection refused\\) while connecting to upstream.*upstream: "fastcgi://127\\.0\\.0\\.1:9000"' },
    explain:
      'Nginx répond 502\u202F: il cherche PHP-FPM sur sa propre machine (fastcgi_pass 127.0.0.1:9000), alors que PHP-FPM tourne sur l’hôte php.',
    hint: 'Dans default.conf, remplacez 127.0.0.1 par php dans fastcgi_pass, puis rechargez Nginx\u202F: nginx -t && service nginx reload.',
    example,
  }),
  /** The chapter's second 502: Nginx reaches php, nothing listens there. */
  upstreamRefused: (url: string, example: Example): Diagnosis => ({
    id: 'php-not-listening',
    host: 'web',
    run: nginxLastError(url),
    expect: { stdoutMatches: 'Connection refused\\) while connecting to upstream.*upstream: "fastcgi://([0-9.]+):9000"' },
    explain: 'Nginx répond 502\u202F: il atteint bien l’hôte php ({1}:9000), mais rien n’y écoute. PHP-FPM est-il démarré sur php\u202F?',
    hint: 'Sur l’hôte php\u202F: service php8.2-fpm start.',
    example,
  }),
  /** A local lab whose socket does not exist where fastcgi_pass says. */
  socketMissing: (url: string, example: Example): Diagnosis => ({
    id: 'socket-missing',
    host: 'web',
    run: nginxLastError(url),
    expect: { stdoutMatches: 'connect\\(\\) to unix:(\\S+) failed \\(2: No such file or directory\\)' },
    explain:
      'Nginx répond 502\u202F: le socket {1} n’existe pas. PHP-FPM écoute-t-il sur ce chemin (listen dans www.conf), et tourne-t-il\u202F?',
    hint: 'Le même chemin des deux côtés\u202F: listen dans www.conf et fastcgi_pass unix:… dans default.conf\u202F; puis redémarrez PHP-FPM et rechargez Nginx.',
    example,
  }),
  /** « File not found. »: PHP-FPM got the request but SCRIPT_FILENAME names no file on its host. */
  scriptNotFound: (conf: string, url: string, example: Example): Diagnosis => ({
    id: 'script-not-found',
    host: 'web',
    run: `curl -s -m 5 ${url} | grep -q '^File not found\\.' && grep -E '^\\s*fastcgi_param\\s+SCRIPT_FILENAME' ${conf}`,
    expect: { stdoutMatches: 'SCRIPT_FILENAME\\s+([^;]+);' },
    explain:
      'PHP-FPM a bien reçu la requête, mais ne trouve pas le script (« File not found. »)\u202F: SCRIPT_FILENAME vaut {1}, un chemin qui n’existe pas là où PHP-FPM tourne.',
    hint: 'SCRIPT_FILENAME doit nommer le fichier du côté de PHP-FPM (le code est dans /scripts sur php)\u202F: fastcgi_param SCRIPT_FILENAME /scripts$fastcgi_script_name; puis rechargez Nginx.',
    example,
  }),
};

export const apache = {
  /** `apachectl configtest` refuses the configuration: quote the file, the line and the message. */
  configInvalid: (example: Example): Diagnosis => ({
    id: 'apache-config-invalid',
    host: 'web',
    // The message on one line (echo of an unquoted variable); exits 0 only when the test fails.
    run: 'out=$(apache2ctl configtest 2>&1) && exit 1; echo $out',
    expect: { stdoutMatches: 'Syntax error on line (\\d+) of ([^:]+): (.+?)\\s*Action' },
    explain: 'La configuration d’Apache httpd est refusée\u202F: {2}, ligne {1}\u202F: {3}',
    hint: 'Corrigez la ligne indiquée, vérifiez avec apachectl configtest, puis rechargez\u202F: service apache2 reload.',
    example,
  }),
  stopped: (example: Example): Diagnosis => ({
    id: 'apache-stopped',
    host: 'web',
    run: '! pgrep -x apache2 >/dev/null',
    explain: 'Apache httpd ne tourne pas sur l’hôte web\u202F: personne ne répond sur le port 80.',
    hint: 'Démarrez-le\u202F: service apache2 start (après apachectl configtest si vous avez modifié sa configuration).',
    example,
  }),
  /** mod_proxy_fcgi not enabled: Apache cannot speak FastCGI. */
  proxyFcgiMissing: (example: Example): Diagnosis => ({
    id: 'proxy-fcgi-missing',
    host: 'web',
    run: '! apache2ctl -M 2>/dev/null | grep -q proxy_fcgi_module',
    explain: 'mod_proxy_fcgi n’est pas activé\u202F: Apache httpd ne sait pas parler FastCGI à PHP-FPM.',
    hint: 'Activez mod_proxy et mod_proxy_fcgi (a2enmod proxy proxy_fcgi, l’équivalent des lignes LoadModule du chapitre), puis rechargez Apache.',
    example,
  }),
  /** No ProxyPassMatch: .php files are not sent to PHP-FPM. */
  noProxyRule: (example: Example): Diagnosis => ({
    id: 'no-proxy-rule',
    host: 'web',
    run: "! grep -RqsE '^\\s*ProxyPassMatch' /etc/apache2/conf-enabled/ /etc/apache2/sites-enabled/",
    explain: 'Aucune règle ProxyPassMatch n’envoie les fichiers .php à PHP-FPM\u202F: Apache httpd les sert lui-même.',
    hint: 'Ajoutez la règle ProxyPassMatch du chapitre (vers fcgi://php:9000/var/www/html/$1) dans une configuration activée, puis rechargez Apache.',
    example,
  }),
  /** The rule is in the files, but the running Apache has not read it: it still serves its default page, or the PHP source. */
  notReloaded: (url: string, example: Example): Diagnosis => ({
    id: 'apache-not-reloaded',
    host: 'web',
    run: `apache2ctl -M 2>/dev/null | grep -q proxy_fcgi_module && grep -RqsE '^\\s*ProxyPassMatch' /etc/apache2/conf-enabled/ && curl -s -m 5 ${url} | grep -qE 'Apache2 Debian Default Page|<\\?php'`,
    explain: 'Les fichiers de configuration sont prêts, mais Apache httpd tourne encore avec l’ancienne configuration.',
    hint: 'Rechargez Apache\u202F: apachectl configtest && service apache2 reload.',
    example,
  }),
  /** The chapter's 503: Apache cannot reach PHP-FPM. */
  unavailable: (url: string, example: Example): Diagnosis => ({
    id: 'php-unavailable',
    host: 'web',
    run: `curl -s -o /dev/null -m 5 -w '%{http_code}' ${url}`,
    expect: { stdoutMatches: '^503$' },
    explain: 'Apache httpd répond 503\u202F: PHP-FPM ne répond pas à l’adresse de ProxyPassMatch. Est-il démarré, et écoute-t-il là\u202F?',
    hint: 'Sur l’hôte de PHP-FPM\u202F: service php8.2-fpm start\u202F; son adresse est listen dans www.conf.',
    example,
  }),
};

export const story = {
  /**
   * A check of an earlier stage of the demo (a 502 before the fix) fails because the learner is already
   * further: `run` succeeds when the later state is there; `done` says what it is.
   */
  alreadyDone: (host: string, run: string, done: string, example: Example): Diagnosis => ({
    id: 'already-done',
    host,
    run,
    explain: `${done}\u202F: vous êtes déjà plus loin dans la démo, cette vérification décrit l’étape d’avant.`,
    hint: 'Passez à la suite, ou repartez du départ avec «\u00A0Réinitialiser\u00A0» pour revoir cette étape.',
    example,
  }),
};

export const phpFpm = {
  /**
   * The chapter's own socket path, /var/run/php7-fpm/DOMAINNAME.socket: the directory does not exist and
   * PHP-FPM does not create it, so it does not start (its init script says « failed! » and exits 0).
   */
  socketDirMissing: (host: string, example: Example): Diagnosis => ({
    id: 'socket-dir-missing',
    host,
    run: '! pgrep -x php-fpm8.2 >/dev/null && tail -n 5 /var/log/php8.2-fpm.log',
    expect: { stdoutMatches: "unable to bind listening socket for address '(/[^']+)': No such file or directory" },
    explain:
      'PHP-FPM ne tourne pas\u202F: il n’a pas pu créer son socket {1}, car le dossier qui doit le contenir n’existe pas (PHP-FPM ne crée pas de dossier).',
    hint: 'Mettez le socket dans /run/php, le dossier que Debian crée pour PHP-FPM\u202F: listen = /run/php/localhost.sock dans www.conf, puis service php8.2-fpm restart.',
    example,
  }),
  /** PHP-FPM runs but listens where the web host cannot reach it. */
  listensElsewhere: (example: Example): Diagnosis => ({
    id: 'php-listens-elsewhere',
    host: 'php',
    run: `pgrep -x php-fpm8.2 >/dev/null && grep -E '^listen = ' ${POOL}`,
    expect: { stdoutMatches: '^listen = (127\\.0\\.0\\.1:\\d+|localhost:\\d+|/\\S+)' },
    explain: 'PHP-FPM tourne, mais écoute sur {1}, que l’hôte web ne peut pas joindre.',
    hint: 'Dans www.conf\u202F: listen = 9000 (toutes les adresses), puis service php8.2-fpm restart.',
    example,
  }),
  /** PHP-FPM does not run at all (stopped, or a restart that failed on a configuration it refused). */
  stopped: (host: string, example: Example): Diagnosis => ({
    id: 'php-fpm-stopped',
    host,
    run: '! pgrep -x php-fpm8.2 >/dev/null',
    explain: `PHP-FPM ne tourne pas sur l’hôte ${host}.`,
    hint: 'Démarrez-le\u202F: service php8.2-fpm start (php-fpm8.2 -t vérifie d’abord sa configuration).',
    example,
  }),
  /** www.conf was edited, PHP-FPM was not restarted: it still listens on port 9000. */
  notRestarted: (host: string, example: Example): Diagnosis => ({
    id: 'php-fpm-not-restarted',
    host,
    run: `pgrep -x php-fpm8.2 >/dev/null && ss -Hltn | grep -q ':9000\\b' && grep -E '^listen = /' ${POOL}`,
    expect: { stdoutMatches: '^listen = (\\S+)' },
    explain: 'www.conf dit listen = {1}, mais PHP-FPM écoute encore sur le port 9000\u202F: il tourne avec l’ancienne configuration.',
    hint: 'Redémarrez-le\u202F: service php8.2-fpm restart.',
    example,
  }),
  /** Nginx and PHP-FPM on one host, PHP-FPM stopped: 502, and the error log says which connection failed. */
  stoppedBehindNginx: (url: string, example: Example): Diagnosis => ({
    id: 'php-fpm-stopped-502',
    host: 'web',
    run: `! pgrep -x php-fpm8.2 >/dev/null && { ${nginxLastError(url)}; }`,
    expect: { stdoutMatches: 'connect\\(\\) to (\\S+) failed \\(([^)]+)\\) while connecting to upstream' },
    explain: 'Nginx répond 502\u202F: PHP-FPM ne tourne pas, et sa connexion à {1} échoue ({2}).',
    hint: 'Démarrez PHP-FPM\u202F: service php8.2-fpm start.',
    example,
  }),
  /**
   * The script does not compile: PHP-FPM answers 500 and Nginx logs PHP's message. `php -l` first, so that a
   * stale line of the log is never quoted for a script that compiles.
   */
  parseError: (file: string, url: string, example: Example): Diagnosis => ({
    id: 'php-parse-error',
    host: 'web',
    run: `php -l ${file} >/dev/null 2>&1 && exit 1; ${nginxLastError(url)}`,
    expect: { stdoutMatches: 'PHP Parse error:\\s+(.+?) in (\\S+) on line (\\d+)' },
    explain: 'Nginx répond 500\u202F: PHP ne peut pas compiler {2}, ligne {3} ({1}).',
    hint: 'Corrigez cette ligne\u202F; php -l {2} vérifie la syntaxe sans exécuter le script.',
    example,
  }),
  /** A PHP-FPM that should be stopped still answers (the 503 step). */
  stillRunning: (example: Example): Diagnosis => ({
    id: 'php-still-running',
    host: 'php',
    run: 'pgrep -x php-fpm8.2 >/dev/null',
    explain: 'PHP-FPM tourne toujours sur l’hôte php\u202F: Apache httpd obtient encore la page.',
    hint: 'Arrêtez-le sur l’hôte php\u202F: service php8.2-fpm stop.',
    example,
  }),
};

/** A call of fastcgi_finish_request() as a statement of its own (a commented-out call does not count). */
const FINISH_CALL = '^[[:space:]]*fastcgi_finish_request\\(';

/**
 * fastcgi_finish_request() and the 4-second work of the finish-request lab (`sleep(4)` stands for it).
 * Not diagnosed, because it cannot happen: output buffering (ob_start()) or Nginx's (fastcgi_buffering off)
 * holding the answer; fastcgi_finish_request() flushes every output buffer and ends the FastCGI request,
 * so both answered in 0.05 s (PHP 8.2, Nginx 1.22, measured in the lab).
 */
export const finishRequest = {
  /** The call is gone (deleted or commented out): the answer leaves when the script ends. */
  missing: (file: string, example: Example): Diagnosis => ({
    id: 'finish-missing',
    host: 'web',
    run: `! grep -qE '${FINISH_CALL}' ${file}`,
    explain: `${file} n’appelle plus fastcgi_finish_request()\u202F: la réponse ne part qu’à la fin du script, après les 4\u202Fsecondes de travail.`,
    hint: 'Remettez fastcgi_finish_request(); juste après l’echo de la réponse, avant le travail (sleep).',
    example,
  }),
  /** The call comes after the work: it still ends the request, but only once the work is done. */
  afterWork: (file: string, example: Example): Diagnosis => ({
    id: 'finish-after-work',
    host: 'web',
    run: `awk '/${FINISH_CALL}/ && !c { c = NR } /^[[:space:]]*sleep\\(/ && !s { s = NR } END { if (c && s && c > s) print "appel ligne " c ", sleep ligne " s; else exit 1 }' ${file}`,
    expect: { stdoutMatches: 'appel ligne (\\d+), sleep ligne (\\d+)' },
    explain: `Dans ${file}, fastcgi_finish_request() vient ligne {1}, après le travail (sleep, ligne {2})\u202F: la réponse attend la fin du travail.`,
    hint: 'Appelez fastcgi_finish_request() avant le travail, juste après l’echo de la réponse.',
    example,
  }),
  /** The script that shows the wait calls it too: curl no longer waits for its work. */
  inControl: (file: string, example: Example): Diagnosis => ({
    id: 'finish-in-control',
    host: 'web',
    run: `grep -nE '${FINISH_CALL}' ${file}`,
    expect: { stdoutMatches: '^(\\d+):' },
    explain: `${file} appelle fastcgi_finish_request() (ligne {1})\u202F: curl n’attend plus son travail, il n’y a plus rien à comparer.`,
    hint: 'Retirez cet appel de ce script\u202F: c’est le témoin sans fastcgi_finish_request().',
    example,
  }),
};
