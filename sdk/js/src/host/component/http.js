// Inside a component: the host's `beacon:plugin/http` import (channel senders).
// Importing it is what adds the `http` capability to the built component.
export { fetch } from 'beacon:plugin/http@0.3.0';
