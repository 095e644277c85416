// Inside a component: the engine's `fetch` global has no wasi:http behind it
// (the build disables that feature) and calling it traps the whole call.
// Replace it with a clear error pointing at the SDK's http helper.
globalThis.fetch = function fetch() {
  throw new TypeError(
    "the fetch global is not available in Beacon plugins: use http from '@beacon-spear/plugin-sdk/http'",
  );
};
