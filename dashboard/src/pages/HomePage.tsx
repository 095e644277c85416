import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { deliveriesApi, messagesApi, qk, statsApi } from "../api/endpoints";
import { ActivityChart } from "../components/ActivityChart";
import { DeliveryTable } from "../components/DeliveryTable";
import { EmptyState, ErrorState, Loading } from "../components/bits";
import { MessageTable } from "../components/MessageTable";
import { NoMessagesHelp } from "../components/NoMessagesHelp";
import { UNVERIFIED_HINT, useCanCreate } from "../components/VerifyBanner";

const FAILURES = { status: "failed", limit: 5 } as const;

export function HomePage() {
  const canCreate = useCanCreate();
  const navigate = useNavigate();
  const recent = useQuery({
    queryKey: ["messages", "recent"],
    queryFn: ({ signal }) => messagesApi.list({}, undefined, 10, signal),
    refetchInterval: 30_000,
  });
  const failures = useQuery({
    queryKey: qk.deliveries(FAILURES),
    queryFn: ({ signal }) => deliveriesApi.list(FAILURES, signal),
    refetchInterval: 60_000,
  });
  const activity = useQuery({
    queryKey: qk.activity(24),
    queryFn: ({ signal }) => statsApi.activity(24, signal),
    refetchInterval: 60_000,
  });

  const create = (label: string, to: string, state?: unknown) => (
    <button
      type="button"
      className="btn btn-primary"
      disabled={!canCreate}
      title={canCreate ? undefined : UNVERIFIED_HINT}
      onClick={() => navigate(to, state ? { state } : undefined)}
    >
      {label}
    </button>
  );

  return (
    <>
      <section aria-labelledby="quick-h" className="home-quick">
        <h1 id="quick-h">Home</h1>
        <div className="quick-actions" role="group" aria-label="Quick actions">
          {create("New endpoint", "/endpoints", { create: true })}
          {create("New channel", "/channels/new")}
          {create("New rule", "/rules/new")}
          <Link to="/messages" className="btn">
            Browse messages
          </Link>
        </div>
      </section>

      <section aria-labelledby="recent-h">
        <div className="page-head">
          <h2 id="recent-h">Recent messages</h2>
          {recent.data && recent.data.items.length > 0 && <Link to="/messages">All messages →</Link>}
        </div>
        {recent.isPending && <Loading />}
        {recent.isError && <ErrorState error={recent.error} onRetry={() => recent.refetch()} />}
        {recent.data && recent.data.items.length === 0 && <NoMessagesHelp />}
        {recent.data && recent.data.items.length > 0 && <MessageTable items={recent.data.items} compact />}
      </section>

      <div className="home-grid">
        <section aria-labelledby="failures-h">
          <div className="page-head">
            <h2 id="failures-h">Recent delivery failures</h2>
            {failures.data && failures.data.items.length > 0 && <Link to="/deliveries?status=failed">All failures →</Link>}
          </div>
          {failures.isPending && <Loading />}
          {failures.isError && <ErrorState error={failures.error} onRetry={() => failures.refetch()} />}
          {failures.data && failures.data.items.length === 0 && (
            <EmptyState title="No failed deliveries">
              <p>Deliveries that give up after their retries show up here, with a button to try again.</p>
            </EmptyState>
          )}
          {failures.data && failures.data.items.length > 0 && <DeliveryTable items={failures.data.items} compact />}
        </section>

        <section aria-labelledby="activity-h">
          <h2 id="activity-h">Last 24 hours</h2>
          {activity.isPending && <Loading />}
          {activity.isError && <ErrorState error={activity.error} onRetry={() => activity.refetch()} />}
          {activity.data && <ActivityChart activity={activity.data} title="Messages and deliveries per hour, last 24 hours" />}
        </section>
      </div>
    </>
  );
}
