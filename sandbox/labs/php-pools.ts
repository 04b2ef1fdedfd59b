// Chapter 06, « Héberger plusieurs sites avec PHP-FPM »: two sites on one Nginx. At the start both go to
// Debian's one pool (www, user www-data), so site A's PHP reads site B's password. The learner gives each
// site a system user and private files, then a pool of its own (user, socket, open_basedir, pm), then
// points each server block at its pool. The checks prove the isolation both ways it holds: open_basedir
// (PHP's file functions) and the files' permissions (what a shell command run by PHP meets), and that each
// pool runs as its own user behind a socket only Nginx may use.
import { AFTER_RELOAD, runs } from './common.ts';
import { nginx, phpFpm, story } from './diagnoses.ts';
import { defineLab } from './schema.ts';

const SITES = ['site-a', 'site-b'] as const;
const POOL_DIR = '/etc/php/8.2/fpm/pool.d';
const poolFile = (site: string) => `${POOL_DIR}/${site}.conf`;
const nginxSite = (site: string) => `/etc/nginx/sites-available/${site}`;
/** curl of a page of one site: the lab's Nginx tells the sites apart by the Host header, as in real life. */
const page = (site: string, path = '/') => `curl -s -m 10 -H "Host: ${site}.test" http://localhost${path}`;
const RELOAD_FPM = 'php-fpm8.2 -t && service php8.2-fpm reload';
/** PHP-FPM's reload (SIGUSR2) is applied in the background: wait until both pools' sockets are there. */
const AFTER_FPM_RELOAD = `for i in $(seq 50); do [ -S /run/php/site-a.sock ] && [ -S /run/php/site-b.sock ] && break; sleep 0.1; done`;
/** useradd writes these (and its backups, the files ending in -). */
const ACCOUNT_FILES = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'].flatMap((f) => [f, `${f}-`]);

/** PHP-FPM refuses its configuration (php-fpm8.2 -t): quote its error. */
const fpmConfigInvalid = (example: { after: string; host: string; run: string }) => ({
  id: 'fpm-config-invalid',
  host: 'web',
  run: 'out=$(php-fpm8.2 -t 2>&1) && exit 1; echo "$out"',
  expect: { stdoutMatches: 'ERROR: (.+)' },
  explain: 'PHP-FPM refuse sa configuration\u202F: {1}',
  hint: 'Corrigez le fichier du pool, vérifiez avec php-fpm8.2 -t, puis rechargez\u202F: service php8.2-fpm reload.',
  example,
});

const POOL_A = `[site-a]
user = site-a
group = site-a

listen = /run/php/site-a.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0660

pm = ondemand
pm.max_children = 5
pm.process_idle_timeout = 10s

php_admin_value[open_basedir] = /var/www/site-a`;

