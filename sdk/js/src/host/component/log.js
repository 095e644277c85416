// Inside a component: the host's `beacon:plugin/log` import (every world).
export { log } from 'beacon:plugin/log@0.3.0';
