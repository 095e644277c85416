import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { messagesApi } from "../api/endpoints";
import { ErrorState, Loading } from "../components/bits";
import { MessageTable } from "../components/MessageTable";
import { NoMessagesHelp } from "../components/NoMessagesHelp";
import { UNVERIFIED_HINT, useCanCreate } from "../components/VerifyBanner";

export function HomePage() {
  const canCreate = useCanCreate();
  const navigate = useNavigate();
  const recent = useQuery({
    queryKey: ["messages", "recent"],
    queryFn: ({ signal }) => messagesApi.list({}, undefined, 10, signal),
    refetchInterval: 30_000,
  });

  return (
    <>
      <section aria-labelledby="quick-h" className="home-quick">
        <h1 id="quick-h">Home</h1>
        <div className="quick-actions">
          <button
            type="button"
            className="btn btn-primary"
            disabled={!canCreate}
            title={canCreate ? undefined : UNVERIFIED_HINT}
            onClick={() => navigate("/endpoints", { state: { create: true } })}
          >
            New endpoint
          </button>
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
    </>
  );
}
