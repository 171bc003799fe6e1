import { describe, expect, it } from 'vitest';

import {
  collectWarnings,
  formatApiError,
  formatEvents,
  formatHealth,
  formatPoolList,
  formatPops,
  formatStatus,
  formatWarnings,
  loadShedding,
  makePaint,
  originState,
  table,
} from '../../scripts/lib/lbctl/format.mjs';
import { formatExplain } from '../../scripts/lib/lbctl/format-steering.mjs';
import { formatRules, formatRuleTest, oneLine, ruleAction } from '../../scripts/lib/lbctl/format-rules.mjs';

const CONFIG = {
  version: 4,
  config: {
    pools: [
      {
        id: 'eu',
        name: 'Europe',
        minimum_origins: 1,
        origin_steering: { policy: 'round_robin' },
        load_shedding: { default_percent: 25, default_policy: 'hash', session_percent: 0, session_policy: 'hash' },
        origins: [
          { name: 'backend1', address: 'http://127.0.0.1:8081', weight: 2, enabled: true, drain: false, backup: false },
          { name: 'b2', address: 'http://127.0.0.1:18082', weight: 1, enabled: true, drain: true, backup: true },
        ],
      },
      {
        id: 'us',
        name: 'us',
        enabled: false,
        minimum_origins: 2,
        origin_steering: { policy: 'hash', hash_key: 'cookie:session' },
        load_shedding: { default_percent: 0, default_policy: 'random', session_percent: 0, session_policy: 'hash' },
        origins: [{ name: 'us1', address: 'us1.example.net:8080', weight: 10, enabled: false }],
      },
      { id: 'empty', origins: [] },
    ],
    load_balancers: [{ id: 'main', hostname: '*', default_pools: ['eu'] }],
  },
};

const HEALTH = {
  pools: [
    { id: 'eu', healthy: true, healthy_origins: 1, minimum_origins: 1 },
    { id: 'us', healthy: false, healthy_origins: 0, minimum_origins: 2 },
  ],
  origins: [
    { pool: 'eu', origin: 'backend1', healthy: true, state: 'healthy', consecutive_up: 3, consecutive_down: 0, last_check_at: 1_700_000_000_000, rtt_ms: 12.4, reason: null },
    { pool: 'eu', origin: 'b2', healthy: false, state: 'unhealthy', consecutive_up: 0, consecutive_down: 3, last_check_at: '2026-01-02T03:04:05.000Z', rtt_ms: null, reason: 'connect ECONNREFUSED' },
  ],
};

const STATS = { origins: [{ pool: 'eu', origin: 'backend1', requests: 1234 }, { pool: 'eu', origin: 'b2', requests: 7 }] };

const POPS = {
  pops: [
    { colo: 'FRA', city: 'Frankfurt', country: 'DE', region: 'WEU', latitude: 50.03, longitude: 8.56, withdrawn: true },
    { colo: 'GRU', city: 'São Paulo', country: 'BR', region: 'SSAM', latitude: -23.43, longitude: -46.47, withdrawn: false },
    { colo: 'AMS', city: 'Amsterdam', country: 'NL', region: 'WEU', latitude: 52.31, longitude: 4.76, withdrawn: true },
  ],
};

describe('table', () => {
  it('aligns columns to the widest cell, numbers to the right, and leaves no trailing spaces', () => {
    const out = table(
      [{ title: 'NAME' }, { title: 'N', align: 'right' }, { title: 'NOTE' }],
      [
        ['a', 5, 'x'],
        ['longer-name', 12345, null],
      ],
    );
    expect(out).toBe(['NAME             N  NOTE', 'a                5  x', 'longer-name  12345  -', ''].join('\n'));
  });

  it('pads by the plain text, so colours do not shift columns', () => {
    const paint = makePaint(true);
    const lines = table([{ title: 'H', style: paint.green }, { title: 'X' }], [['ok', '1'], ['longer', '2']]).split('\n');
    expect(lines[1]).toBe(`${paint.green('ok')}      1`);
    expect(lines[2]).toBe(`${paint.green('longer')}  2`);
    expect(makePaint(false).green('ok')).toBe('ok');
  });
});

