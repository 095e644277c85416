import { useInfiniteQuery } from "@tanstack/react-query";
import { useId } from "react";
import { useSearchParams } from "react-router";
import { deliveriesApi, qk } from "../../api/endpoints";
import { DeliveryTable } from "../../components/DeliveryTable";
import { EmptyState, ErrorState, Loading } from "../../components/bits";

const STATUSES = ["failed", "retry", "queued", "sending", "sent"] as const;
const PAGE_SIZE = 50;

/** Every delivery, newest change first, filterable by status (the dead-letter view with status=failed). */
export function DeliveriesPage() {
  const id = useId();
  const [params, setParams] = useSearchParams();
  const raw = params.get("status") ?? "";
  const status = (STATUSES as readonly string[]).includes(raw) ? raw : "";
  const list = useInfiniteQuery({
    queryKey: qk.deliveries({ status, limit: PAGE_SIZE }),
    queryFn: ({ pageParam, signal }) =>
      deliveriesApi.list({ status: status || undefined, limit: PAGE_SIZE, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section aria-labelledby="deliveries-page-h">
      <div className="page-head">
        <h1 id="deliveries-page-h">Deliveries</h1>
        <div className="field inline-field">
          <label htmlFor={`${id}-status`}>Status</label>
          <select
            id={`${id}-status`}
            value={status}
            onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {})}
          >
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      {list.isPending && <Loading />}
      {list.isError && !list.isFetchNextPageError && <ErrorState error={list.error} onRetry={() => list.refetch()} />}
      {list.isSuccess && items.length === 0 && (
        <EmptyState title={status ? `No ${status} deliveries` : "No deliveries yet"}>
          <p>A delivery is created for every message a rule matches.</p>
        </EmptyState>
      )}
      {items.length > 0 && (
        <>
          <DeliveryTable items={items} />
          <div className="load-more">
            {list.hasNextPage ? (
              <button type="button" className="btn" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
                {list.isFetchingNextPage ? "Loading…" : "Load more"}
              </button>
            ) : (
              <span className="muted">That is all.</span>
            )}
          </div>
          {list.isFetchNextPageError && <ErrorState error={list.error} />}
        </>
      )}
    </section>
  );
}
