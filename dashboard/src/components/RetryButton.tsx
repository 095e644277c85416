import { useMutation, useQueryClient } from "@tanstack/react-query";
import { errorMessage } from "../api/client";
import { deliveriesApi, qk } from "../api/endpoints";

/** Manual retry of a failed delivery (`POST /api/deliveries/{id}/retry`). */
export function RetryButton({
  deliveryId,
  messageId,
  target,
}: {
  deliveryId: string;
  messageId: string;
  /** Who the delivery goes to, for the accessible name ("Retry delivery to …"). */
  target: string;
}) {
  const queryClient = useQueryClient();
  const retry = useMutation({
    mutationFn: () => deliveriesApi.retry(deliveryId),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: qk.message(messageId) }),
        queryClient.invalidateQueries({ queryKey: qk.deliveriesAll }),
        queryClient.invalidateQueries({ queryKey: qk.messagesAll }),
        queryClient.invalidateQueries({ queryKey: qk.statsAll }),
      ]),
  });
  return (
    <span className="retry">
      <button
        type="button"
        className="btn btn-small"
        onClick={() => retry.mutate()}
        disabled={retry.isPending || retry.isSuccess}
        aria-label={`Retry delivery to ${target}`}
      >
        {retry.isPending ? "Retrying…" : retry.isSuccess ? "Queued" : "Retry"}
      </button>
      <span aria-live="polite" className={retry.isError ? "field-error" : "muted"}>
        {retry.isError ? errorMessage(retry.error) : retry.isSuccess ? "Queued for another attempt." : ""}
      </span>
    </span>
  );
}
