// Lab definitions: every lab is valid, seeds files that exist, runs its checks in stages that exist, and
// asks only for known capabilities; the labs of chapter 05 are the chapter's five demos; bad definitions
// fail with errors that name the file and the field.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { FILES_DIR, getLab, loadLabs } from '../../sandbox/labs/index.ts';
import { parseLab, type LabInput } from '../../sandbox/labs/schema.ts';
import { runOrder, stepCommand } from '../../sandbox/labs/plan.ts';
import { checkFailures } from '../../sandbox/labs/expect.ts';
import { planLines } from '../../sandbox/labs/print.ts';

const filesDir = fileURLToPath(FILES_DIR);
const labs = loadLabs();
const FASTCGI = '05-fastcgi';

/** Linux capability names (without CAP_), as Docker's --cap-add takes them. */
const LINUX_CAPABILITIES = new Set(
  'AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND BPF CHECKPOINT_RESTORE CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW PERFMON SETFCAP SETGID SETPCAP SETUID SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG SYSLOG WAKE_ALARM'.split(
    ' ',
  ),
);

function minimal(patch: Partial<LabInput> = {}): LabInput {
  return {
    id: 'demo',
    title: 'Demo',
    chapter: '05-fastcgi',
    hosts: [{ name: 'web' }],
    preview: { host: 'web', port: 80 },
    ...patch,
  };
}

describe('the chapter labs', () => {
  test('the five demos of chapter 05 are defined, found by their files', () => {
    assert.deepEqual(
      labs.filter((l) => l.chapter === FASTCGI).map((l) => l.id),
      ['apache-local', 'apache-remote', 'finish-request', 'nginx-local', 'nginx-remote'],
    );
    assert.equal(getLab('nginx-remote')?.hosts.length, 2);
    assert.equal(getLab('no-such-lab'), undefined);
  });

  test('the remote labs have a web host and a php host; the local ones a single host', () => {
    for (const id of ['apache-remote', 'nginx-remote'])
      assert.deepEqual(
        getLab(id)?.hosts.map((h) => h.name),
        ['web', 'php'],
        id,
      );
    for (const id of ['apache-local', 'nginx-local', 'finish-request'])
      assert.deepEqual(
        getLab(id)?.hosts.map((h) => h.name),
        ['web'],
        id,
      );
  });

  for (const lab of labs) {
    describe(lab.id, () => {
      test('every seeded file exists in sandbox/labs/files', () => {
        for (const h of lab.hosts) {
          for (const f of h.files) {
            const path = join(filesDir, f.source);
            assert.ok(existsSync(path) && statSync(path).isFile(), `${lab.id}/${h.name}: missing sandbox/labs/files/${f.source}`);
          }
        }
      });

      test('hosts keep only known capabilities, and every host has the services it boots', () => {
        for (const h of lab.hosts) {
          assert.ok(h.capabilities.length > 0, `${h.name} has capabilities`);
          for (const c of h.capabilities) assert.ok(LINUX_CAPABILITIES.has(c), `${h.name}: unknown capability ${c}`);
          for (const [name, svc] of Object.entries(h.services)) {
            assert.match(svc.start, /^service \S+ start$/, `${h.name}/${name} start`);
            assert.match(svc.status, /^service \S+ status$/, `${h.name}/${name} status`);
          }
          for (const cmd of h.boot) {
            const started = /^service (\S+) start$/.exec(cmd)?.[1];
            if (started)
              assert.ok(
                Object.values(h.services).some((s) => s.start === cmd),
                `${h.name} boots ${started} without declaring it`,
              );
          }
        }
      });

      if (lab.chapter === FASTCGI) {
        test('the preview shows the web host on port 80, as in chapter 05', () => {
          assert.equal(lab.preview.host, 'web');
          assert.equal(lab.preview.port, 80);
        });
      }

      test('there is a reference solution and checks of its end state', () => {
        assert.ok(lab.solution.length > 0);
        assert.ok(lab.checks.length > 0);
        const order = runOrder(lab);
        assert.equal(order.filter((i) => i.kind === 'step').length, lab.solution.length);
        assert.equal(order.filter((i) => i.kind === 'check').length, lab.checks.length);
        // The last item is a check: the solution ends with something verified.
        assert.equal(order.at(-1)?.kind, 'check');
      });
    });
  }

  test('every file of sandbox/labs/files is seeded by some lab', () => {
    const used = new Set(labs.flatMap((l) => l.hosts.flatMap((h) => h.files.map((f) => f.source))));
    const present = readdirSync(filesDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(filesDir, join(e.parentPath, e.name)));
    assert.deepEqual(
      present.filter((p) => !used.has(p)),
      [],
    );
  });

  test('the page is the chapter’s index.php', () => {
    const page = readFileSync(join(filesDir, 'index.php'), 'utf8');
    for (const s of ['<title>PHP-FPM</title>', '<h1>PHP-FPM</h1>', '<h2><?= PHP_VERSION ?></h2>']) assert.ok(page.includes(s), s);
  });

  test('the chapter’s directives are in the reference solutions', () => {
    const all = (id: string) => JSON.stringify(getLab(id));
    assert.ok(all('apache-remote').includes('fcgi://php:9000/var/www/html/$1'));
    assert.ok(all('apache-remote').includes('DirectoryIndex index.php'));
    assert.ok(all('apache-remote').includes('a2enmod proxy proxy_fcgi'));
    assert.ok(all('nginx-remote').includes('fastcgi_pass   php:9000;'));
    assert.ok(
      readFileSync(join(filesDir, 'nginx/default.conf'), 'utf8').includes('fastcgi_param  SCRIPT_FILENAME  /scripts$fastcgi_script_name;'),
    );
    assert.ok(all('apache-local').includes('unix:/run/php/localhost.sock|fcgi://localhost/var/www/html/$1'));
    assert.ok(all('nginx-local').includes('fastcgi_pass   unix:/run/php/localhost.sock;'));
    assert.ok(readFileSync(join(filesDir, 'finish-request/avec-finish.php'), 'utf8').includes('fastcgi_finish_request();'));
  });

  test('nginx-remote tells the chapter’s story in stages: 502 local, 502 remote, then the page', () => {
    const lab = getLab('nginx-remote')!;
    const order = runOrder(lab).map((i) => (i.kind === 'step' ? `step:${i.step.id}` : `check:${i.check.id}`));
    assert.deepEqual(order, [
      'check:local-502',
      'check:local-refused',
      'step:point-at-php',
      'check:points-at-php',
      'step:reload',
      'check:remote-502',
      'check:remote-refused',
      'step:start-php',
      'check:page',
    ]);
    // PHP-FPM is not started on php at the start (the chapter starts it last).
    assert.ok(!lab.hosts.find((h) => h.name === 'php')!.boot.some((b) => b.includes('start')));
  });
});

