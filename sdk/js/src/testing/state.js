// Shared state of the Node test doubles (see index.js). Not used inside a
// component.
export const state = {
  logs: [],
  echoLogs: typeof process !== 'undefined' && Boolean(process.env?.BEACON_TEST_LOG),
  requests: [],
  fetchHandler: undefined,
  fetchAllowed: false,
  buckets: new Map(),
  kvScope: 'default',
  clockOffsetMs: 0,
};

export function resetState() {
  state.logs = [];
  state.requests = [];
  state.fetchHandler = undefined;
  state.fetchAllowed = false;
  state.buckets = new Map();
  state.kvScope = 'default';
  state.clockOffsetMs = 0;
}
