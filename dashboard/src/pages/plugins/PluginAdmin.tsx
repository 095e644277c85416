/**
 * What operators (`me.is_admin`) do on the plugins page: upload a component
 * (`POST /api/plugins`) and remove an installed one (`DELETE
 * /api/plugins/{id}`, again with `force=true` when channels or rules use it).
 * Other users never see these controls; the server refuses them anyway (403).
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { AlertDialog } from "radix-ui";
import { useRef, useState } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { MAX_PLUGIN_BYTES, pluginsApi, qk } from "../../api/endpoints";
import type { Plugin } from "../../api/types";
import { Field } from "../../components/Field";

const MIB = 1024 * 1024;

function formatMiB(bytes: number): string {
  return `${(bytes / MIB).toLocaleString("en-GB", { maximumFractionDigits: 1 })} MiB`;
}

/** What an install did, for the success notice (an upgrade when the id was listed with another version). */
function installedNotice(p: Plugin, before: Plugin[]): string {
  const previous = before.find((x) => x.id === p.id && x.version !== p.version);
  return previous
    ? `Upgraded ${p.name} (${p.id}) from version ${previous.version} to ${p.version}.`
    : `Installed ${p.name} (${p.id}), version ${p.version}.`;
}

/** Upload form: a `.wasm` file input and *Install plugin*; the server's refusal is shown next to the input. */
export function InstallPluginForm({ installed }: { installed: Plugin[] }) {
  const queryClient = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const install = useMutation({
    mutationFn: pluginsApi.install,
    onSuccess: (plugin) => {
      setDone(installedNotice(plugin, installed));
      setFile(null);
      if (input.current) input.current.value = "";
      return queryClient.invalidateQueries({ queryKey: qk.plugins });
    },
    onError: (err) => setError(errorMessage(err)),
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    if (!file) {
      setError("Choose a .wasm file first.");
      return;
    }
    // Above the limit the server answers 413 — or, far above it, cuts the connection; say it here instead.
    if (file.size > MAX_PLUGIN_BYTES) {
      setError(`The file is ${formatMiB(file.size)}; the server accepts components up to ${formatMiB(MAX_PLUGIN_BYTES)}.`);
      return;
    }
    install.mutate(file);
  }

  return (
    <section className="card install-plugin" aria-labelledby="install-plugin-h">
      <h2 id="install-plugin-h">Install a plugin</h2>
      <form className="form" onSubmit={submit} noValidate>
        <Field
          ref={input}
          label="Plugin file (.wasm)"
          type="file"
          name="file"
          accept=".wasm,application/wasm"
          hint={`A WebAssembly component built for Beacon Spear's plugin interface, up to ${formatMiB(MAX_PLUGIN_BYTES)}. A newer version of an installed plugin replaces it, for every user.`}
          error={{ message: error }}
          onChange={(e) => {
            setFile(e.currentTarget.files?.[0] ?? null);
            setError(undefined);
            setDone(undefined);
          }}
        />
        <div>
          <button type="submit" className="btn btn-primary" disabled={install.isPending}>
            {install.isPending ? "Installing…" : "Install plugin"}
          </button>
        </div>
        {done && (
          <p role="status" className="notice" data-testid="plugin-installed">
            {done}
          </p>
        )}
      </form>
    </section>
  );
}

/**
 * *Remove* on an operator-installed plugin, with a confirmation. When channels
 * or rules use it the server refuses (409 `plugin_in_use`); the dialog then
 * shows why and offers *Remove anyway* (`force=true`) with a warning.
 */
export function RemovePluginDialog({ plugin, onRemoved }: { plugin: Plugin; onRemoved(message: string): void }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [inUse, setInUse] = useState<string>();
  const [error, setError] = useState<string>();
  const remove = useMutation({ mutationFn: (force: boolean) => pluginsApi.remove(plugin.id, force) });

  function reset() {
    setInUse(undefined);
    setError(undefined);
  }

  async function confirm(e: React.MouseEvent) {
    e.preventDefault();
    const force = inUse !== undefined;
    setError(undefined);
    try {
      await remove.mutateAsync(force);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.code === "plugin_in_use") {
        setInUse(err.message);
      } else {
        setError(errorMessage(err));
        // Gone already (removed elsewhere): the list is out of date.
        if (err instanceof ApiError && err.status === 404) void queryClient.invalidateQueries({ queryKey: qk.plugins });
      }
      return;
    }
    setOpen(false);
    reset();
    onRemoved(
      force
        ? `Removed ${plugin.name} (${plugin.id}). The channels and rules that used it stop working until it is installed again.`
        : `Removed ${plugin.name} (${plugin.id}).`,
    );
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: qk.plugins }),
      queryClient.invalidateQueries({ queryKey: qk.channels }),
      queryClient.invalidateQueries({ queryKey: qk.rules }),
    ]);
  }

  return (
    <AlertDialog.Root
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (!o) reset();
      }}
    >
      <AlertDialog.Trigger asChild>
        <button type="button" className="btn btn-small btn-danger-outline">
          Remove<span className="visually-hidden"> {plugin.name}</span>
        </button>
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="dialog-overlay" />
        <AlertDialog.Content className="dialog">
          <AlertDialog.Title className="dialog-title">Remove “{plugin.name}”?</AlertDialog.Title>
          <AlertDialog.Description className="dialog-description">
            {plugin.name} ({plugin.id}, version {plugin.version}) is uninstalled for every user of this server. If
            channels or rules use it, you are asked again before anything is removed.
          </AlertDialog.Description>
          {inUse !== undefined && (
            <>
              <p className="form-error" role="alert" data-testid="plugin-in-use">
                {inUse}
              </p>
              <p className="dialog-description warning" data-testid="plugin-force-warning">
                <strong>Removing it anyway breaks them:</strong> the channels and rules using {plugin.name} stop working
                — their deliveries wait with an error — until the plugin is installed again.
              </p>
            </>
          )}
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="dialog-actions">
            <AlertDialog.Cancel asChild>
              <button type="button" className="btn">
                Cancel
              </button>
            </AlertDialog.Cancel>
            <button type="button" className="btn btn-danger" onClick={confirm} disabled={remove.isPending}>
              {remove.isPending ? "Removing…" : inUse !== undefined ? "Remove anyway" : "Remove"}
            </button>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