describe('originState', () => {
  it.each([
    [{}, 'active'],
    [{ enabled: true, drain: false, backup: false }, 'active'],
    [{ drain: true }, 'drain'],
    [{ enabled: false }, 'disabled'],
    [{ backup: true }, 'backup'],
    [{ drain: true, backup: true }, 'drain+backup'],
    [{ enabled: false, drain: true, backup: true }, 'disabled+drain+backup'],
  ])('%j → %s', (origin, state) => {
    expect(originState(origin)).toBe(state);
  });
});

describe('formatStatus', () => {
  it('prints pool headers and origin rows aligned across pools', () => {
    const out = formatStatus({ url: 'http://127.0.0.1:8787', config: CONFIG, health: HEALTH, stats: STATS, pops: POPS });
    expect(out).toBe(
      [
        'Switchyard http://127.0.0.1:8787  configuration version 4: 3 pools, 1 load balancer',
        '  ORIGIN    ADDRESS                 WEIGHT  STATE         HEALTH     REQUESTS',
        'Pool eu (Europe)  healthy 1/2  policy round_robin  shedding 25% (hash)',
        '  backend1  http://127.0.0.1:8081        2  active        healthy        1234',
        '  b2        http://127.0.0.1:18082       1  drain+backup  unhealthy         7',
        'Pool us  unhealthy 0/1  policy hash by cookie:session  minimum 2  disabled',
        '  us1       us1.example.net:8080        10  disabled      unknown           0',
        'Pool empty  health unknown  policy round_robin',
        '  (no origins)',
        'PoPs withdrawn: 2 of 3 (FRA, AMS)',
        '',
      ].join('\n'),
    );
  });

  it("shows '-' for requests while /stats does not exist, and for health without /health", () => {
    const out = formatStatus({ config: CONFIG, health: HEALTH, stats: undefined, pops: undefined });
    expect(out).toContain('  backend1  http://127.0.0.1:8081        2  active        healthy           -\n');
    expect(out).not.toContain('PoPs withdrawn');
    const bare = formatStatus({ config: CONFIG });
    expect(bare).toMatch(/backend1 +http:\/\/127\.0\.0\.1:8081 +2 +active +- +-\n/);
  });

  it('says so when nothing is configured', () => {
    expect(formatStatus({ config: { version: 0, config: { pools: [], load_balancers: [] } } })).toBe(
      'configuration version 0: 0 pools, 0 load balancers\nno pools configured\n',
    );
  });
});

