import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useLocation, useSearchParams } from "react-router";
import { endpointsApi, messagesApi, qk } from "../../api/endpoints";
import { EmptyState, ErrorState, Loading } from "../../components/bits";
import { MessageTable } from "../../components/MessageTable";
import { NoMessagesHelp } from "../../components/NoMessagesHelp";
import {
  activeFilterCount,
  apiFiltersFromParams,
  formValuesFromParams,
  hasActiveFilters,
  onlyScheduled,
  paramsFromFormValues,
} from "./filters";
import { BatchDeleteDialog } from "./BatchDeleteDialog";
import { FilterBar } from "./FilterBar";

const PAGE_SIZE = 50;

export function MessagesPage() {
  const [params, setParams] = useSearchParams();
  // Set by the page that sent us here (a message deleted or its scheduled delivery cancelled); gone on the next navigation.
  const notice = (useLocation().state as { notice?: string } | null)?.notice;
  const key = params.toString();
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const formValues = useMemo(() => formValuesFromParams(params), [key]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const filters = useMemo(() => apiFiltersFromParams(params), [key]);
  const endpoints = useQuery({ queryKey: qk.endpoints(true), queryFn: () => endpointsApi.list(true) });

  const messages = useInfiniteQuery({
    queryKey: qk.messages(filters),
    queryFn: ({ pageParam, signal }) => messagesApi.list(filters, pageParam, PAGE_SIZE, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const items = messages.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = hasActiveFilters(filters);

  return (
    <section aria-labelledby="messages-h">
      <div className="page-head">
        <h1 id="messages-h">Messages</h1>
        <BatchDeleteDialog endpoints={endpoints.data?.items ?? []} defaultEndpointId={filters.endpoint_id} />
      </div>
      {notice && (
        <p className="notice" role="status" data-testid="messages-notice">
          {notice}
        </p>
      )}
      <FilterBar
        values={formValues}
        endpoints={endpoints.data?.items ?? []}
        activeCount={activeFilterCount(filters)}
        onApply={(v) => setParams(paramsFromFormValues(v))}
      />
      {messages.isPending && <Loading />}
      {messages.isError && <ErrorState error={messages.error} onRetry={() => messages.refetch()} />}
      {messages.isSuccess && items.length === 0 &&
        (onlyScheduled(filters) ? (
          <EmptyState title="No scheduled messages">
            <p>
              Nothing is waiting to be delivered. A message sent with <code>deliver_at</code> or <code>delay</code> (e.g.{" "}
              <code>{'"delay": "15m"'}</code>) shows here until its time comes.
            </p>
          </EmptyState>
        ) : filtered ? (
          <EmptyState title="No messages match these filters">
            <p>Try a wider time range or clear the filters.</p>
          </EmptyState>
        ) : (
          <NoMessagesHelp />
        ))}
      {items.length > 0 && (
        <>
          <p className="muted" aria-live="polite">
            Showing {items.length} {items.length === 1 ? "message" : "messages"}
            {messages.hasNextPage ? " (more available)" : ""}.
          </p>
          <MessageTable items={items} />
          <div className="load-more">
            {messages.hasNextPage ? (
              <button
                type="button"
                className="btn"
                onClick={() => messages.fetchNextPage()}
                disabled={messages.isFetchingNextPage}
              >
                {messages.isFetchingNextPage ? "Loading…" : "Load more"}
              </button>
            ) : (
              <span className="muted">That is all.</span>
            )}
          </div>
          {messages.isFetchNextPageError && <ErrorState error={messages.error} />}
        </>
      )}
    </section>
  );
}
