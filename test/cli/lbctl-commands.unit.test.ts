import { describe, expect, it } from 'vitest';

import { helpText, parseCommandLine } from '../../scripts/lib/lbctl/command-line.mjs';
import { COMMANDS, ifMatchHeader, UsageError } from '../../scripts/lib/lbctl/commands.mjs';

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
  ] as [string[], string, string | undefined][])('%j', (argv, message, usage) => {
    const error = usageError(argv);
    expect(error.message).toContain(message);
    if (usage === undefined) expect(error.usage).toBeUndefined();
    else expect(error.usage).toContain(usage);
  });
});
