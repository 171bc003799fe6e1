import { describe, expect, it } from 'vitest';

import { helpText, parseCommandLine } from '../../scripts/lib/lbctl/command-line.mjs';
import { COMMANDS, ifMatchHeader, RefusedError, UsageError } from '../../scripts/lib/lbctl/commands.mjs';

/** The calls a command line maps to, without the response keys. */
function calls(argv: string[]) {
  return parseCommandLine(argv).requests.map(({ key: _key, ...call }) => call);
}

function usageError(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`no usage error for: ${argv.join(' ')}`);
}

describe('lbctl command line → admin API calls', () => {
  const cases: [string, string[], object[]][] = [
    [
      'status',
      ['status'],
      [
        { method: 'GET', path: '/config' },
        { method: 'GET', path: '/health', optional: true },
        { method: 'GET', path: '/stats', optional: true },
        { method: 'GET', path: '/pops', optional: true },
      ],
    ],
    ['config get', ['config', 'get'], [{ method: 'GET', path: '/config' }]],
    ['config put', ['config', 'put', 'cfg.json'], [{ method: 'PUT', path: '/config', bodyFile: 'cfg.json' }]],
    ['config put from stdin', ['config', 'put', '-', '--if-match', '7'], [{ method: 'PUT', path: '/config', bodyFile: '-', ifMatch: '"7"' }]],
    ['config put --dry-run', ['config', 'put', 'cfg.json', '--dry-run'], [{ method: 'PUT', path: '/config', query: { dry_run: 'true' }, bodyFile: 'cfg.json' }]],
    ['config history', ['config', 'history'], [{ method: 'GET', path: '/config/versions' }]],
    ['config show', ['config', 'show', '12'], [{ method: 'GET', path: '/config/versions/12' }]],
    ['config rollback', ['config', 'rollback', '12'], [{ method: 'POST', path: '/config/rollback', body: { version: 12 } }]],
    ['pool list', ['pool', 'list'], [{ method: 'GET', path: '/pools' }]],
    ['pool get', ['pool', 'get', 'eu'], [{ method: 'GET', path: '/pools/eu' }]],
    ['pool add', ['pool', 'add', 'pool.json'], [{ method: 'POST', path: '/pools', bodyFile: 'pool.json' }]],
    ['pool rm', ['pool', 'rm', 'eu', '--if-match', '3'], [{ method: 'DELETE', path: '/pools/eu', ifMatch: '"3"' }]],
    [
      'origin add',
      ['origin', 'add', 'eu', 'b4', 'http://10.0.0.4:8080'],
      [{ method: 'POST', path: '/pools/eu/origins', body: { name: 'b4', address: 'http://10.0.0.4:8080' } }],
    ],
    [
      'origin add with every flag',
      ['origin', 'add', 'eu', 'b4', '10.0.0.4:8080', '--weight', '2.5', '--backup', '--disabled', '--if-match', '"9"'],
      [
        {
          method: 'POST',
          path: '/pools/eu/origins',
          body: { name: 'b4', address: '10.0.0.4:8080', weight: 2.5, backup: true, enabled: false },
          ifMatch: '"9"',
        },
      ],
    ],
    ['origin rm', ['origin', 'rm', 'eu', 'b4'], [{ method: 'DELETE', path: '/pools/eu/origins/b4' }]],
    ['origin weight', ['origin', 'weight', 'eu', 'b1', '0'], [{ method: 'PATCH', path: '/pools/eu/origins/b1', body: { weight: 0 } }]],
    ['origin drain', ['origin', 'drain', 'eu', 'b1'], [{ method: 'PATCH', path: '/pools/eu/origins/b1', body: { drain: true } }]],
    ['origin undrain', ['origin', 'undrain', 'eu', 'b1'], [{ method: 'PATCH', path: '/pools/eu/origins/b1', body: { drain: false } }]],
    ['origin enable', ['origin', 'enable', 'eu', 'b1'], [{ method: 'PATCH', path: '/pools/eu/origins/b1', body: { enabled: true } }]],
    [
      'origin disable with If-Match',
      ['origin', 'disable', 'eu', 'b1', '--if-match', 'W/"4"'],
      [{ method: 'PATCH', path: '/pools/eu/origins/b1', body: { enabled: false }, ifMatch: 'W/"4"' }],
    ],
    ['pop list', ['pop', 'list'], [{ method: 'GET', path: '/pops' }]],
    ['pop withdraw', ['pop', 'withdraw', 'fra'], [{ method: 'PUT', path: '/pops/FRA', body: { withdrawn: true } }]],
    ['pop restore', ['pop', 'restore', 'FRA'], [{ method: 'PUT', path: '/pops/FRA', body: { withdrawn: false } }]],
    ['explain without facts', ['explain'], [{ method: 'GET', path: '/explain', query: {} }]],
    [
      'explain with every fact',
      [
        'explain', '--host', 'app.example', '--ip', '198.51.100.7', '--country', 'br', '--lat', '-23.55', '--lon', '-46.63',
        '--colo', 'gru', '--cookie', 'tok', '--method', 'post', '--path', '/cart',
      ],
      [
        {
          method: 'GET',
          path: '/explain',
          query: {
            host: 'app.example', ip: '198.51.100.7', country: 'BR', lat: '-23.55', lon: '-46.63',
            colo: 'GRU', cookie: 'tok', method: 'POST', path: '/cart',
          },
        },
      ],
    ],
    ['rule list', ['rule', 'list', 'main'], [{ method: 'GET', path: '/load_balancers/main' }]],
    // A rule is added or removed by reading the load balancer, then writing it back (the follow-up below).
    ['rule add', ['rule', 'add', 'main', '--name', 'api', '--condition', 'http.host eq "a"'], [{ method: 'GET', path: '/load_balancers/main' }]],
    ['rule rm', ['rule', 'rm', 'main', 'api'], [{ method: 'GET', path: '/load_balancers/main' }]],
    [
      'rule test',
      [
        'rule', 'test', 'app.example', '/api/search?q=1', '--method', 'post', '--header', 'x-user:alice', '--header', 'Cookie: s=1',
        '--country', 'br', '--ip', '198.51.100.7', '--colo', 'gru', '--cookie', 'tok',
      ],
      [
        {
          method: 'GET',
          path: '/explain',
          query: {
            host: 'app.example', path: '/api/search?q=1', method: 'POST', header: ['x-user:alice', 'Cookie: s=1'],
            country: 'BR', colo: 'GRU', ip: '198.51.100.7', cookie: 'tok',
          },
        },
      ],
    ],
    ['rule test with a bare path', ['rule', 'test', 'app.example', 'api'], [{ method: 'GET', path: '/explain', query: { host: 'app.example', path: '/api' } }]],
    ['events', ['events'], [{ method: 'GET', path: '/events', query: {} }]],
    ['events filtered', ['events', '--limit', '20', '--kind', 'health'], [{ method: 'GET', path: '/events', query: { limit: '20', kind: 'health' } }]],
    ['health', ['health'], [{ method: 'GET', path: '/health' }]],
    ['health check', ['health', 'check'], [{ method: 'POST', path: '/health/check' }]],
    ['import-cloudflare', ['import-cloudflare', 'cf.json'], [{ method: 'POST', path: '/import/cloudflare', bodyFile: 'cf.json' }]],
    [
      'import-cloudflare --apply',
      ['import-cloudflare', 'cf.json', '--apply', '--if-match', '2'],
      [{ method: 'POST', path: '/import/cloudflare', query: { apply: 'true' }, bodyFile: 'cf.json', ifMatch: '"2"' }],
    ],
  ];

  it.each(cases)('%s', (_name, argv, expected) => {
    expect(calls(argv)).toEqual(expected);
  });

  it('covers every command', () => {
    const covered = new Set(cases.map(([, argv]) => parseCommandLine(argv).command?.name));
    expect(COMMANDS.map((c) => c.name).filter((name) => !covered.has(name))).toEqual([]);
  });

  it('encodes path segments', () => {
    expect(calls(['origin', 'drain', 'eu west', 'a/b'])[0].path).toBe('/pools/eu%20west/origins/a%2Fb');
  });

  it('takes global flags anywhere on the line', () => {
    const inv = parseCommandLine(['--json', 'pool', '--url', 'http://lb:8787', 'get', 'eu', '--token', 't']);
    expect(inv.command?.name).toBe('pool get');
    expect(inv.globals).toEqual({ json: true, url: 'http://lb:8787', token: 't' });
  });

  it('asks for help without checking arguments', () => {
    expect(parseCommandLine(['--help'])).toMatchObject({ help: true, command: undefined });
    expect(parseCommandLine(['origin', 'add', '-h'])).toMatchObject({ help: true, command: { name: 'origin add' } });
    expect(helpText()).toContain('origin weight <pool> <name> <N>');
  });

  it('quotes If-Match values that are bare versions', () => {
    expect(ifMatchHeader('3')).toBe('"3"');
    expect(ifMatchHeader('"3"')).toBe('"3"');
    expect(ifMatchHeader('W/"3"')).toBe('W/"3"');
    expect(ifMatchHeader(undefined)).toBeUndefined();
  });
});