describe('the other views', () => {
  it('pool list', () => {
    expect(formatPoolList(CONFIG.config.pools)).toBe(
      [
        'POOL   NAME    ENABLED  POLICY                  MONITOR  MINIMUM  ORIGINS  SHEDDING',
        'eu     Europe  yes      round_robin             -              1        2  25% (hash)',
        'us     us      no       hash by cookie:session  -              2        1  -',
        'empty  -       yes      round_robin             -              1        0  -',
        '',
      ].join('\n'),
    );
    expect(formatPoolList([])).toBe('no pools configured\n');
    // Without a pool that sheds, no shedding column; a hash pool without a key hashes the client IP.
    expect(formatPoolList([{ id: 'a', origin_steering: { policy: 'hash' }, origins: [] }, { id: 'b', load_shedding: { default_percent: 0, session_percent: 0 }, origins: [] }])).toBe(
      ['POOL  NAME  ENABLED  POLICY       MONITOR  MINIMUM  ORIGINS', 'a     -     yes      hash by ip   -              1        0', 'b     -     yes      round_robin  -              1        0', ''].join('\n'),
    );
    expect(loadShedding({ load_shedding: { default_percent: 10, default_policy: 'random', session_percent: 5, session_policy: 'hash' } })).toBe('10% (random), sessions 5% (hash)');
    expect(loadShedding({ load_shedding: { default_percent: 0, session_percent: 20 } })).toBe('sessions 20% (hash)');
    expect(loadShedding({})).toBeUndefined();
  });

  it('health: pools, then origins with rtt and last check', () => {
    const out = formatHealth(HEALTH);
    expect(out).toContain('POOL  HEALTH     HEALTHY  MINIMUM\neu    healthy          1        1\nus    unhealthy        0        2\n');
    expect(out).toContain('eu    backend1  healthy     3     0  12 ms  2023-11-14T22:13:20.000Z  -');
    expect(out).toContain('eu    b2        unhealthy   0     3      -  2026-01-02T03:04:05.000Z  connect ECONNREFUSED');
  });

  it("health with check regions: a REGION column, each region's verdict under the pool's and the origin's own", () => {
    const check = (state: string, extra: Record<string, unknown> = {}) => ({
      healthy: state !== 'unhealthy',
      state,
      consecutive_up: state === 'healthy' ? 1 : 0,
      consecutive_down: state === 'unhealthy' ? 1 : 0,
      last_check_at: '2026-01-02T03:04:05.000Z',
      rtt_ms: 20,
      reason: state === 'unhealthy' ? 'connection refused' : '',
      ...extra,
    });
    const out = formatHealth({
      pools: [
        { id: 'world', healthy: true, healthy_origins: 1, minimum_origins: 1, regions: [{ region: 'WEU', healthy: true, healthy_origins: 1 }, { region: 'SEAS', healthy: false, healthy_origins: 0 }] },
        { id: 'local', healthy: true, healthy_origins: 1, minimum_origins: 1 },
      ],
      origins: [
        {
          pool: 'world',
          origin: 'a',
          ...check('unhealthy', { consecutive_down: 0, reason: 'unhealthy from 2 of 3 check regions (…)' }),
          regions: [{ region: 'WEU', ...check('healthy', { healthy: false }) }, { region: 'SEAS', ...check('unhealthy') }],
        },
        { pool: 'local', origin: 'p', ...check('healthy') },
      ],
    });
    expect(out).toBe(
      [
        'POOL   REGION  HEALTH     HEALTHY  MINIMUM',
        'world  all     healthy          1        1',
        'world  WEU     healthy          1        1',
        'world  SEAS    unhealthy        0        1',
        'local  -       healthy          1        1',
        '',
        'POOL   ORIGIN  REGION  HEALTH     UP  DOWN    RTT  LAST CHECK                REASON',
        'world  a       all     unhealthy   0     0  20 ms  2026-01-02T03:04:05.000Z  unhealthy from 2 of 3 check regions (…)',
        'world  a       WEU     healthy     1     0  20 ms  2026-01-02T03:04:05.000Z  skipped here too: unhealthy by majority',
        'world  a       SEAS    unhealthy   0     1  20 ms  2026-01-02T03:04:05.000Z  connection refused',
        'local  p       -       healthy     1     0  20 ms  2026-01-02T03:04:05.000Z  -',
        '',
      ].join('\n'),
    );
  });

  it('pop list: only withdrawn PoPs and a count, unless --all', () => {
    expect(formatPops(POPS.pops)).toBe(
      ['COLO  CITY       COUNTRY  REGION  WITHDRAWN', 'FRA   Frankfurt  DE       WEU     yes', 'AMS   Amsterdam  NL       WEU     yes', '2 of 3 PoPs withdrawn', ''].join('\n'),
    );
    expect(formatPops(POPS.pops, { all: true })).toContain('GRU   São Paulo  BR       SSAM    no\n');
    expect(formatPops([{ colo: 'FRA', withdrawn: false }])).toBe('0 of 1 PoPs withdrawn (--all lists every PoP)\n');
  });

  it('events: time, kind, message', () => {
    expect(
      formatEvents([
        { id: 2, at: '2026-01-02T03:04:05.000Z', kind: 'health', message: 'eu/b2 healthy -> unhealthy', detail: {} },
        { id: 1, at: 1_700_000_000_000, kind: 'config', message: 'configuration version 4', detail: {} },
      ]),
    ).toBe('2026-01-02T03:04:05.000Z  health  eu/b2 healthy -> unhealthy\n2023-11-14T22:13:20.000Z  config  configuration version 4\n');
    expect(formatEvents([])).toBe('no events\n');
  });

  it('explain: the trace, then the candidates in order', () => {
    const out = formatExplain({
      facts: { country: 'BR' },
      load_balancer: { id: 'geo', hostname: '*', steering_policy: '', policy: 'geo' },
      pools: [{ id: 'sa', verdict: 'eligible' }],
      candidates: [
        { pool: 'sa', origin: 'backend3', address: 'http://127.0.0.1:8083', weight: 1, drain: false, backup: false },
        { pool: 'us', origin: 'backend2', address: 'http://127.0.0.1:8082', weight: 1, drain: true, backup: false },
      ],
      affinity: { mode: 'cookie', outcome: 'pinned', pin: { pool: 'sa', origin: 'backend3' } },
      trace: ['load balancer geo (hostname *) for host localhost', 'steering geo: country_pools[BR] -> [sa, us]'],
    });
    expect(out).toBe(
      [
        'load balancer geo (hostname *) for host localhost',
        'steering geo: country_pools[BR] -> [sa, us]',
        'candidates:',
        '  1  sa/backend3  http://127.0.0.1:8083  active',
        '  2  us/backend2  http://127.0.0.1:8082  drain',
        'affinity: mode cookie, outcome pinned, pin sa/backend3',
        '',
      ].join('\n'),
    );
  });

  it('explain: without candidates, without a trace, with affinity as a plain string', () => {
    expect(formatExplain({ load_balancer: null, candidates: [], trace: ['no load balancer for host x'] })).toBe(
      'no load balancer for host x\nno candidates\n',
    );
    expect(formatExplain({ load_balancer: { id: 'main', hostname: '*' }, candidates: [], affinity: 'none' })).toBe(
      'load balancer main (hostname *)\nno candidates\naffinity: none\n',
    );
    expect(formatExplain({ candidates: [], affinity: { mode: 'none', outcome: 'off', pin: null } })).toBe('no candidates\naffinity: mode none, outcome off\n');
  });

  it('explain: a request a rule answers has no candidates, it has a fixed response', () => {
    expect(
      formatExplain({
        candidates: [],
        rules: ['down'],
        fixed_response: { status_code: 503 },
        trace: ['load balancer main (hostname *) for host a.example', 'rule down: matched; fixed response 503'],
      }),
    ).toBe('load balancer main (hostname *) for host a.example\nrule down: matched; fixed response 503\nanswered by a rule: fixed response 503\n');
  });
});

