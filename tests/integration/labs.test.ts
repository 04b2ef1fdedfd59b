// The chapters' claims are tests: every lab of sandbox/labs, in real containers, follows its story (the
// start-state checks, each step of the reference solution and the checks that hold after it, the end
// state; the code of `npm run lab -- check`, scripts/lab/verify.ts); for the labs of chapter 05, what the chapter says is then checked from the outside, through the
// preview target, as the preview proxy would see it: the page shows PHP-FPM and PHP's version; PHP-FPM
// stopped, Nginx answers 502 and Apache httpd 503; started again, 200; the unix-socket variants use a
// socket; fastcgi_finish_request() answers before the work ends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadLabs } from '../../sandbox/labs/index.ts';
import type { Lab } from '../../sandbox/labs/schema.ts';
import { formatRow, labExec, runItems, solutionItems } from '../../scripts/lab/verify.ts';
import { loadConfig } from '../../server/config.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { newLabId } from '../../server/sandbox/provider.ts';
import { pollUntil } from '../helpers/engine.ts';
import { httpGet as get } from '../helpers/http-get.ts';
import { hostExec, previewOf, service } from '../helpers/lab-ops.ts';

const config = loadConfig({ ...process.env, ATELIER_TEST: '1' });
const provider = new DockerProvider({ config, log: () => {} });

/** The host running a service whose name contains `name`, and that service's name. */
function serviceHost(lab: Lab, name: RegExp): { host: string; service: string } | undefined {
  for (const h of lab.hosts) {
    const service = Object.keys(h.services).find((s) => name.test(s));
    if (service) return { host: h.name, service };
  }
  return undefined;
}

const labs = loadLabs();
const FASTCGI = '05-fastcgi';

test('chapter 05 has its five labs', () => {
  assert.deepEqual(
    labs
      .filter((l) => l.chapter === FASTCGI)
      .map((l) => l.id)
      .sort(),
    ['apache-local', 'apache-remote', 'finish-request', 'nginx-local', 'nginx-remote'],
  );
});

before(() => provider.init());
after(() => provider.close());

for (const lab of labs) {
  describe(`lab ${lab.id}`, () => {
    const labId = newLabId();
    const exec = hostExec(provider, lab);
    const php = serviceHost(lab, /php.*fpm|fpm/);
    const web = serviceHost(lab, /^(nginx|apache2?)$/);

    before(async () => {
      const started = Date.now();
      await provider.createLab({ labId, owner: 'labs-test', definition: lab, expiresAt: new Date(Date.now() + 3_600_000) });
      console.log(`# ${lab.id}: created in ${Date.now() - started} ms`);
    });
    after(() => provider.destroyLab(labId));

    // The story, in the order of sandbox/labs/plan.ts, run by the code of `npm run lab -- check`.
    test('the reference solution, step by step, with the checks of each stage', async () => {
      const rows = await runItems(solutionItems(lab), labExec(provider, lab, labId));
      assert.ok(rows.length > 0);
      assert.deepEqual(rows.filter((r) => !r.ok).map(formatRow), [], rows.map(formatRow).join('\n'));
    });

    // What chapter 05 says of its labs (PHP-FPM behind Apache httpd or Nginx): another chapter's labs have their story above.
    if (lab.chapter !== FASTCGI) return;

    test('the page shows PHP-FPM and the PHP version, through the preview target', async () => {
      assert.ok(php, 'a host runs PHP-FPM');
      assert.equal((await service(provider, lab, labId, php.host, php.service, 'start')).running, true);
      const version = (await exec(labId, php.host, "php -r 'echo PHP_VERSION;'")).stdout.trim();
      assert.match(version, /^\d+\.\d+\.\d+/);
      const page = await get(previewOf(provider, lab, labId), '/index.php');
      assert.equal(page.status, 200);
      assert.match(page.body, /<title>PHP-FPM<\/title>/);
      assert.match(page.body, /<h1>PHP-FPM<\/h1>/);
      assert.ok(page.body.includes(`<h2>${version}</h2>`), `the page shows PHP ${version}:\n${page.body}`);
    });

    test('with PHP-FPM stopped, Nginx answers 502 and Apache httpd 503; started again, 200', async () => {
      assert.ok(php && web, 'a host runs PHP-FPM and one a web server');
      const expected = web.service === 'nginx' ? 502 : 503;
      const target = previewOf(provider, lab, labId);
      const stopped = await service(provider, lab, labId, php.host, php.service, 'stop');
      assert.equal(stopped.running, false, stopped.output);
      assert.equal((await get(target, '/index.php')).status, expected);
      const started = await service(provider, lab, labId, php.host, php.service, 'start');
      assert.equal(started.running, true, started.output);
      const again = await get(target, '/index.php');
      assert.equal(again.status, 200);
      assert.match(again.body, /<h1>PHP-FPM<\/h1>/);
    });

    if (lab.id.endsWith('-local')) {
      test('PHP-FPM and the web server talk over a unix socket, and the page works', async () => {
        assert.ok(php);
        const listen = await exec(labId, php.host, "grep -h '^listen = ' /etc/php/*/fpm/pool.d/*.conf");
        const socket = /^listen = (\/\S+)$/m.exec(listen.stdout)?.[1];
        assert.ok(socket, `PHP-FPM listens on a socket path: ${listen.stdout}`);
        const ss = await exec(labId, php.host, 'ss -Hlx; echo ---; ss -Hltn');
        const [unix, tcp] = ss.stdout.split('---');
        assert.ok(unix?.includes(socket), `a unix socket ${socket} listens:\n${ss.stdout}`);
        assert.doesNotMatch(tcp ?? '', /:9000\b/, 'nothing listens on TCP 9000');
        assert.equal((await get(previewOf(provider, lab, labId), '/index.php')).status, 200);
      });
    }

    if (lab.id === 'finish-request') {
      test('fastcgi_finish_request(): the response arrives before the work ends, the log shows the work done later', async () => {
        const target = previewOf(provider, lab, labId);
        await exec(labId, 'web', 'rm -f /tmp/travail.log');
        const response = await get(target, '/avec-finish.php');
        // Read the log the moment the response is complete.
        const during = await exec(labId, 'web', 'cat /tmp/travail.log 2>/dev/null');
        assert.equal(response.status, 200);
        assert.match(during.stdout, /avec-finish\.php : début du travail/);
        assert.doesNotMatch(during.stdout, /travail terminé/, 'the work is still going on when the response has arrived');
        const done = /avec-finish\.php : travail terminé/;
        const later = await pollUntil(
          () => exec(labId, 'web', 'cat /tmp/travail.log'),
          (r) => done.test(r.stdout),
          15_000,
          250,
        );
        assert.match(later.stdout, done);

        // Without fastcgi_finish_request(), the same work is done before the response comes.
        await exec(labId, 'web', 'rm -f /tmp/travail.log');
        const blocking = await get(target, '/sans-finish.php');
        const afterBlocking = await exec(labId, 'web', 'cat /tmp/travail.log');
        assert.equal(blocking.status, 200);
        assert.match(afterBlocking.stdout, /sans-finish\.php : travail terminé/);
      });
    }
  });
}
