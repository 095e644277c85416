import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { createQueryClient } from "./lib/queryClient";
import { applyTheme, readTheme } from "./lib/theme";
import "./styles/app.css";

// Apply the remembered theme before the first paint (no inline <script> in
// index.html, so the app stays valid under `script-src 'self'`).
applyTheme(readTheme());

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App queryClient={createQueryClient()} />
  </StrictMode>,
);