describe('formatApiError', () => {
  it('prints code, message and each issue', () => {
    const body = {
      error: {
        code: 'invalid_config',
        message: 'the document is not a valid configuration',
        issues: [
          { path: 'pools.0.origins.1.weight', message: 'Too small: expected number to be >=0' },
          { path: '', message: 'Unrecognized key: "extra"' },
        ],
      },
    };
    expect(formatApiError(400, body, JSON.stringify(body))).toBe(
      [
        'lbctl: invalid_config: the document is not a valid configuration',
        '  pools.0.origins.1.weight: Too small: expected number to be >=0',
        '  (document): Unrecognized key: "extra"',
        '',
      ].join('\n'),
    );
  });

  it('adds a hint for a refused token and a stale If-Match', () => {
    expect(formatApiError(401, { error: { code: 'unauthorized', message: 'bad token' } }, '')).toBe(
      'lbctl: unauthorized: bad token\nhint: the admin token was refused; check LB_TOKEN or --token\n',
    );
    expect(formatApiError(412, { error: { code: 'version_mismatch', message: 'stale' } }, '')).toContain('hint: the configuration changed');
  });

  it('copes with an answer that is not JSON', () => {
    expect(formatApiError(502, undefined, '<html>\n  <h1>Bad gateway</h1>\n</html>')).toBe('lbctl: http_502: <html> <h1>Bad gateway</h1> </html>\n');
  });
});

