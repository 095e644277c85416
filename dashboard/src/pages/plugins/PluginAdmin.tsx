/**
 * What operators (`me.is_admin`) do on the plugins page: upload a component
 * (`POST /api/plugins`; a new version of an installed id is added beside the
 * others), remove an installed plugin (`DELETE /api/plugins/{id}`) or one of
 * its versions (`DELETE /api/plugins/{id}/versions/{version}`), each again
 * with `force=true` when channels or rules use it. Other users never see
 * these controls; the server refuses them anyway (403).
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { AlertDialog } from "radix-ui";
import { useRef, useState, type ReactNode } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { MAX_PLUGIN_BYTES, pluginsApi, qk } from "../../api/endpoints";
import type { Plugin } from "../../api/types";
import { Field } from "../../components/Field";

const MIB = 1024 * 1024;

function formatMiB(bytes: number): string {
  return `${(bytes / MIB).toLocaleString("en-GB", { maximumFractionDigits: 1 })} MiB`;
}

/** The installed version numbers of a plugin, newest first (one on servers without versions). */
export function versionsOf(p: Plugin): string[] {
  return p.versions?.length ? p.versions.map((v) => v.version) : [p.version];
}

/** The version channels that follow upgrades run. */
export function newestVersion(p: Plugin): string {
  return p.versions?.find((v) => v.newest)?.version ?? p.version;
}

/** What an install did, for the success notice: a new plugin, a version added beside others, or (older servers) an upgrade. */
export function installedNotice(p: Plugin, before: Plugin[]): string {
  const previous = before.find((x) => x.id === p.id);
  if (!previous) return `Installed ${p.name} (${p.id}), version ${p.version}.`;
  if (!p.versions?.length) {
    return previous.version !== p.version
      ? `Upgraded ${p.name} (${p.id}) from version ${previous.version} to ${p.version}.`
      : `Installed ${p.name} (${p.id}), version ${p.version}.`;
  }
  const had = new Set(versionsOf(previous));
  const added = p.versions.find((v) => !had.has(v.version))?.version ?? p.version;
  const others = versionsOf(p).filter((v) => v !== added);
  const newest = newestVersion(p);
  const beside = others.length ? ` beside ${others.join(", ")}` : "";
  return added === newest
    ? `Installed ${p.name} (${p.id}) ${added}${beside}; channels following the newest now use ${added}.`
    : `Installed ${p.name} (${p.id}) ${added}${beside}; it is older than ${newest}, so channels following the newest stay on ${newest}.`;
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
          hint={`A WebAssembly component built for Beacon Spear's plugin interface, up to ${formatMiB(MAX_PLUGIN_BYTES)}. A new version of an installed plugin is added beside the others: channels and rules that follow the newest move to it, pinned ones stay.`}
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

interface ForceRemoveProps {
  /** The button that opens the dialog. */
  trigger: ReactNode;
  title: string;
  description: ReactNode;
  /** Shown under the server's in-use message, before *Remove anyway*. */
  forceWarning: ReactNode;
  remove(force: boolean): Promise<unknown>;
  /** Called after a removal; `forced` when it took *Remove anyway*. */
  onDone(forced: boolean): Promise<unknown> | void;
}

/**
 * A removal with a confirmation. When channels or rules use the thing the
 * server refuses (409 `plugin_in_use`); the dialog then shows why and offers
 * *Remove anyway* (`force=true`) with a warning.
 */
function ForceRemoveDialog({ trigger, title, description, forceWarning, remove: doRemove, onDone }: ForceRemoveProps) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [inUse, setInUse] = useState<string>();
  const [error, setError] = useState<string>();
  const remove = useMutation({ mutationFn: doRemove });

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
    await onDone(force);
  }

  return (
    <AlertDialog.Root
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (!o) reset();
      }}
    >
      <AlertDialog.Trigger asChild>{trigger}</AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="dialog-overlay" />
        <AlertDialog.Content className="dialog">
          <AlertDialog.Title className="dialog-title">{title}</AlertDialog.Title>
          <AlertDialog.Description className="dialog-description">{description}</AlertDialog.Description>
          {inUse !== undefined && (
            <>
              <p className="form-error" role="alert" data-testid="plugin-in-use">
                {inUse}
              </p>
              <p className="dialog-description warning" data-testid="plugin-force-warning">
                {forceWarning}
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

/** After a removal: the plugin list, the channels and rules (some may be broken now) and the details. */
function refreshAfterRemoval(queryClient: ReturnType<typeof useQueryClient>) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: qk.plugins }),
    queryClient.invalidateQueries({ queryKey: qk.channels }),
    queryClient.invalidateQueries({ queryKey: qk.rules }),
    queryClient.invalidateQueries({ queryKey: ["channel"] }),
  ]);
}

