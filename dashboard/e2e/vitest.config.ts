import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// End-to-end tests: Debian's Chromium (playwright-core) against a real `beacon serve`.
// Run with `npm run e2e` (BEACON_BIN picks the server binary; default target/debug/beacon).
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  test: {
    include: ["**/*.e2e.ts"],
    environment: "node",
    globalSetup: ["./global-setup.ts"],
    setupFiles: ["./support/worker-guard.ts"],
    // One server, one browser at a time: the files run one after another.
    fileParallelism: false,
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: ["verbose"],
  },
});
