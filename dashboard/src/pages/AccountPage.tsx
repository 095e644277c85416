import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { AlertDialog } from "radix-ui";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { errorMessage } from "../api/client";
import { authApi } from "../api/endpoints";
import { useAuth } from "../auth/AuthProvider";
import { Field, FormError } from "../components/Field";
import { ThemeSwitcher } from "../components/ThemeSwitcher";
import { applyApiError } from "../lib/forms";
import {
  changeEmailSchema,
  changePasswordSchema,
  deleteAccountSchema,
  type ChangeEmailValues,
  type ChangePasswordValues,
  type DeleteAccountValues,
} from "../lib/schemas";

function VerificationStatus() {
  const { user } = useAuth();
  const resend = useMutation({ mutationFn: () => authApi.resendVerification() });
  if (!user) return null;
  return (
    <section className="card" aria-labelledby="email-h">
      <h2 id="email-h">E-mail address</h2>
      <p>
        <strong>{user.email}</strong>{" "}
        {user.email_verified ? (
          <span className="status status-ok">verified</span>
        ) : (
          <span className="status status-bad">not verified</span>
        )}
      </p>
      {!user.email_verified && (
        <p>
          <button type="button" className="btn" onClick={() => resend.mutate()} disabled={resend.isPending}>
            {resend.isPending ? "Sending…" : "Resend verification e-mail"}
          </button>{" "}
          <span aria-live="polite">
            {resend.isSuccess && "Sent — check your inbox."}
            {resend.isError && errorMessage(resend.error)}
          </span>
        </p>
      )}
    </section>
  );
}

export function ChangeEmailForm() {
  const [sentTo, setSentTo] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<ChangeEmailValues>({ resolver: zodResolver(changeEmailSchema), defaultValues: { new_email: "", password: "" } });
  const onSubmit = handleSubmit(async (values) => {
    setSentTo(null);
    try {
      await authApi.changeEmail(values);
      setSentTo(values.new_email);
      reset();
    } catch (err) {
      applyApiError(err, setError, ["new_email", "password"]);
    }
  });
  return (
    <section className="card" aria-labelledby="chemail-h">
      <h2 id="chemail-h">Change e-mail</h2>
      <form onSubmit={onSubmit} noValidate className="form">
        <FormError message={errors.root?.server?.message} />
        {sentTo && (
          <p role="status" className="notice">
            We sent a confirmation link to <strong>{sentTo}</strong>. Your address changes when you open it.
          </p>
        )}
        <Field label="New e-mail" type="email" autoComplete="email" error={errors.new_email} {...register("new_email")} />
        <Field
          label="Current password"
          type="password"
          autoComplete="current-password"
          error={errors.password}
          {...register("password")}
        />
        <button type="submit" className="btn btn-primary" disabled={isSubmitting}>
          {isSubmitting ? "Sending…" : "Change e-mail"}
        </button>
      </form>
    </section>
  );
}

export function ChangePasswordForm() {
  const [done, setDone] = useState(false);
  const {
    register,
    handleSubmit,
    setError,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<ChangePasswordValues>({
    resolver: zodResolver(changePasswordSchema),
    defaultValues: { current_password: "", new_password: "", confirm_password: "" },
  });
  const onSubmit = handleSubmit(async ({ current_password, new_password }) => {
    setDone(false);
    try {
      await authApi.changePassword({ current_password, new_password });
      setDone(true);
      reset();
    } catch (err) {
      applyApiError(err, setError, ["current_password", "new_password"]);
    }
  });
  return (
    <section className="card" aria-labelledby="chpw-h">
      <h2 id="chpw-h">Change password</h2>
      <form onSubmit={onSubmit} noValidate className="form">
        <FormError message={errors.root?.server?.message} />
        {done && (
          <p role="status" className="notice">
            Password changed.
          </p>
        )}
        <Field
          label="Current password"
          type="password"
          autoComplete="current-password"
          error={errors.current_password}
          {...register("current_password")}
        />
        <Field
          label="New password"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters."
          error={errors.new_password}
          {...register("new_password")}
        />
        <Field
          label="Repeat new password"
          type="password"
          autoComplete="new-password"
          error={errors.confirm_password}
          {...register("confirm_password")}
        />
        <button type="submit" className="btn btn-primary" disabled={isSubmitting}>
          {isSubmitting ? "Saving…" : "Change password"}
        </button>
      </form>
    </section>
  );
}

function DeleteAccount() {
  const { clearSession } = useAuth();
  const [open, setOpen] = useState(false);
  const {
    register,
    handleSubmit,
    setError,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<DeleteAccountValues>({ resolver: zodResolver(deleteAccountSchema), defaultValues: { password: "" } });
  const onSubmit = handleSubmit(async (values) => {
    try {
      await authApi.deleteAccount(values);
    } catch (err) {
      applyApiError(err, setError, ["password"]);
      return;
    }
    // The guard then goes to the log-in page with this notice.
    clearSession("Your account and its data were deleted.");
  });
  return (
    <section className="card danger-zone" aria-labelledby="del-h">
      <h2 id="del-h">Delete account</h2>
      <p>Removes your account, endpoints and messages. This cannot be undone.</p>
      <AlertDialog.Root
        open={open}
        onOpenChange={(o) => {
          setOpen(o);
          if (!o) reset();
        }}
      >
        <AlertDialog.Trigger asChild>
          <button type="button" className="btn btn-danger">
            Delete account…
          </button>
        </AlertDialog.Trigger>
        <AlertDialog.Portal>
          <AlertDialog.Overlay className="dialog-overlay" />
          <AlertDialog.Content className="dialog">
            <AlertDialog.Title className="dialog-title">Delete your account?</AlertDialog.Title>
            <AlertDialog.Description className="dialog-description">
              Everything you stored in Beacon Spear is deleted. Enter your password to confirm.
            </AlertDialog.Description>
            <form onSubmit={onSubmit} noValidate className="form">
              <FormError message={errors.root?.server?.message} />
              <Field
                label="Password"
                type="password"
                autoComplete="current-password"
                error={errors.password}
                {...register("password")}
              />
              <div className="dialog-actions">
                <AlertDialog.Cancel asChild>
                  <button type="button" className="btn">
                    Cancel
                  </button>
                </AlertDialog.Cancel>
                <button type="submit" className="btn btn-danger" disabled={isSubmitting}>
                  {isSubmitting ? "Deleting…" : "Delete my account"}
                </button>
              </div>
            </form>
          </AlertDialog.Content>
        </AlertDialog.Portal>
      </AlertDialog.Root>
    </section>
  );
}

export function AccountPage() {
  return (
    <>
      <h1>Account</h1>
      <div className="cards">
        <VerificationStatus />
        <section className="card" aria-labelledby="theme-h">
          <h2 id="theme-h">Appearance</h2>
          <p>Theme (remembered in this browser):</p>
          <ThemeSwitcher />
        </section>
        <ChangeEmailForm />
        <ChangePasswordForm />
        <DeleteAccount />
      </div>
    </>
  );
}