describe('bad lab definitions', () => {
  const error = (input: unknown) => {
    try {
      parseLab('sandbox/labs/broken.ts', input);
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail('the definition was accepted');
  };

  test('the error names the file and each bad field', () => {
    const message = error({ id: 'Bad Id', hosts: [], preview: { host: 'web', port: 0 } });
    assert.match(message, /^Invalid lab definition in sandbox\/labs\/broken\.ts:/);
    for (const field of ['id', 'title', 'chapter', 'hosts', 'preview.port'])
      assert.match(message, new RegExp(`broken\\.ts:\\d+: ${field.replace('.', '\\.')}: `), field);
  });

  test('unknown and duplicate hosts', () => {
    assert.match(error(minimal({ hosts: [{ name: 'web' }, { name: 'web' }] })), /hosts\.1\.name: duplicate host "web"/);
    assert.match(
      error(minimal({ preview: { host: 'db', port: 80 } })),
      /preview\.host: unknown host "db"\n {4}fix: use one of the lab's hosts: web/,
    );
    assert.match(error(minimal({ solution: [{ title: 'x', host: 'php', run: 'true' }] })), /solution\.0\.host: unknown host "php"/);
  });

  test('seeded files: absolute target, relative source without ..', () => {
    assert.match(
      error(minimal({ hosts: [{ name: 'web', files: [{ path: 'etc/x', source: 'x' }] }] })),
      /hosts\.0\.files\.0\.path: must be an absolute path/,
    );
    assert.match(
      error(minimal({ hosts: [{ name: 'web', files: [{ path: '/x', source: '../x' }] }] })),
      /hosts\.0\.files\.0\.source: must not contain \.\./,
    );
    assert.match(
      error(minimal({ hosts: [{ name: 'web', files: [{ path: '/x', source: '/etc/passwd' }] }] })),
      /hosts\.0\.files\.0\.source: relative to sandbox\/labs\/files/,
    );
  });

  test('check stages must name a step', () => {
    const steps = [{ id: 'reload', title: 'Reload', host: 'web', run: 'true' }];
    const check = (after: string) => ({ id: 'page', title: 'Page', host: 'web', run: 'true', after });
    assert.doesNotThrow(() => parseLab('x', minimal({ solution: steps, checks: [check('reload'), { ...check('start'), id: 'first' }] })));
    assert.match(
      error(minimal({ solution: steps, checks: [check('relaod')] })),
      /checks\.0\.after: unknown step "relaod"\n {4}fix: use "start" or a solution step's id: start, reload/,
    );
    assert.match(error(minimal({ solution: [...steps, ...steps] })), /solution\.1\.id: duplicate step id "reload"/);
    assert.match(error(minimal({ solution: [{ ...steps[0]!, id: 'start' }] })), /solution\.0\.id: "start" is reserved/);
    assert.match(error(minimal({ checks: [check('start'), check('start')] })), /checks\.1\.id: duplicate check id "page"/);
  });

  test('capabilities and environment names', () => {
    assert.match(error(minimal({ hosts: [{ name: 'web', capabilities: ['cap_chown'] }] })), /hosts\.0\.capabilities\.0/);
    assert.match(error(minimal({ hosts: [{ name: 'web', env: { 'lower-case': 'x' } }] })), /hosts\.0\.env/);
  });
});

describe('running a lab', () => {
  test('run order: start checks, each step with its checks, then end-state checks', () => {
    const lab = parseLab('x', {
      ...minimal(),
      solution: [
        { id: 'a', title: 'A', host: 'web', run: 'a' },
        { title: 'B', host: 'web', run: 'b' },
      ],
      checks: [
        { id: 'end', title: 'End', host: 'web', run: 'e' },
        { id: 'after-a', title: 'After A', host: 'web', run: 'x', after: 'a' },
        { id: 'first', title: 'First', host: 'web', run: 'f', after: 'start' },
      ],
    });
    assert.deepEqual(
      runOrder(lab).map((i) => (i.kind === 'step' ? i.step.title : i.check.id)),
      ['first', 'A', 'after-a', 'B', 'end'],
    );
  });

  test('expectations: exit code, included strings, regular expression', () => {
    const expect = { exitCode: 0, stdoutIncludes: ['<h1>PHP-FPM</h1>'], stdoutMatches: '<h2>\\d+\\.\\d+\\.\\d+</h2>' };
    assert.deepEqual(checkFailures(expect, { exitCode: 0, stdout: '<h1>PHP-FPM</h1><h2>8.2.36</h2>' }), []);
    assert.deepEqual(checkFailures(expect, { exitCode: 7, stdout: '<h1>502 Bad Gateway</h1>' }), [
      'exit code 7, expected 0',
      'stdout lacks "<h1>PHP-FPM</h1>"',
      'stdout does not match /<h2>\\d+\\.\\d+\\.\\d+</h2>/',
    ]);
  });

  test('the shell plan carries every command intact (base64) in run order, steps with their settle wait', () => {
    const lab = getLab('apache-remote')!;
    const lines = planLines(lab).map((l) => l.split('\t'));
    const decode = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    const steps = lines.filter((l) => l[0] === 'step').map((l) => decode(l[2]!));
    assert.deepEqual(steps, lab.solution.map(stepCommand));
    assert.equal(steps[2], '{\napache2ctl configtest && service apache2 reload\n} && sleep 1');
    const hosts = lines.filter((l) => l[0] === 'host');
    assert.deepEqual(
      hosts.map((l) => l[1]),
      ['web', 'php'],
    );
    assert.match(hosts[0]![2]!, /^atelier-lab:[0-9a-f]{12}$/);
    assert.equal(hosts[0]![4], lab.hosts[0]!.capabilities.join(','));
    assert.deepEqual(lines.at(-1), ['preview', 'web', '80', '/']);
  });
});
