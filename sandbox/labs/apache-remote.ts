// Demo "PHP-FPM distant, avec Apache httpd": Apache httpd on `web` hands the .php files to PHP-FPM on `php`
// over TCP (FastCGI on port 9000). The learner enables mod_proxy and mod_proxy_fcgi and adds the chapter's
// ProxyPassMatch; with PHP-FPM stopped, Apache answers 503.
import { defineLab } from './schema.ts';
import { AFTER_RELOAD, CHAPTER_PAGE, PAGE_OK, RELOAD_SHOWN, httpStatus, runs, setListen } from './common.ts';
import { apache, phpFpm } from './diagnoses.ts';

const URL = 'http://localhost/';

const CONF = '/etc/apache2/conf-available/php-fpm.conf';

export default defineLab({
  id: 'apache-remote',
  title: 'PHP-FPM distant avec Apache httpd',
  chapter: '05-fastcgi',
  hosts: [
    {
      name: 'web',
      // Debian's stock Apache httpd (/etc/apache2), without mod_proxy nor mod_proxy_fcgi.
      ...runs('apache2'),
      boot: ['service apache2 start'],
      workdir: '/etc/apache2',
    },
    {
      name: 'php',
      ...runs('php-fpm'),
      // The code is where ProxyPassMatch says: /var/www/html on the PHP-FPM host.
      files: [{ path: '/var/www/html/index.php', source: CHAPTER_PAGE }],
      // Like the php:fpm image of the chapter: PHP-FPM listens on port 9000 of every address.
      boot: [setListen('9000'), 'service php8.2-fpm start'],
      workdir: '/var/www/html',
    },
  ],
  preview: { host: 'web', port: 80, path: '/' },
  solution: [
    {
      id: 'modules',
      title: 'Activer mod_proxy et mod_proxy_fcgi (les lignes LoadModule du chapitre)',
      host: 'web',
      run: 'a2enmod proxy proxy_fcgi',
      files: ['/etc/apache2/mods-enabled/proxy.conf', '/etc/apache2/mods-enabled/proxy.load', '/etc/apache2/mods-enabled/proxy_fcgi.load'],
    },
    {
      id: 'proxy',
      title: 'Déléguer les fichiers .php à PHP-FPM sur l’hôte php (ProxyPassMatch) et servir index.php',
      host: 'web',
      run: `cat > ${CONF} <<'EOF'
ProxyPassMatch ^/(.*\\.php(/.*)?)$ fcgi://php:9000/var/www/html/$1
<Directory "/var/www/html">
    DirectoryIndex index.php
</Directory>
EOF
a2enconf php-fpm`,
      files: [CONF, '/etc/apache2/conf-enabled/php-fpm.conf'],
    },
    {
      id: 'reload',
      title: 'Vérifier la configuration et recharger Apache httpd',
      host: 'web',
      run: RELOAD_SHOWN.apache2,
      settle: AFTER_RELOAD,
    },
    { id: 'stop-php', title: 'Arrêter PHP-FPM sur l’hôte php', host: 'php', run: 'service php8.2-fpm stop' },
  ],
  checks: [
    {
      id: 'stock-apache',
      title: 'Au départ, Apache httpd sert sa page par défaut, sans mod_proxy_fcgi',
      host: 'web',
      run: "curl -s -m 10 http://localhost/ | grep -o 'Apache2 Debian Default Page' && ! apache2ctl -M 2>/dev/null | grep -q proxy_fcgi",
      expect: { stdoutIncludes: ['Apache2 Debian Default Page'] },
      after: 'start',
    },
    {
      // The chapter's <Directory "/usr/local/apache2/htdocs"> is the httpd image's document root; Debian's is /var/www/html.
      id: 'document-root',
      title: 'La racine des documents d’Apache httpd sous Debian est /var/www/html',
      host: 'web',
      run: 'apache2ctl -S 2>/dev/null',
      expect: { stdoutIncludes: ['Main DocumentRoot: "/var/www/html"'] },
      after: 'start',
    },
    {
      id: 'php-listens',
      title: 'PHP-FPM écoute sur le port 9000 de l’hôte php',
      host: 'php',
      run: 'ss -Hltn',
      expect: { stdoutMatches: ':9000\\s' },
      after: 'start',
    },
    {
      id: 'modules',
      title: 'mod_proxy et mod_proxy_fcgi sont activés',
      host: 'web',
      run: 'apache2ctl -M 2>&1',
      expect: { stdoutIncludes: ['proxy_module', 'proxy_fcgi_module'] },
      after: 'modules',
      diagnoses: [
        apache.configInvalid({ after: 'modules', host: 'web', run: "echo 'ProxyPassMach x' >> /etc/apache2/apache2.conf" }),
        // e.g. `a2enmod proxy proxy_fcg`: « Module proxy_fcg does not exist! »
        apache.proxyFcgiMissing({ after: 'start', host: 'web', run: 'a2enmod proxy proxy_fcg || true' }),
      ],
    },
    {
      id: 'proxy',
      title: 'La règle ProxyPassMatch est activée, et apachectl configtest accepte la configuration',
      host: 'web',
      run: "apache2ctl configtest 2>&1; grep -RhsE '^\\s*ProxyPassMatch' /etc/apache2/conf-enabled/",
      expect: { stdoutIncludes: ['Syntax OK', 'fcgi://php:9000/var/www/html/$1'] },
      after: 'proxy',
      diagnoses: [
        apache.configInvalid({ after: 'proxy', host: 'web', run: `echo 'ProxyPassMach x' >> ${CONF}` }),
        // Written but not enabled: the file is in conf-available only.
        apache.noProxyRule({ after: 'proxy', host: 'web', run: 'a2disconf php-fpm' }),
      ],
    },
    {
      id: 'page',
      title: 'La page affiche PHP-FPM et la version de PHP',
      host: 'web',
      run: 'curl -s -m 10 http://localhost/',
      expect: PAGE_OK,
      after: 'reload',
      diagnoses: [
        apache.configInvalid({ after: 'reload', host: 'web', run: `service apache2 stop && echo 'ProxyPassMach x' >> ${CONF}` }),
        apache.stopped({ after: 'reload', host: 'web', run: 'service apache2 stop' }),
        apache.proxyFcgiMissing({ after: 'start', host: 'web', run: 'true' }),
        apache.noProxyRule({ after: 'modules', host: 'web', run: 'true' }),
        apache.notReloaded(URL, { after: 'proxy', host: 'web', run: 'true' }),
        phpFpm.listensElsewhere({ after: 'reload', host: 'php', run: `${setListen('127.0.0.1:9000')} && service php8.2-fpm restart` }),
        apache.unavailable(URL, { after: 'stop-php', host: 'web', run: 'true' }),
      ],
    },
    {
      id: 'unavailable',
      title: 'PHP-FPM arrêté : Apache httpd répond 503',
      host: 'web',
      run: httpStatus('http://localhost/'),
      expect: { stdoutIncludes: ['503'] },
      after: 'stop-php',
      diagnoses: [phpFpm.stillRunning({ after: 'reload', host: 'php', run: 'true' })],
    },
  ],
});
