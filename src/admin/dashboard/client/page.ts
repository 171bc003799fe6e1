// The page's elements the client fills and listens to (page.tsx renders them, each
// with its id): looked up once, typed, and a missing one is an error at once rather
// than a blank panel later.

function byId<T extends Element>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the dashboard page has no #${id}`);
  return element as unknown as T;
}

export function pageElements() {
  return {
    // Screens and the header.
    login: byId<HTMLElement>('login'),
    form: byId<HTMLFormElement>('token-form'),
    input: byId<HTMLInputElement>('token-input'),
    loginMessage: byId<HTMLElement>('login-message'),
    disabled: byId<HTMLElement>('admin-disabled'),
    disabledMessage: byId<HTMLElement>('admin-disabled-message'),
    retry: byId<HTMLButtonElement>('retry'),
    app: byId<HTMLElement>('app'),
    version: byId<HTMLElement>('version'),
    status: byId<HTMLElement>('status'),
    logout: byId<HTMLButtonElement>('logout'),
    // Configuration warnings.
    warnings: byId<HTMLElement>('warnings'),
    warningsCount: byId<HTMLElement>('warnings-count'),
    warningsList: byId<HTMLUListElement>('warnings-list'),
    // Pools and origins.
    pools: byId<HTMLElement>('pools'),
    // Load balancers and their rules.
    loadBalancers: byId<HTMLElement>('load-balancers'),
    // Configuration history.
    historyList: byId<HTMLTableSectionElement>('history-list'),
    historyNote: byId<HTMLElement>('history-note'),
    historyError: byId<HTMLElement>('history-error'),
    confirm: byId<HTMLElement>('rollback-confirm'),
    confirmQuestion: byId<HTMLElement>('rollback-question'),
    confirmYes: byId<HTMLButtonElement>('rollback-yes'),
    confirmNo: byId<HTMLButtonElement>('rollback-no'),
    // The map and its PoPs.
    hostSelect: byId<HTMLSelectElement>('host-select'),
    mapNote: byId<HTMLElement>('map-note'),
    mapError: byId<HTMLElement>('map-error'),
    map: byId<SVGSVGElement>('pop-map'),
    mapLand: byId<SVGGElement>('map-land'),
    mapPops: byId<SVGGElement>('map-pops'),
    mapPools: byId<SVGGElement>('map-pools'),
    legend: byId<HTMLUListElement>('legend'),
    popDetail: byId<HTMLElement>('pop-detail'),
    popForm: byId<HTMLFormElement>('pop-form'),
    popInput: byId<HTMLInputElement>('pop-input'),
    popCodes: byId<HTMLDataListElement>('pop-codes'),
    withdrawnList: byId<HTMLUListElement>('withdrawn-list'),
  };
}

export type PageElements = ReturnType<typeof pageElements>;
