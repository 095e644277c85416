import { useQueryClient, type QueryClient, type QueryKey } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { qk } from "../api/endpoints";
import { runEventStream, type ConnectionState, type LiveEvent } from "../api/events";

/** Which cached queries an event makes stale. */
/** Everything live data can change (after a reconnect or a `resync`). */
const ALL_LIVE: QueryKey[] = [qk.messagesAll, qk.deliveriesAll, qk.statsAll, ["message"]];

export function keysForEvent(ev: LiveEvent): QueryKey[] {
  if (ev.type === "resync") return ALL_LIVE;
  if (ev.type === "message") return [qk.messagesAll, qk.statsAll];
  // A delivery changed: its message (detail + list summaries), deliveries lists, stats.
  return [qk.message(ev.data.message_id), qk.messagesAll, qk.deliveriesAll, qk.statsAll];
}

/**
 * Invalidates in small batches: a burst of events (a busy endpoint, a retry
 * storm) triggers one refetch per query instead of one per event.
 */
export function createInvalidator(queryClient: QueryClient, delayMs = 250) {
  const pending = new Map<string, QueryKey>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    const keys = [...pending.values()];
    pending.clear();
    for (const queryKey of keys) void queryClient.invalidateQueries({ queryKey });
  };
  return {
    add(keys: QueryKey[]) {
      for (const k of keys) pending.set(JSON.stringify(k), k);
      timer ??= setTimeout(flush, delayMs);
    },
    flush() {
      if (timer) clearTimeout(timer);
      flush();
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending.clear();
    },
  };
}

/**
 * Subscribe to `/api/events` while mounted (the signed-in layout): new
 * messages and delivery changes show up without a reload. Stops on unmount
 * (log-out) and when the session cannot be refreshed.
 */
export function useLiveUpdates(enabled = true): ConnectionState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<ConnectionState>("connecting");
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    const invalidator = createInvalidator(queryClient);
    void runEventStream({
      signal: controller.signal,
      onStateChange: setState,
      onEvent: (ev) => invalidator.add(keysForEvent(ev)),
      // Events may have been missed while disconnected: catch up once.
      onOpen: (reconnected) => {
        if (reconnected) invalidator.add(ALL_LIVE);
      },
    });
    return () => {
      controller.abort();
      invalidator.cancel();
    };
  }, [enabled, queryClient]);
  return enabled ? state : "stopped";
}
