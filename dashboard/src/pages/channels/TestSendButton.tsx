import { useMutation } from "@tanstack/react-query";
import { errorMessage } from "../../api/client";
import { channelsApi } from "../../api/endpoints";

/** "Send test notification" (`POST /api/channels/{id}/test`) with the outcome next to it. */
export function TestSendButton({ channelId, channelName, compact }: { channelId: string; channelName: string; compact?: boolean }) {
  const test = useMutation({ mutationFn: () => channelsApi.test(channelId) });
  const r = test.data;
  return (
    <div className={compact ? "test-send compact" : "test-send"}>
      <button
        type="button"
        className="btn btn-small"
        onClick={() => test.mutate()}
        disabled={test.isPending}
        aria-label={compact ? `Send test notification to ${channelName}` : undefined}
      >
        {test.isPending ? "Sending…" : compact ? "Test" : "Send test notification"}
      </button>
      <div role="status" aria-live="polite" className="test-send-result">
        {test.isError && <p className="field-error">Could not run the test: {errorMessage(test.error)}</p>}
        {r && r.ok && (
          <p className="ok">
            Test notification sent{r.http_status !== null ? ` (HTTP ${r.http_status})` : ""}.
          </p>
        )}
        {r && !r.ok && (
          <p className="bad">
            Test failed{r.http_status !== null ? ` (HTTP ${r.http_status})` : ""}: {r.error ?? "unknown error"}
          </p>
        )}
        {r?.response_snippet && !compact && (
          <details>
            <summary>Server response</summary>
            <pre className="code">{r.response_snippet}</pre>
          </details>
        )}
      </div>
    </div>
  );
}