describe('lbctl usage errors', () => {
  it.each([
    [[], 'no command given', undefined],
    [['frobnicate'], 'unknown command: frobnicate', undefined],
    [['origin'], 'origin needs a subcommand', 'origin add <pool> <name> <address>'],
    [['origin', 'nuke', 'eu'], 'unknown command: origin nuke', 'origin drain <pool> <name>'],
    [['origin', 'add', 'eu'], 'origin add: missing <name> <address>', 'origin add <pool> <name> <address>'],
    [['origin', 'weight', 'eu', 'b1'], 'origin weight: missing <weight>', 'origin weight <pool> <name> <N>'],
    [['origin', 'weight', 'eu', 'b1', 'heavy'], 'the weight must be a number, got "heavy"', 'origin weight'],
    [['origin', 'add', 'eu', 'b', 'x:1', '--weight', 'lots'], '--weight must be a number', 'origin add'],
    [['pool', 'rm'], 'pool rm: missing <pool>', 'pool rm <pool>'],
    [['pool', 'get', 'eu', 'us'], 'pool get: unexpected argument "us"', 'pool get <pool>'],
    [['config', 'put'], 'config put: missing <file>', 'config put <file|->'],
    [['config', 'rollback', 'latest'], 'version must be a whole number, got "latest"', 'config rollback <version>'],
    [['pop', 'withdraw'], 'pop withdraw: missing <colo>', 'pop withdraw <COLO>'],
    [['health', 'now'], 'health: unexpected argument "now"', 'health'],
    [['status', '--weight', '3'], 'status does not take --weight', 'status'],
    [['pop', 'list', '--bogus'], "Unknown option '--bogus'", 'pop list [--all]'],
    [['explain', '--lat', '48.8'], '--lat and --lon go together', 'explain'],
    [['explain', '--lat', 'north', '--lon', '2'], '--lat must be a number', 'explain'],
    [['events', '--limit', '0'], '--limit must be a positive integer', 'events'],
    [['import-cloudflare', 'cf.json', '--if-match', '3'], '--if-match only makes sense with --apply', 'import-cloudflare'],
    [['rule'], 'rule needs a subcommand', 'rule list <lb>'],
    [['rule', 'list'], 'rule list: missing <lb>', 'rule list <lb>'],
    [['rule', 'list', 'main', '--name', 'x'], 'rule list does not take --name', 'rule list <lb>'],
    [['rule', 'rm', 'main'], 'rule rm: missing <name>', 'rule rm <lb> <name>'],
    [['rule', 'add', 'main', '--condition', 'http.host eq "a"'], 'rule add needs --name', 'rule add <lb> --name N'],
    [['rule', 'add', 'main', '--name', ' ', '--condition', 'x'], '--name must not be empty', 'rule add'],
    [['rule', 'add', 'main', '--name', 'a'], 'rule add needs --condition', 'rule add'],
    [['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--priority', '-1'], '--priority must be a whole number, got "-1"', 'rule add'],
    [['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--priority', 'first'], '--priority must be a whole number', 'rule add'],
    [['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--fixed-status', 'down'], '--fixed-status must be an HTTP status code', 'rule add'],
    [['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--override-json', '{"pools":'], '--override-json is not JSON', 'rule add'],
    [['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--override-json', '["eu"]'], '--override-json must be a JSON object', 'rule add'],
    [['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--pools', 'eu,,us'], '--pools takes pool ids separated by commas', 'rule add'],
    [['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--fallback-pool', ''], '--fallback-pool must name a pool', 'rule add'],
    [
      ['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--pools', 'eu', '--override-json', '{"default_pools":["us"]}'],
      '--pools and --override-json both set default_pools',
      'rule add',
    ],
    [['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--fixed-status', '503', '--pools', 'eu'], 'either answers with a fixed response or changes how', 'rule add'],
    [['rule', 'test', 'app.example'], 'rule test: missing <path>', 'rule test <host> <path>'],
    [['rule', 'test', 'app.example', '/', '--header', 'x-user'], '--header takes name:value, got "x-user"', 'rule test'],
    [['rule', 'test', 'app.example', '/', '--header', ':v'], '--header takes name:value', 'rule test'],
  ] as [string[], string, string | undefined][])('%j', (argv, message, usage) => {
    const error = usageError(argv);
    expect(error.message).toContain(message);
    if (usage === undefined) expect(error.usage).toBeUndefined();
    else expect(error.usage).toContain(usage);
  });
});

