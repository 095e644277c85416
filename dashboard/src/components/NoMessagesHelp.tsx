import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { endpointsApi, qk } from "../api/endpoints";
import { ingestUrlFor } from "../lib/format";
import { CurlExample } from "./CurlExample";
import { EmptyState } from "./bits";

/** "No messages yet — here is your curl": uses the newest active endpoint when there is one. */
export function NoMessagesHelp() {
  const endpoints = useQuery({ queryKey: qk.endpoints(false), queryFn: () => endpointsApi.list(false) });
  const active = endpoints.data?.items.find((e) => !e.revoked_at && !e.archived_at);
  return (
    <EmptyState title="No messages yet — here is your curl">
      {active ? (
        <>
          <p>
            Send a test message to <strong>{active.name}</strong>. Replace <code>$BEACON_KEY</code> with the key you
            saved when you created the endpoint.
          </p>
          <CurlExample url={ingestUrlFor(active.id)} ingestKey="$BEACON_KEY" />
        </>
      ) : (
        <p>
          First <Link to="/endpoints">create an ingest endpoint</Link>; you will get a URL, a key and a ready-made curl
          command.
        </p>
      )}
    </EmptyState>
  );
}