export default defineLab({
  id: 'php-pools',
  title: 'Deux sites, deux pools PHP-FPM',
  chapter: '06-php-multitenant',
  hosts: [
    {
      name: 'web',
      ...runs('nginx', 'php-fpm'),
      files: [
        ...SITES.flatMap((site) => [
          { path: nginxSite(site), source: `php-pools/nginx/${site}` },
          { path: `/var/www/${site}/public/index.php`, source: 'php-pools/index.php' },
          { path: `/var/www/${site}/public/voisin.php`, source: 'php-pools/voisin.php' },
          { path: `/var/www/${site}/config.php`, source: `php-pools/${site}/config.php` },
        ]),
      ],
      boot: [
        'rm -f /etc/nginx/sites-enabled/default',
        ...SITES.map((site) => `ln -s ${nginxSite(site)} /etc/nginx/sites-enabled/${site}`),
        'service php8.2-fpm start',
        'service nginx start',
      ],
      workdir: POOL_DIR,
    },
  ],
  preview: {
    host: 'web',
    port: 80,
    path: '/',
    sites: [
      { hostHeader: 'site-a.test', label: 'Site A' },
      { hostHeader: 'site-b.test', label: 'Site B' },
    ],
  },
  solution: [
    {
      id: 'users',
      title: 'Un utilisateur système par site, propriétaire de ses fichiers, que les autres ne lisent pas',
      host: 'web',
      run: `for site in site-a site-b; do
  useradd --system --no-create-home --home-dir /var/www/$site --shell /usr/sbin/nologin $site
  chown -R $site:www-data /var/www/$site
  chmod -R u=rwX,g=rX,o= /var/www/$site
done`,
      files: ACCOUNT_FILES,
    },
    {
      id: 'pool-a',
      title: 'Le pool du site A : son utilisateur, son socket, ses limites',
      host: 'web',
      run: `cat > ${poolFile('site-a')} <<'EOF'\n${POOL_A}\nEOF`,
      files: [poolFile('site-a')],
    },
    {
      id: 'pool-b',
      title: 'Le pool du site B, copié de celui du site A, puis PHP-FPM rechargé',
      host: 'web',
      run: `sed 's/site-a/site-b/g' ${poolFile('site-a')} > ${poolFile('site-b')}\n${RELOAD_FPM}`,
      settle: AFTER_FPM_RELOAD,
      files: [poolFile('site-b')],
    },
    {
      id: 'nginx-pools',
      title: 'Chaque site de Nginx passe ses requêtes à son pool',
      host: 'web',
      run: `sed -i 's|/run/php/php8.2-fpm.sock|/run/php/site-a.sock|' ${nginxSite('site-a')}
sed -i 's|/run/php/php8.2-fpm.sock|/run/php/site-b.sock|' ${nginxSite('site-b')}
nginx -t && service nginx reload`,
      settle: AFTER_RELOAD,
      files: SITES.map(nginxSite),
    },
  ],
  checks: [
    {
      id: 'shared',
      title: 'Au départ, les deux sites tournent sous www-data : le site A lit le mot de passe du site B',
      host: 'web',
      run: page('site-a', '/voisin.php'),
      expect: { stdoutIncludes: ['Utilisateur : www-data', 'secret-du-site-b'] },
      after: 'start',
      diagnoses: [
        nginx.stopped({ after: 'start', host: 'web', run: 'service nginx stop' }),
        phpFpm.stopped('web', { after: 'start', host: 'web', run: 'service php8.2-fpm stop' }),
        story.alreadyDone('web', `${page('site-a')} | grep -q 'id="utilisateur">site-a'`, 'Le PHP du site A s’exécute déjà sous site-a', {
          after: 'nginx-pools',
          host: 'web',
          run: 'true',
        }),
      ],
    },
    {
      id: 'users',
      title: 'Chaque site a son utilisateur, et aucun ne lit les fichiers de l’autre',
      host: 'web',
      run: `stat -c '%U:%G %A %n' /var/www/site-a /var/www/site-b
runuser -u site-a -- cat /var/www/site-b/config.php 2>&1
runuser -u site-b -- cat /var/www/site-a/config.php 2>&1
true`,
      expect: {
        stdoutIncludes: [
          'site-a:www-data drwxr-x--- /var/www/site-a',
          'site-b:www-data drwxr-x--- /var/www/site-b',
          'cat: /var/www/site-b/config.php: Permission denied',
          'cat: /var/www/site-a/config.php: Permission denied',
        ],
      },
      after: 'users',
      diagnoses: [
        {
          id: 'user-missing',
          host: 'web',
          run: 'for site in site-a site-b; do id -u $site >/dev/null 2>&1 || echo $site; done',
          expect: { stdoutMatches: '^(site-[ab])\\b' },
          explain: 'L’utilisateur {1} n’existe pas.',
          hint: 'Créez-le\u202F: useradd --system --no-create-home --home-dir /var/www/{1} --shell /usr/sbin/nologin {1}',
          example: { after: 'start', host: 'web', run: 'true' },
        },
        {
          id: 'others-can-read',
          host: 'web',
          run: 'find /var/www/site-a /var/www/site-b -perm -o=r -print -quit',
          expect: { stdoutMatches: '^(/\\S+)' },
          explain: '{1} est lisible par tous les utilisateurs de la machine, donc par le PHP de l’autre site.',
          hint: 'Retirez les droits des autres\u202F: chmod -R o= sur le dossier du site (le groupe www-data garde la lecture pour Nginx).',
          example: { after: 'users', host: 'web', run: 'chmod -R o+rX /var/www/site-b' },
        },
      ],
    },
    {
      id: 'pool-a',
      title: 'Le pool du site A est écrit, et php-fpm8.2 -t l’accepte',
      host: 'web',
      run: `php-fpm8.2 -t 2>&1 | grep -o 'test is successful'; grep -E '^(user|listen|listen\\.mode) = ' ${poolFile('site-a')}`,
      expect: { stdoutIncludes: ['test is successful', 'user = site-a', 'listen = /run/php/site-a.sock', 'listen.mode = 0660'] },
      after: 'pool-a',
      diagnoses: [
        // e.g. a user that does not exist: « [pool site-a] cannot get uid for user 'site-x' »
        fpmConfigInvalid({ after: 'pool-a', host: 'web', run: `sed -i 's/^user = site-a/user = site-x/' ${poolFile('site-a')}` }),
        {
          id: 'pool-missing',
          host: 'web',
          run: `! test -f ${poolFile('site-a')}`,
          explain: `Le fichier ${poolFile('site-a')} n’existe pas\u202F: PHP-FPM lit un fichier par pool dans ${POOL_DIR}.`,
          hint: 'Créez-le avec le contenu ci-dessus (la commande de l’étape), puis vérifiez avec php-fpm8.2 -t.',
          example: { after: 'users', host: 'web', run: 'true' },
        },
      ],
    },
    {
      id: 'pools',
      title: 'Deux pools, chacun derrière un socket que seul Nginx (www-data) peut utiliser',
      host: 'web',
      run: `php-fpm8.2 -t 2>/dev/null && stat -c '%U:%G %a %n' /run/php/site-a.sock /run/php/site-b.sock
runuser -u site-b -- nc -U -N /run/php/site-a.sock </dev/null 2>&1
runuser -u site-a -- nc -U -N /run/php/site-b.sock </dev/null 2>&1
true`,
      expect: {
        stdoutIncludes: [
          'www-data:www-data 660 /run/php/site-a.sock',
          'www-data:www-data 660 /run/php/site-b.sock',
          'nc: /run/php/site-a.sock: Permission denied',
          'nc: /run/php/site-b.sock: Permission denied',
        ],
      },
      after: 'pool-b',
      diagnoses: [
        fpmConfigInvalid({ after: 'pool-b', host: 'web', run: `sed -i 's/^pm = ondemand/pm = surdemande/' ${poolFile('site-b')}` }),
        {
          id: 'fpm-not-reloaded',
          host: 'web',
          run: `for site in site-a site-b; do [ -f ${POOL_DIR}/$site.conf ] && [ ! -S /run/php/$site.sock ] && echo $site; done | head -n 1`,
          expect: { stdoutMatches: '^(site-[ab])\\b' },
          explain: 'Le pool {1} est écrit, mais PHP-FPM ne l’a pas encore lu\u202F: son socket /run/php/{1}.sock n’existe pas.',
          hint: 'Vérifiez la configuration et rechargez PHP-FPM\u202F: php-fpm8.2 -t && service php8.2-fpm reload',
          example: { after: 'pool-a', host: 'web', run: 'true' },
        },
        {
          id: 'socket-open',
          host: 'web',
          run: "stat -c '%U:%G %a %n' /run/php/site-a.sock /run/php/site-b.sock | grep -v '^www-data:www-data 660 '",
          expect: { stdoutMatches: '^(\\S+) (\\d+) (\\S+)' },
          explain:
            'Le socket {3} appartient à {1} avec les droits {2}\u202F: d’autres que Nginx peuvent s’y connecter et faire exécuter du PHP par ce pool.',
          hint: 'Dans le pool\u202F: listen.owner = www-data, listen.group = www-data, listen.mode = 0660, puis service php8.2-fpm restart (un reload garde le socket tel quel).',
          example: {
            after: 'pool-b',
            host: 'web',
            run: `sed -i 's/^listen.mode = 0660/listen.mode = 0666/' ${poolFile('site-b')} && service php8.2-fpm restart`,
          },
        },
      ],
    },
    {
      id: 'isolated',
      title: 'Chaque site s’exécute sous son utilisateur, et le site A ne lit plus le site B',
      host: 'web',
      run: `for site in site-a site-b; do
  ${page('$site')} -c /tmp/$site.cookies >/dev/null
  ${page('$site')} -b /tmp/$site.cookies | grep -o 'id="[a-z]*">[a-z0-9-]*'
done
${page('site-a', '/voisin.php')}
ps -o user=,args= -C php-fpm8.2`,
      expect: {
        stdoutIncludes: [
          'id="utilisateur">site-a',
          'id="utilisateur">site-b',
          'open_basedir restriction in effect',
          'cat: /var/www/site-b/config.php: Permission denied',
        ],
        // The session survives a second visit (open_basedir leaves PHP's own session files alone), and ps shows each pool's workers.
        stdoutMatches: 'id="visites">2[\\s\\S]*id="visites">2[\\s\\S]*site-a +php-fpm: pool site-a[\\s\\S]*site-b +php-fpm: pool site-b',
      },
      diagnoses: [
        nginx.configInvalid({
          after: 'nginx-pools',
          host: 'web',
          run: `service nginx stop && sed -i 's/fastcgi_pass /fastcgi_pas /' ${nginxSite('site-b')}`,
        }),
        nginx.stopped({ after: 'nginx-pools', host: 'web', run: 'service nginx stop' }),
        {
          id: 'shared-pool',
          host: 'web',
          run: `for site in site-a site-b; do ${page('$site')} | grep -q 'id="utilisateur">www-data' && echo $site; done | head -n 1`,
          expect: { stdoutMatches: '^(site-[ab])\\b' },
          explain: 'Le PHP de {1} s’exécute encore sous www-data\u202F: Nginx envoie ses requêtes au pool commun.',
          hint: 'Dans /etc/nginx/sites-available/{1}\u202F: fastcgi_pass unix:/run/php/{1}.sock; puis nginx -t && service nginx reload.',
          example: { after: 'pool-b', host: 'web', run: 'true' },
        },
        {
          id: 'no-open-basedir',
          host: 'web',
          run: `${page('site-a', '/voisin.php')} | grep '^file_get_contents'`,
          expect: { stdoutMatches: '^file_get_contents\\(\\) : (?!.*open_basedir).*Permission denied' },
          explain:
            'Seuls les droits des fichiers ont arrêté file_get_contents()\u202F: open_basedir n’est pas en place dans le pool du site A.',
          hint: 'Dans site-a.conf\u202F: php_admin_value[open_basedir] = /var/www/site-a, puis php-fpm8.2 -t && service php8.2-fpm reload.',
          example: {
            after: 'nginx-pools',
            host: 'web',
            run: `sed -i '/open_basedir/d' ${poolFile('site-a')} && service php8.2-fpm reload && sleep 1`,
          },
        },
        {
          id: 'files-readable',
          host: 'web',
          run: `${page('site-a', '/voisin.php')} | grep -F "shell_exec('cat') : <?php"`,
          explain:
            'open_basedir arrête file_get_contents(), mais une commande lancée par PHP (cat) lit le fichier du site B\u202F: ses droits le laissent lire.',
          hint: 'Rendez les fichiers du site B illisibles pour les autres\u202F: chown -R site-b:www-data /var/www/site-b && chmod -R u=rwX,g=rX,o= /var/www/site-b',
          example: { after: 'nginx-pools', host: 'web', run: 'chmod -R o+rX /var/www/site-b' },
        },
      ],
    },
  ],
});
