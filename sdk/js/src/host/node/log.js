// Under Node (tests): records log lines for `testing.takeLogs()`.
import { state } from '../../testing/state.js';

export function log(level, message) {
  state.logs.push({ level, message });
  if (state.echoLogs) process.stderr.write(`[${level}] ${message}\n`);
}
