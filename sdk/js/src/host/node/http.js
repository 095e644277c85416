// Under Node (tests): `fetch` answers from the handler set with
// `testing.mockFetch`, shaped like the component bindings (errors are thrown
// with the WIT `fetch-error` variant as `payload`).
import { state } from '../../testing/state.js';

export function fetch(request) {
  state.requests.push(request);
  const deny = (why) => {
    const err = new Error(`${why} (see error.payload)`);
    Object.defineProperty(err, 'payload', { value: { tag: 'policy-denied', val: why } });
    throw err;
  };
  if (!state.fetchAllowed) deny('network is not available in describe or validate-config');
  if (!state.fetchHandler) deny('no mock fetch handler (call testing.mockFetch(handler) first)');
  return state.fetchHandler(request);
}
