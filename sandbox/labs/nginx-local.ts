// Demo "PHP-FPM en local, avec Nginx": Nginx and PHP-FPM on one host. At the start the chapter's server
// block (fastcgi_pass 127.0.0.1:9000, code in /scripts) works since PHP-FPM is now local; the learner moves
// PHP-FPM to a unix socket and points fastcgi_pass at it.
import { defineLab } from './schema.ts';
import { AFTER_RELOAD, CHAPTER_PAGE, CHAPTER_SOCKET, PAGE_OK, POOL, RELOAD_SHOWN, SOCKET, listenShown, runs, setListen } from './common.ts';
import { nginx, phpFpm } from './diagnoses.ts';

const CONF = '/etc/nginx/conf.d/default.conf';
const PAGE = 'http://localhost/index.php';

export default defineLab({
  id: 'nginx-local',
  title: 'PHP-FPM en local avec Nginx (socket Unix)',
  chapter: '05-fastcgi',
  hosts: [
    {
      name: 'web',
      ...runs('nginx', 'php-fpm'),
      files: [
        { path: CONF, source: 'nginx/default.conf' },
        { path: '/scripts/index.php', source: CHAPTER_PAGE },
      ],
      boot: [setListen('127.0.0.1:9000'), 'service php8.2-fpm start', 'rm -f /etc/nginx/sites-enabled/default', 'service nginx start'],
      workdir: '/etc/nginx/conf.d',
    },
  ],
  preview: { host: 'web', port: 80, path: '/index.php' },
  solution: [
    {
      id: 'listen-socket',
      title: `Faire écouter PHP-FPM sur un socket fichier : listen = ${SOCKET}`,
      host: 'web',
      run: listenShown(SOCKET),
      files: [POOL],
    },
    {
      id: 'fastcgi-socket',
      title: `Passer les requêtes à PHP-FPM par le socket : fastcgi_pass unix:${SOCKET};`,
      host: 'web',
      run: `sed -i 's|fastcgi_pass .*|fastcgi_pass   unix:${SOCKET};|' ${CONF}\n${RELOAD_SHOWN.nginx}`,
      settle: AFTER_RELOAD,
      files: [CONF],
    },
  ],
  checks: [
    {
      id: 'tcp-page',
      title: 'Au départ, la page passe par TCP (127.0.0.1:9000)',
      host: 'web',
      run: `curl -s -m 10 ${PAGE} && ss -Hltn | grep -o '127.0.0.1:9000'`,
      expect: { ...PAGE_OK, stdoutIncludes: [...PAGE_OK.stdoutIncludes, '127.0.0.1:9000'] },
      after: 'start',
    },
    {
      id: 'socket',
      title: `PHP-FPM écoute sur ${SOCKET} et plus sur le port 9000`,
      host: 'web',
      run: `test -S ${SOCKET} && ss -Hlx | grep -o '${SOCKET}' && ! ss -Hltn | grep -q ':9000\\b'`,
      expect: { stdoutIncludes: [SOCKET] },
      after: 'listen-socket',
      // The chapter's path as written: PHP-FPM does not start.
      diagnoses: [
        phpFpm.socketDirMissing('web', { after: 'start', host: 'web', run: listenShown(CHAPTER_SOCKET) }),
        phpFpm.stopped('web', { after: 'listen-socket', host: 'web', run: 'service php8.2-fpm stop' }),
        // www.conf edited, the restart forgotten.
        phpFpm.notRestarted('web', { after: 'start', host: 'web', run: setListen(SOCKET) }),
      ],
    },
    {
      id: 'page',
      title: 'La page affiche PHP-FPM et la version de PHP, par le socket Unix',
      host: 'web',
      run: `curl -s -m 10 ${PAGE} && ! ss -Hltn | grep -q ':9000\\b'`,
      expect: PAGE_OK,
      after: 'fastcgi-socket',
      diagnoses: [
        nginx.configInvalid({
          after: 'fastcgi-socket',
          host: 'web',
          run: `service nginx stop && sed -i 's/fastcgi_index /fastcgi_indx /' ${CONF}`,
        }),
        nginx.stopped({ after: 'fastcgi-socket', host: 'web', run: 'service nginx stop' }),
        phpFpm.socketDirMissing('web', { after: 'fastcgi-socket', host: 'web', run: listenShown(CHAPTER_SOCKET) }),
        // PHP-FPM removes its socket when it stops; a typo in either path gives the same error.
        nginx.socketMissing(PAGE, { after: 'fastcgi-socket', host: 'web', run: 'service php8.2-fpm stop' }),
      ],
    },
  ],
});
