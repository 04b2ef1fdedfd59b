// Demo "PHP-FPM en local, avec Apache httpd": Apache httpd and PHP-FPM on one host. At the start they talk
// over TCP on 127.0.0.1:9000 (the previous demo, on a single machine); the learner moves PHP-FPM to a unix
// socket and changes the ProxyPassMatch accordingly.
import { defineLab } from './schema.ts';
import { AFTER_RELOAD, CHAPTER_PAGE, CHAPTER_SOCKET, PAGE_OK, POOL, RELOAD_SHOWN, SOCKET, listenShown, runs, setListen } from './common.ts';
import { apache, phpFpm } from './diagnoses.ts';

const CONF = '/etc/apache2/conf-available/php-fpm.conf';

export default defineLab({
  id: 'apache-local',
  title: 'PHP-FPM en local avec Apache httpd (socket Unix)',
  chapter: '05-fastcgi',
  hosts: [
    {
      name: 'web',
      ...runs('apache2', 'php-fpm'),
      files: [
        { path: '/var/www/html/index.php', source: CHAPTER_PAGE },
        { path: CONF, source: 'apache-local/php-fpm.conf' },
      ],
      boot: [
        setListen('127.0.0.1:9000'),
        'service php8.2-fpm start',
        'a2enmod -q proxy proxy_fcgi && a2enconf -q php-fpm',
        'service apache2 start',
      ],
      workdir: '/etc/apache2',
    },
  ],
  preview: { host: 'web', port: 80, path: '/' },
  solution: [
    {
      id: 'listen-socket',
      title: `Faire écouter PHP-FPM sur un socket fichier : listen = ${SOCKET}`,
      host: 'web',
      run: listenShown(SOCKET),
      files: [POOL],
    },
    {
      id: 'proxy-socket',
      title: 'Changer le ProxyPassMatch en conséquence',
      host: 'web',
      run: `cat > ${CONF} <<'EOF'
ProxyPassMatch ^/(.*\\.php(/.*)?)$ "unix:${SOCKET}|fcgi://localhost/var/www/html/$1"
<Directory "/var/www/html">
    DirectoryIndex index.php
</Directory>
EOF
${RELOAD_SHOWN.apache2}`,
      settle: AFTER_RELOAD,
      files: [CONF],
    },
  ],
  checks: [
    {
      id: 'tcp-page',
      title: 'Au départ, la page passe par TCP (127.0.0.1:9000)',
      host: 'web',
      run: "curl -s -m 10 http://localhost/ && ss -Hltn | grep -o '127.0.0.1:9000'",
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
      run: `curl -s -m 10 http://localhost/ && ! ss -Hltn | grep -q ':9000\\b'`,
      expect: PAGE_OK,
      after: 'proxy-socket',
      diagnoses: [
        apache.configInvalid({ after: 'proxy-socket', host: 'web', run: `service apache2 stop && echo 'ProxyPassMach x' >> ${CONF}` }),
        apache.stopped({ after: 'proxy-socket', host: 'web', run: 'service apache2 stop' }),
        phpFpm.socketDirMissing('web', { after: 'proxy-socket', host: 'web', run: listenShown(CHAPTER_SOCKET) }),
        // The socket is gone with PHP-FPM: Apache answers 503 (AH02454 in its error log).
        apache.unavailable('http://localhost/', { after: 'proxy-socket', host: 'web', run: 'service php8.2-fpm stop' }),
      ],
    },
  ],
});