/** *Remove* on an operator-installed plugin: every version of it. */
export function RemovePluginDialog({ plugin, onRemoved }: { plugin: Plugin; onRemoved(message: string): void }) {
  const queryClient = useQueryClient();
  const versions = versionsOf(plugin);
  return (
    <ForceRemoveDialog
      trigger={
        <button type="button" className="btn btn-small btn-danger-outline">
          Remove<span className="visually-hidden"> {plugin.name}</span>
        </button>
      }
      title={`Remove “${plugin.name}”?`}
      description={
        <>
          {plugin.name} ({plugin.id}, {versions.length > 1 ? `every version: ${versions.join(", ")}` : `version ${plugin.version}`}) is
          uninstalled for every user of this server. If channels or rules use it, you are asked again before anything is
          removed.
        </>
      }
      forceWarning={
        <>
          <strong>Removing it anyway breaks them:</strong> the channels and rules using {plugin.name} stop working — their
          deliveries wait with an error — until the plugin is installed again.
        </>
      }
      remove={(force) => pluginsApi.remove(plugin.id, force)}
      onDone={(force) => {
        onRemoved(
          force
            ? `Removed ${plugin.name} (${plugin.id}). The channels and rules that used it stop working until it is installed again.`
            : `Removed ${plugin.name} (${plugin.id}).`,
        );
        return refreshAfterRemoval(queryClient);
      }}
    />
  );
}

/** *Remove this version* in a plugin's versions table. */
export function RemoveVersionDialog({
  plugin,
  version,
  onRemoved,
}: {
  plugin: Plugin;
  version: string;
  onRemoved(message: string): void;
}) {
  const queryClient = useQueryClient();
  const others = versionsOf(plugin).filter((v) => v !== version);
  const newest = newestVersion(plugin) === version;
  return (
    <ForceRemoveDialog
      trigger={
        <button type="button" className="btn btn-small btn-danger-outline">
          Remove this version
          <span className="visually-hidden">
            {" "}
            ({version} of {plugin.name})
          </span>
        </button>
      }
      title={`Remove version ${version} of “${plugin.name}”?`}
      description={
        <>
          Version {version} of {plugin.name} ({plugin.id}) is uninstalled for every user of this server
          {others.length === 0
            ? "; it is the only version, so the plugin goes with it."
            : newest
              ? `; channels and rules that follow the newest move to ${others[0]}.`
              : "; channels and rules that follow the newest keep running it."}{" "}
          If a channel or rule is pinned to it (or uses it as the last version), you are asked again before anything is
          removed.
        </>
      }
      forceWarning={
        <>
          <strong>Removing it anyway breaks them:</strong> the channels and rules pinned to {plugin.name} {version} stop
          working — their deliveries wait with an error — until that version is installed again or they are pinned to
          another one.
        </>
      }
      remove={(force) => pluginsApi.removeVersion(plugin.id, version, force)}
      onDone={(force) => {
        onRemoved(
          force
            ? `Removed version ${version} of ${plugin.name} (${plugin.id}). The channels and rules pinned to it stop working until it is installed again or they are pinned to another version.`
            : `Removed version ${version} of ${plugin.name} (${plugin.id}).`,
        );
        return refreshAfterRemoval(queryClient);
      }}
    />
  );
}