describe('warnings', () => {
  const IP = { path: 'pools.0.origins.1.address', code: 'ip_origin', message: '10.0.0.2 is an IP address: Cloudflare refuses it (error 1003)' };
  const BINDING = { path: 'pools.1.origins.0.network', code: 'unknown_binding', message: 'network "VPC" is not a binding of this Worker' };

  it('one line per warning: code, path, message', () => {
    expect(formatWarnings([IP, BINDING])).toBe(
      'warning ip_origin pools.0.origins.1.address: 10.0.0.2 is an IP address: Cloudflare refuses it (error 1003)\n' +
        'warning unknown_binding pools.1.origins.0.network: network "VPC" is not a binding of this Worker\n',
    );
    expect(formatWarnings([])).toBe('');
    expect(formatWarnings([{ path: '', code: 'host_override', message: 'm' }])).toBe('warning host_override (document): m\n');
  });

  it('colours only the word "warning", and only when painting', () => {
    expect(formatWarnings([IP], makePaint(true))).toBe(`\x1b[33mwarning\x1b[39m ip_origin ${IP.path}: ${IP.message}\n`);
  });

  it('collects the warnings of several answers in order, without repeats, ignoring answers without any', () => {
    expect(collectWarnings([{ version: 3, warnings: [IP] }, undefined, { pools: [] }, { warnings: [IP, BINDING] }, { warnings: 'no' }])).toEqual([IP, BINDING]);
    expect(collectWarnings([{ version: 1, warnings: [] }])).toEqual([]);
    // Malformed entries do not crash the CLI: they show as well as they can.
    expect(collectWarnings([{ warnings: [null, 3, { message: 'x' }] }])).toEqual([{ path: '', code: 'warning', message: 'x' }]);
  });
});

