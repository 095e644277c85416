import { zodResolver } from "@hookform/resolvers/zod";
import { useQueryClient } from "@tanstack/react-query";
import { Dialog } from "radix-ui";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { endpointsApi, qk } from "../../api/endpoints";
import type { CreatedEndpoint } from "../../api/types";
import { CopyValue } from "../../components/CopyButton";
import { CurlExample } from "../../components/CurlExample";
import { Field, FormError } from "../../components/Field";
import { applyApiError } from "../../lib/forms";
import { endpointSchema, type EndpointValues } from "../../lib/schemas";

interface Props {
  open: boolean;
  onOpenChange(open: boolean): void;
}

/**
 * Create an ingest endpoint. The answer holds the key, which the server will
 * never show again: it lives only in this component's state (not in the query
 * cache) and is dropped when the dialog closes.
 */
export function CreateEndpointDialog({ open, onOpenChange }: Props) {
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<CreatedEndpoint | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<EndpointValues>({ resolver: zodResolver(endpointSchema), defaultValues: { name: "" } });

  const onSubmit = handleSubmit(async ({ name }) => {
    try {
      const result = await endpointsApi.create(name);
      setCreated(result);
      void queryClient.invalidateQueries({ queryKey: qk.endpointsAll });
    } catch (err) {
      applyApiError(err, setError, ["name"]);
    }
  });

  function change(next: boolean) {
    if (!next) {
      setCreated(null);
      reset();
    }
    onOpenChange(next);
  }

  return (
    <Dialog.Root open={open} onOpenChange={change}>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content
          className="dialog dialog-wide"
          // With the key on screen, a stray click outside must not discard it.
          onInteractOutside={(e) => {
            if (created) e.preventDefault();
          }}
        >
          {!created ? (
            <>
              <Dialog.Title className="dialog-title">New ingest endpoint</Dialog.Title>
              <Dialog.Description className="dialog-description">
                An endpoint is a URL plus a secret key that scripts use to send messages.
              </Dialog.Description>
              <form onSubmit={onSubmit} noValidate className="form">
                <FormError message={errors.root?.server?.message} />
                <Field
                  label="Name"
                  placeholder="e.g. backups, CI, home assistant"
                  error={errors.name}
                  {...register("name")}
                />
                <div className="dialog-actions">
                  <Dialog.Close asChild>
                    <button type="button" className="btn">
                      Cancel
                    </button>
                  </Dialog.Close>
                  <button type="submit" className="btn btn-primary" disabled={isSubmitting}>
                    {isSubmitting ? "Creating…" : "Create endpoint"}
                  </button>
                </div>
              </form>
            </>
          ) : (
            <>
              <Dialog.Title className="dialog-title">Endpoint “{created.endpoint.name}” created</Dialog.Title>
              <Dialog.Description className="dialog-description warning">
                Copy the key now. It is shown only this once; if you lose it, revoke this endpoint and create a new
                one.
              </Dialog.Description>
              <div className="stack">
                <CopyValue label="Ingest key" value={created.ingest_key} />
                <CopyValue label="Ingest URL" value={created.ingest_url} />
                <CurlExample url={created.ingest_url} ingestKey={created.ingest_key} />
              </div>
              <div className="dialog-actions">
                <Dialog.Close asChild>
                  <button type="button" className="btn btn-primary">
                    I have stored the key
                  </button>
                </Dialog.Close>
              </div>
            </>
          )}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
