/**
 * Loaded into every test worker: if the runner that started it goes away
 * (killed, timed out), the worker ends itself instead of driving a browser
 * against a server that is gone. Vitest turns `process.exit` in a worker into
 * an error, so the worker sends itself SIGTERM: playwright's handler closes
 * Chromium, then the process ends.
 */
const parent = process.ppid;
const end = () => process.kill(process.pid, "SIGTERM");
if (process.send) process.once("disconnect", end);
setInterval(() => {
  if (process.ppid !== parent) end();
}, 500).unref();