describe('rules', () => {
  const LB = {
    id: 'main',
    hostname: '*',
    rules: [
      { name: 'api', priority: 5, condition: 'http.request.uri.path wildcard "/api/*"', fixed_response: null, overrides: { default_pools: ['us', 'eu'], session_affinity: 'none' } },
      { name: 'down', priority: 0, terminates: true, condition: 'http.request.uri.path eq "/down"', fixed_response: { status_code: 503, content_type: 'text/plain' }, overrides: {} },
      { name: 'old', priority: 5, disabled: true, condition: 'http.host eq "a"\n   and ip.src in {10.0.0.0/8}', overrides: { region_pools: { WEU: ['eu'], ENAM: ['us', 'eu'] } } },
      { name: 'stop', priority: 9, terminates: true, condition: 'http.host eq "b"' },
    ],
  };

  it('rule list: by priority, then as listed; state, terminates, what a match does, the condition on one line', () => {
    expect(formatRules(LB)).toBe(
      [
        'PRIORITY  NAME  STATE     TERMINATES  ACTION                                     CONDITION',
        '       0  down  enabled   yes         fixed 503                                  http.request.uri.path eq "/down"',
        '       5  api   enabled   no          default_pools=us,eu session_affinity=none  http.request.uri.path wildcard "/api/*"',
        '       5  old   disabled  no          region_pools={WEU:eu ENAM:us,eu}           http.host eq "a" and ip.src in {10.0.0.0/8}',
        '       9  stop  enabled   yes         -                                          http.host eq "b"',
        '',
      ].join('\n'),
    );
    expect(formatRules({ id: 'main', hostname: '*' })).toBe('load balancer main has no rules\n');
    expect(formatRules({ id: 'main', hostname: '*', rules: [] })).toBe('load balancer main has no rules\n');
  });

  it('rule list: "disabled" in yellow on a terminal, the columns still aligned', () => {
    const out = formatRules(LB, makePaint(true));
    expect(out).toContain('       5  old   \x1b[33mdisabled\x1b[39m  no  ');
    expect(out).toContain('       0  down  enabled   yes ');
  });

  it('what a rule does: a fixed response (with its Location), any override field, extension ones too, or nothing', () => {
    expect(ruleAction({ fixed_response: { status_code: 302, location: 'https://b.example/' } })).toBe('fixed 302 -> https://b.example/');
    expect(ruleAction({ fixed_response: {} })).toBe('fixed 200');
    // A fixed response answers at once: overrides beside it never apply, so they are not shown.
    expect(ruleAction({ fixed_response: { status_code: 503 }, overrides: { default_pools: ['eu'] } })).toBe('fixed 503');
    expect(
      ruleAction({
        overrides: {
          origin_steering: { policy: 'hash', hash_key: 'header:x-user' },
          rate_limit: { binding: 'SEARCH_LIMIT', key: 'ip' },
          redirect: { status_code: 307 },
          steering_policy: '',
          session_affinity_ttl: 300,
        },
      }),
    ).toBe('origin_steering={policy:hash hash_key:header:x-user} rate_limit={binding:SEARCH_LIMIT key:ip} redirect={status_code:307} steering_policy="" session_affinity_ttl=300');
    expect(ruleAction({ overrides: {} })).toBeUndefined();
    expect(ruleAction({ fixed_response: null })).toBeUndefined();
  });

  it('a long action is cut; the condition, last, never is', () => {
    const pools = Array.from({ length: 30 }, (_, i) => `pool${i}`);
    const [, row] = formatRules({ id: 'main', rules: [{ name: 'many', condition: 'http.host eq "a"', overrides: { default_pools: pools } }] }).split('\n');
    expect(row.endsWith(`  ${`default_pools=${pools.join(',')}`.slice(0, 69)}...  http.host eq "a"`)).toBe(true);
  });

  it('operator text on one line, control characters shown as "?"', () => {
    expect(oneLine('a \n\n  b\tc\x1b[31m')).toBe('a b c?[31m');
    expect(formatRules({ id: 'main', rules: [{ name: 'x\x1b]0;owned\x07', condition: 'http.host eq "\x9b"' }] })).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  const EXPLAIN = {
    request: { method: 'GET', url: 'http://app.example/down' },
    load_balancer: { id: 'main', hostname: '*', steering_policy: '', policy: 'off' },
    pools: [],
    fallback_used: false,
    candidates: [],
    affinity: { mode: 'none', outcome: 'off', pin: null },
    rules: ['down'],
    fixed_response: { status_code: 503 },
    trace: ['load balancer main (hostname *) for host app.example', 'rule down: matched; fixed response 503'],
  };

  it('rule test: a fixed response answers, no origin asked', () => {
    expect(formatRuleTest(EXPLAIN)).toBe(
      ['GET http://app.example/down: load balancer main (hostname *)', '  rule down: matched; fixed response 503', 'matched: down', 'decision: fixed response 503; no origin asked', ''].join('\n'),
    );
  });

  it('rule test: no rule matched, the fallback pool, or nowhere to go', () => {
    const steered = {
      ...EXPLAIN,
      rules: [],
      fixed_response: null,
      pools: [{ id: 'eu', verdict: 'unhealthy' }],
      fallback_used: true,
      candidates: [{ pool: 'us', origin: 'us1', address: 'http://us1.example.net' }],
      trace: ['load balancer main (hostname *) for host app.example', 'rule down: no match', 'steering off: [eu]'],
    };
    expect(formatRuleTest(steered)).toBe(
      [
        'GET http://app.example/down: load balancer main (hostname *)',
        '  rule down: no match',
        'matched: none',
        'pools: eu unhealthy (fallback pool used)',
        'decision: pool us, origin us1 (http://us1.example.net)',
        '',
      ].join('\n'),
    );
    expect(
      formatRuleTest({
        ...steered,
        fallback_used: false,
        pools: [{ id: 'us', verdict: 'eligible' }],
        rate_limits: [{ binding: 'SEARCH_LIMIT', key: 'header x-user', period: 60 }],
        redirect: { status_code: 307, location: 'https://us1.example.net/down' },
      }),
    ).toBe(
      [
        'GET http://app.example/down: load balancer main (hostname *)',
        '  rule down: no match',
        'matched: none',
        'rate limit: counted with SEARCH_LIMIT by header x-user per 60 s; over the limit 429',
        'pools: us eligible',
        'decision: redirect 307 to https://us1.example.net/down (origin us/us1)',
        '',
      ].join('\n'),
    );
    expect(formatRuleTest({ ...steered, candidates: [], redirect: { status_code: 302, location: null } })).toContain('decision: redirect 302 but no origin has a public_url\n');
    expect(formatRuleTest({ ...steered, pools: [], candidates: [], trace: [] })).toBe(
      ['GET http://app.example/down: load balancer main (hostname *)', 'no rules tried', 'matched: none', 'decision: no usable origin (503 no_healthy_origin)', ''].join('\n'),
    );
  });
});
