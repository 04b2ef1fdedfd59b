// Demo "PHP-FPM distant, avec Nginx", as the chapter tells it: the server block of the nginx image passes
// .php to 127.0.0.1:9000, which fails (502, "Connection refused" in the error log) since PHP-FPM is on
// another host; pointed at `php`, it still fails until PHP-FPM starts; then the page works.
import { defineLab } from './schema.ts';
import { AFTER_RELOAD, CHAPTER_PAGE, PAGE_OK, RELOAD, RELOAD_SHOWN, httpStatus, runs, setListen } from './common.ts';
import { nginx, phpFpm, story } from './diagnoses.ts';

const CONF = '/etc/nginx/conf.d/default.conf';
const PAGE = 'http://localhost/index.php';
const REFUSED = 'connect() failed (111: Connection refused) while connecting to upstream';

/** The 502 checks, before PHP-FPM runs: Nginx stopped, or the learner already went to the end. */
const before502 = (after: string) => [
  nginx.stopped({ after, host: 'web', run: 'service nginx stop' }),
  story.alreadyDone('web', `curl -s -m 5 ${PAGE} | grep -q '<h1>PHP-FPM</h1>'`, 'La page s’affiche déjà (PHP-FPM répond)', {
    after: 'start-php',
    host: 'web',
    run: 'true',
  }),
];

export default defineLab({
  id: 'nginx-remote',
  title: 'PHP-FPM distant avec Nginx',
  chapter: '05-fastcgi',
  hosts: [
    {
      name: 'web',
      ...runs('nginx'),
      files: [
        // The nginx image's conf.d/default.conf, edited as in the chapter (fastcgi_pass 127.0.0.1:9000).
        { path: CONF, source: 'nginx/default.conf' },
        // The chapter mounts the code in /code on the Nginx container too (Nginx does not read it).
        { path: '/code/index.php', source: CHAPTER_PAGE },
      ],
      // Debian's own default site would also claim port 80: the chapter's server block is the only one.
      boot: ['rm -f /etc/nginx/sites-enabled/default', 'service nginx start'],
      workdir: '/etc/nginx/conf.d',
    },
    {
      name: 'php',
      ...runs('php-fpm'),
      // The code is where SCRIPT_FILENAME says: /scripts. PHP-FPM is configured but not started yet.
      files: [{ path: '/scripts/index.php', source: CHAPTER_PAGE }],
      boot: [setListen('9000')],
      workdir: '/scripts',
    },
  ],
  preview: { host: 'web', port: 80, path: '/index.php' },
  solution: [
    {
      id: 'point-at-php',
      title: 'Garder la ligne fastcgi_pass 127.0.0.1:9000 en commentaire et viser l’hôte php en dessous',
      host: 'web',
      // As in the chapter's source: the old line stays, commented out, above the new one (same indent).
      run: `sed -E -i 's|^( *)(fastcgi_pass   127\\.0\\.0\\.1:9000;)|\\1#\\2\\n\\1fastcgi_pass   php:9000;|' ${CONF}`,
      files: [CONF],
    },
    {
      id: 'reload',
      title: 'Vérifier la configuration et recharger Nginx (PHP-FPM n’est toujours pas démarré)',
      host: 'web',
      run: RELOAD_SHOWN.nginx,
      settle: AFTER_RELOAD,
    },
    { id: 'start-php', title: 'Démarrer PHP-FPM sur l’hôte php', host: 'php', run: 'service php8.2-fpm start' },
  ],
  checks: [
    {
      id: 'local-502',
      title: 'fastcgi_pass 127.0.0.1:9000 : Nginx répond 502',
      host: 'web',
      run: httpStatus(PAGE),
      expect: { stdoutIncludes: ['502'] },
      after: 'start',
      diagnoses: before502('start'),
    },
    {
      id: 'local-refused',
      title: 'Le journal d’erreurs montre la connexion refusée vers fastcgi://127.0.0.1:9000',
      host: 'web',
      run: `curl -s -o /dev/null -m 10 ${PAGE}; tail -n 1 /var/log/nginx/error.log`,
      expect: { stdoutIncludes: [REFUSED, 'upstream: "fastcgi://127.0.0.1:9000"'] },
      after: 'start',
    },
    {
      id: 'points-at-php',
      title: 'fastcgi_pass vise php:9000, et nginx -t accepte la configuration',
      host: 'web',
      run: `nginx -t 2>&1 | tail -n 1; grep -E '^\\s*#?\\s*fastcgi_pass' ${CONF}`,
      expect: { stdoutIncludes: ['test is successful'], stdoutMatches: '\\n\\s*fastcgi_pass\\s+php:9000;' },
      after: 'point-at-php',
      diagnoses: [
        // A typo, as `fastcgi_pass ph:9000;` (host not found in upstream) or a misspelled directive.
        nginx.configInvalid({ after: 'point-at-php', host: 'web', run: `sed -i 's/php:9000;/ph:9000;/' ${CONF}` }),
        nginx.stillLocal(CONF, { after: 'start', host: 'web', run: 'true' }),
      ],
    },
    {
      id: 'remote-502',
      title: 'fastcgi_pass php:9000, PHP-FPM pas démarré : toujours 502',
      host: 'web',
      run: httpStatus(PAGE),
      expect: { stdoutIncludes: ['502'] },
      after: 'reload',
      diagnoses: before502('reload'),
    },
    {
      id: 'remote-refused',
      title: 'Le journal montre maintenant la connexion refusée par l’hôte php',
      host: 'web',
      // Nginx resolved `php` when it loaded the configuration: the upstream is php's address.
      run: `curl -s -o /dev/null -m 10 ${PAGE}; tail -n 1 /var/log/nginx/error.log; getent hosts php`,
      expect: { stdoutIncludes: [REFUSED], stdoutMatches: 'upstream: "fastcgi://([0-9.]+):9000"[\\s\\S]*\\n\\1\\s+php' },
      after: 'reload',
    },
    {
      id: 'page',
      title: 'PHP-FPM démarré : la page affiche PHP-FPM et la version de PHP',
      host: 'web',
      run: `curl -s -m 10 ${PAGE}`,
      expect: PAGE_OK,
      after: 'start-php',
      diagnoses: [
        nginx.configInvalid({
          after: 'start-php',
          host: 'web',
          run: `service nginx stop && sed -i 's/fastcgi_index /fastcgi_indx /' ${CONF}`,
        }),
        nginx.stopped({ after: 'start-php', host: 'web', run: 'service nginx stop' }),
        nginx.notReloaded(CONF, PAGE, { after: 'point-at-php', host: 'web', run: 'true' }),
        nginx.upstreamLocal(PAGE, { after: 'start', host: 'web', run: 'true' }),
        phpFpm.listensElsewhere({ after: 'start-php', host: 'php', run: `${setListen('127.0.0.1:9000')} && service php8.2-fpm restart` }),
        nginx.upstreamRefused(PAGE, { after: 'reload', host: 'web', run: 'true' }),
        nginx.scriptNotFound(CONF, PAGE, {
          after: 'start-php',
          host: 'web',
          run: `sed -i 's|/scripts\\$fastcgi_script_name|/code$fastcgi_script_name|' ${CONF} && ${RELOAD.nginx}`,
        }),
      ],
    },
  ],
});
