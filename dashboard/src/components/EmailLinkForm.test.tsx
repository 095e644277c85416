import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { EmailLinkForm } from "./EmailLinkForm";

function setup(send: (email: string) => Promise<unknown>) {
  const spy = vi.fn(send);
  const user = userEvent.setup();
  render(
    <EmailLinkForm
      send={spy}
      label="Mail me a link"
      intro="Enter your address."
      submitLabel="Send the link"
      sentMessage={(email) => (
        <>
          If <strong>{email}</strong> has an account, a link is on its way.
        </>
      )}
    />,
  );
  return { spy, user };
}

/** The error paragraph the E-mail input points at. */
function emailError(): string | null {
  const input = screen.getByLabelText("E-mail");
  const ids = (input.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
  return ids.map((id) => document.getElementById(id)).find((el) => el?.classList.contains("field-error"))?.textContent ?? null;
}

describe("e-mail link form", () => {
  it("checks the address in the browser before sending", async () => {
    const { spy, user } = setup(async () => undefined);
    const form = screen.getByRole("form", { name: "Mail me a link" });
    expect(form).toHaveTextContent("Enter your address.");
    await user.click(screen.getByRole("button", { name: "Send the link" }));
    expect(emailError()).toBe("Enter your e-mail address.");
    await user.type(screen.getByLabelText("E-mail"), "not-an-address");
    await user.click(screen.getByRole("button", { name: "Send the link" }));
    expect(emailError()).toBe("Enter a valid e-mail address.");
    expect(spy).not.toHaveBeenCalled();
  });

  it("says Sending… meanwhile, then replaces the form with the message for the trimmed address", async () => {
    let done!: () => void;
    const { spy, user } = setup(() => new Promise<void>((resolve) => (done = resolve)));
    await user.type(screen.getByLabelText("E-mail"), "  ada@example.com ");
    await user.click(screen.getByRole("button", { name: "Send the link" }));
    expect(spy).toHaveBeenCalledWith("ada@example.com");
    expect(screen.getByRole("button", { name: "Sending…" })).toBeDisabled();

    done();
    expect(await screen.findByRole("status")).toHaveTextContent("If ada@example.com has an account, a link is on its way.");
    expect(screen.queryByRole("form")).not.toBeInTheDocument();
  });

  it("puts the server's error on the address next to the input, any other above the form", async () => {
    let fail: Error = new ApiError(400, {
      code: "validation_failed",
      message: "That address cannot receive mail.",
      field: "email",
    });
    const { spy, user } = setup(async () => {
      throw fail;
    });
    await user.type(screen.getByLabelText("E-mail"), "ada@example.com");
    await user.click(screen.getByRole("button", { name: "Send the link" }));
    await screen.findByText("That address cannot receive mail.");
    expect(emailError()).toBe("That address cannot receive mail.");
    expect(screen.getByLabelText("E-mail")).toHaveAttribute("aria-invalid", "true");

    fail = new ApiError(503, { code: "mail_unavailable", message: "Mail is not configured." });
    await user.click(screen.getByRole("button", { name: "Send the link" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Mail is not configured.");
    expect(emailError()).toBeNull();
    expect(spy).toHaveBeenCalledTimes(2);
    // Still the form: nothing was sent.
    expect(screen.queryByRole("status")).not.toBeInTheDocument();
  });
});
