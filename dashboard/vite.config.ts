/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The host serves dist/ at "/" with an SPA fallback; the API stays under /api/.
export default defineConfig({
  plugins: [react()],
  base: "/",
  server: {
    port: 5173,
    proxy: {
      // `beacon serve` listens on BEACON_LISTEN (default 127.0.0.1:8080).
      "/api": { target: "http://127.0.0.1:8080", changeOrigin: false },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // Keep every asset a separate file: no data: URIs, so a strict CSP
    // (`default-src 'self'`) needs no `data:` exceptions.
    assetsInlineLimit: 0,
    // The modulepreload polyfill is bundled into the entry, never inlined.
    modulePreload: { polyfill: false },
    rollupOptions: {
      onwarn(warning, warn) {
        // zod ships comments Rollup cannot place; harmless noise.
        if (warning.code === "INVALID_ANNOTATION" && warning.id?.includes("node_modules/zod")) return;
        warn(warning);
      },
      output: {
        // Long-lived vendor chunks: app releases do not invalidate them.
        manualChunks(id) {
          if (!id.includes("node_modules")) return undefined;
          if (/[\\/]node_modules[\\/](react|react-dom|scheduler)[\\/]/.test(id)) return "react";
          if (id.includes("react-router")) return "router";
          if (id.includes("@radix-ui") || id.includes("radix-ui")) return "radix";
          if (/zod|react-hook-form|@hookform/.test(id)) return "forms";
          if (id.includes("@tanstack")) return "query";
          return "vendor";
        },
      },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    restoreMocks: true,
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