describe('lbctl rule add and rule rm: the load balancer read, changed and written back', () => {
  const LB = {
    id: 'main',
    hostname: 'app.example',
    default_pools: ['eu'],
    rules: [{ name: 'down', priority: 0, disabled: false, terminates: true, condition: 'http.request.uri.path eq "/down"', fixed_response: { status_code: 503 }, overrides: {} }],
  };
  const READ = { version: 7, load_balancer: LB, warnings: [] };
  const ETAG = '"r00112233aabbccdd"';

  /** The write a command line makes after reading `read` (with `etag`; null: the answer had none). */
  function write(argv: string[], read: unknown = READ, etag: string | null = ETAG) {
    const inv = parseCommandLine(argv);
    if (inv.help) throw new Error('help');
    const { followUp } = inv.command;
    if (followUp === undefined) throw new Error(`${inv.command.name} has no follow-up`);
    const requests = followUp({ args: inv.args, options: inv.options, usage: inv.command.usage, responses: { lb: read }, etags: { lb: etag ?? undefined } });
    expect(requests).toHaveLength(1);
    return requests[0];
  }

  function refusal(argv: string[], read: unknown = READ): RefusedError {
    try {
      write(argv, read);
    } catch (error) {
      if (error instanceof RefusedError) return error;
      throw error;
    }
    throw new Error(`no refusal for: ${argv.join(' ')}`);
  }

  it('add: PUTs the load balancer with the rule after the others, If-Match the ETag it read', () => {
    expect(write(['rule', 'add', 'main', '--name', 'api', '--condition', 'http.request.uri.path wildcard "/api/*"', '--pools', 'us, eu'])).toEqual({
      key: 'write',
      method: 'PUT',
      path: '/load_balancers/main',
      body: { ...LB, rules: [...LB.rules, { name: 'api', condition: 'http.request.uri.path wildcard "/api/*"', overrides: { default_pools: ['us', 'eu'] } }] },
      ifMatch: ETAG,
      retryOnStale: true,
    });
  });

  it('add: every option in the rule, in the configuration\'s shape', () => {
    const fixed = write([
      'rule', 'add', 'main', '--name', 'maintenance', '--condition', 'http.host eq "a"', '--priority', '3', '--terminates', '--disabled',
      '--fixed-status', '302', '--fixed-body', 'moved', '--fixed-type', 'text/plain', '--fixed-location', 'https://b.example/',
    ]);
    expect((fixed.body as typeof LB).rules.at(-1)).toEqual({
      name: 'maintenance',
      priority: 3,
      disabled: true,
      terminates: true,
      condition: 'http.host eq "a"',
      fixed_response: { status_code: 302, content_type: 'text/plain', message_body: 'moved', location: 'https://b.example/' },
    });

    // --override-json carries any override field, the extension ones too; --pools and --fallback-pool add to it.
    const overrides = { origin_steering: { policy: 'hash', hash_key: 'path' }, rate_limit: { binding: 'SEARCH_LIMIT', key: 'ip' }, redirect: { status_code: 307 } };
    const steered = write([
      'rule', 'add', 'main', '--name', 'search', '--condition', 'http.request.uri.path eq "/search"',
      '--override-json', JSON.stringify(overrides), '--pools', 'us', '--fallback-pool', 'eu',
    ]);
    expect((steered.body as typeof LB).rules.at(-1)).toEqual({
      name: 'search',
      condition: 'http.request.uri.path eq "/search"',
      overrides: { ...overrides, default_pools: ['us'], fallback_pool: 'eu' },
    });
  });

  it('add: the operator\'s --if-match instead of the ETag, then no second try; the version when there is no ETag', () => {
    expect(write(['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--if-match', '7'])).toMatchObject({ ifMatch: '"7"' });
    expect(write(['rule', 'add', 'main', '--name', 'a', '--condition', 'x', '--if-match', '7']).retryOnStale).toBeUndefined();
    expect(write(['rule', 'add', 'main', '--name', 'a', '--condition', 'x'], READ, null)).toMatchObject({ ifMatch: '"7"', retryOnStale: true });
  });

  it('add: refuses a name the load balancer already has', () => {
    const error = refusal(['rule', 'add', 'main', '--name', 'down', '--condition', 'x']);
    expect(error.code).toBe('already_exists');
    expect(error.message).toBe('load balancer main already has a rule "down"; remove it first (lbctl rule rm main down)');
    expect(refusal(['rule', 'add', 'main', '--name', "it's on", '--condition', 'x'], { ...READ, load_balancer: { ...LB, rules: [{ name: "it's on" }] } }).message).toContain(
      `lbctl rule rm main 'it'\\''s on'`,
    );
  });

  it('rm: PUTs the load balancer without the rule, without `rules` once the last is gone', () => {
    const two = { ...LB, rules: [...LB.rules, { name: 'api', condition: 'x' }] };
    expect(write(['rule', 'rm', 'main', 'down'], { ...READ, load_balancer: two })).toMatchObject({
      method: 'PUT',
      path: '/load_balancers/main',
      body: { ...LB, rules: [{ name: 'api', condition: 'x' }] },
      ifMatch: ETAG,
    });
    const { rules: _rules, ...without } = LB;
    expect(write(['rule', 'rm', 'main', 'down']).body).toEqual(without);
  });

  it('rm: refuses a rule that is not there, and a name that several rules share', () => {
    expect(refusal(['rule', 'rm', 'main', 'nope'])).toMatchObject({ code: 'not_found', message: 'load balancer main has no rule "nope"; its rules: "down"' });
    const { rules: _rules, ...bare } = LB;
    expect(refusal(['rule', 'rm', 'main', 'nope'], { ...READ, load_balancer: bare }).message).toBe('load balancer main has no rule "nope" (it has no rules)');
    const twice = { ...LB, rules: [...LB.rules, { ...LB.rules[0], priority: 4 }] };
    expect(refusal(['rule', 'rm', 'main', 'down'], { ...READ, load_balancer: twice })).toMatchObject({ code: 'ambiguous' });
  });

  it('refuses an answer without a load balancer in it', () => {
    expect(refusal(['rule', 'rm', 'main', 'down'], { version: 3 })).toMatchObject({ code: 'unexpected_answer' });
  });

  it('lists the rule commands in the help', () => {
    const help = helpText();
    for (const usage of ['rule list <lb>', 'rule add <lb> --name N', 'rule rm <lb> <name>', 'rule test <host> <path>']) expect(help).toContain(usage);
  });
});
