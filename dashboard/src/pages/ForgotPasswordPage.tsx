import { Link } from "react-router";
import { authApi } from "../api/endpoints";
import { EmailLinkForm } from "../components/EmailLinkForm";

export function ForgotPasswordPage() {
  return (
    <>
      <h1>Reset your password</h1>
      <EmailLinkForm
        send={authApi.forgotPassword}
        intro="Enter your account's e-mail address and we will send you a reset link."
        submitLabel="Send reset link"
        sentMessage={(email) => (
          <>
            If an account exists for <strong>{email}</strong>, we sent it a link to choose a new password. The link works
            for one hour.
          </>
        )}
      />
      <p className="auth-links">
        <Link to="/login">Back to log in</Link>
      </p>
    </>
  );
}
