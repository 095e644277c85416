/**
 * The channel form against the real config schemas of every built-in channel
 * plugin (saved from a running server in src/test/plugin-schemas.json): each
 * setting is drawn with the right kind of input, and a valid config can be
 * filled in and is submitted as the JSON the plugin expects.
 */
import { cleanup, render, screen, within, type BoundFunctions, type queries } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { ChannelInput } from "../../api/types";
import { labelFor, validateConfig, type JsonSchema } from "../../features/schema-form/schema";
import { REAL_PLUGINS, realPlugin } from "../../test/fixtures";
import { ChannelForm } from "./ChannelForm";

const CHANNEL_PLUGINS = REAL_PLUGINS.filter((p) => p.kind === "channel");
const BUILTIN_CHANNELS = ["bark", "discord", "email", "gotify", "mqtt", "ntfy", "slack", "telegram", "webhook"];

type Scope = BoundFunctions<typeof queries>;
type S = Record<string, unknown> & JsonSchema;

// ---- a small reading of the schema, independent of the form's own helpers ----

/** Follow `$ref`s (siblings of the `$ref` win) and drop a `null` alternative. */
function resolve(node: S, root: S): { s: S; nullable: boolean } {
  let s = node;
  while (typeof s.$ref === "string") {
    const name = s.$ref.replace(/^#\/\$defs\//, "");
    const { $ref: _r, ...rest } = s;
    s = { ...(root.$defs as Record<string, S>)[name], ...rest };
  }
  const alts = (s.anyOf ?? s.oneOf) as S[] | undefined;
  if (alts && !s.type) {
    const nonNull = alts.filter((a) => a.type !== "null");
    if (nonNull.length === 1 && nonNull.length < alts.length) {
      const { anyOf: _a, oneOf: _o, ...rest } = s;
      return { s: { ...resolve(nonNull[0], root).s, ...rest }, nullable: true };
    }
  }
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== "null");
    return { s: { ...s, type: types.length === 1 ? types[0] : types }, nullable: s.type.includes("null") };
  }
  return { s, nullable: false };
}

/** Enum values, written as `enum` or as `oneOf` of `const`s (schemars' documented variants). */
function enumValues(s: S): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum.filter((e) => e !== null);
  const alts = (s.oneOf ?? s.anyOf) as S[] | undefined;
  if (alts && alts.length > 0 && alts.every((a) => "const" in a)) return alts.map((a) => a.const);
  return undefined;
}

const secret = (s: S) => s["x-secret"] === true || s.writeOnly === true;
const plain = (text: string) => text.replace(/\s*\*$/, "").trim();

/** The input labelled exactly `label` (ignoring the " *" of required fields). */
function control(scope: Scope, label: string): HTMLElement {
  return scope.getByLabelText((content, el) => plain(content) === label && el?.tagName !== "BUTTON");
}

function group(scope: Scope, label: string): HTMLElement {
  return scope.getByRole("group", { name: (name) => plain(name) === label });
}

/** Checks every property of `schema` (recursing into nested objects) against what is drawn in `scope`. */
function checkDrawn(plugin: string, schema: S, root: S, scope: Scope, seen: string[], prefix = "") {
  const required = new Set((schema.required as string[] | undefined) ?? []);
  for (const [key, raw] of Object.entries((schema.properties ?? {}) as Record<string, S>)) {
    const { s } = resolve(raw, root);
    const label = labelFor(key, s);
    const where = `${plugin}: ${prefix}${key} (${label})`;
    const values = enumValues(s);
    seen.push(`${prefix}${key}`);
    if (values) {
      const el = control(scope, label);
      expect(el.tagName, where).toBe("SELECT");
      const options = within(el)
        .getAllByRole("option")
        .map((o) => (o as HTMLOptionElement).value)
        .filter((v) => v !== "");
      expect(options, where).toEqual(values.map(String));
    } else if (s.type === "object" && s.properties) {
      checkDrawn(plugin, s, root, within(group(scope, label)), seen, `${prefix}${key}.`);
      continue;
    } else if (s.type === "object" && typeof s.additionalProperties === "object") {
      expect(group(scope, label), where).toBeInTheDocument();
      continue;
    } else if (s.type === "array" && (s.items as S | undefined)?.type === "string") {
      const el = control(scope, label);
      if (secret(s)) expect(el, where).toHaveAttribute("type", "password");
      else expect(el.tagName, where).toBe("TEXTAREA");
    } else if (s.type === "string") {
      const el = control(scope, label);
      expect(el.tagName, where).toBe("INPUT");
      if (secret(s)) expect(el, where).toHaveAttribute("type", "password");
      else expect(el.getAttribute("type"), where).not.toBe("password");
    } else if (s.type === "integer" || s.type === "number") {
      const el = control(scope, label);
      expect(el, where).toHaveAttribute("type", "number");
      if (typeof s.minimum === "number") expect(el, where).toHaveAttribute("min", String(s.minimum));
      if (typeof s.maximum === "number") expect(el, where).toHaveAttribute("max", String(s.maximum));
    } else if (s.type === "boolean") {
      expect(control(scope, label), where).toHaveAttribute("type", "checkbox");
    } else {
      // Free-form values (e.g. Bark's default_payload_json: object or string) are edited as JSON.
      expect(control(scope, label).tagName, where).toBe("TEXTAREA");
    }
    if (required.has(key)) expect(control(scope, label), `${where} is marked required`).toHaveAttribute("aria-required", "true");
  }
}

/** The error message the input points at (aria-describedby), if any. */
function errorOf(el: HTMLElement): string | null {
  const ids = (el.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
  return ids.map((id) => document.getElementById(id)).find((e) => e?.classList.contains("field-error"))?.textContent ?? null;
}

function renderForm() {
  const onSubmit = vi.fn<(v: ChannelInput) => Promise<unknown>>().mockResolvedValue(undefined);
  const user = userEvent.setup();
  render(<ChannelForm plugins={CHANNEL_PLUGINS} onSubmit={onSubmit} />);
  return { user, onSubmit };
}

async function start(plugin: string, name = "My channel") {
  const r = renderForm();
  await r.user.selectOptions(screen.getByLabelText("Plugin"), plugin);
  await r.user.type(screen.getByLabelText("Name"), name);
  const settings = within(screen.getByRole("group", { name: `Settings for ${realPlugin(plugin).name}` }));
  return { ...r, settings };
}

/** Submit, and return the config sent (after checking it against the plugin's schema once more). */
async function submitted(r: Awaited<ReturnType<typeof start>>, plugin: string) {
  await r.user.click(screen.getByRole("button", { name: "Create channel" }));
  expect(r.onSubmit).toHaveBeenCalledTimes(1);
  const input = r.onSubmit.mock.calls[0][0];
  expect(input).toMatchObject({ name: "My channel", plugin, enabled: true });
  expect(validateConfig(realPlugin(plugin).config_schema as JsonSchema, input.config)).toEqual({});
  return input.config;
}

describe("channel form with the real built-in schemas", () => {
  it("has every built-in channel plugin in the fixture", () => {
    expect(CHANNEL_PLUGINS.map((p) => p.id).sort()).toEqual(BUILTIN_CHANNELS);
  });

  it.each(BUILTIN_CHANNELS)("draws every setting of %s with the right input", async (id) => {
    const { user } = renderForm();
    await user.selectOptions(screen.getByLabelText("Plugin"), id);
    const plugin = realPlugin(id);
    const schema = plugin.config_schema as S;
    const settings = within(screen.getByRole("group", { name: `Settings for ${plugin.name}` }));
    const seen: string[] = [];
    checkDrawn(id, schema, schema, settings, seen);
    expect(seen.length).toBeGreaterThan(0);
    // Nothing fell back to raw JSON except the one free-form value.
    const textareas = settings.queryAllByRole("textbox").filter((t) => t.tagName === "TEXTAREA");
    const listy = Object.values(schema.properties as Record<string, S>).filter((p) => resolve(p, schema).s.type === "array").length;
    expect(textareas.length, "textareas are string lists (or Bark's free-form default payload)").toBeLessThanOrEqual(listy + (id === "bark" ? 1 : 0));
  });

  it("ntfy: server, topic and token (a password input) are sent as JSON", async () => {
    const r = await start("ntfy");
    const s = r.settings;
    await r.user.type(control(s, "Server URL"), "https://ntfy.example.com");
    await r.user.type(control(s, "Topic"), "alerts");
    const token = control(s, "Token");
    expect(token).toHaveAttribute("type", "password");
    await r.user.type(token, "tk_secret");
    await r.user.type(control(s, "Default priority"), "4");
    await r.user.type(control(s, "Default tags"), "warning{Enter}server");
    await r.user.click(control(s, "Markdown"));
    expect(await submitted(r, "ntfy")).toEqual({
      server_url: "https://ntfy.example.com",
      topic: "alerts",
      token: "tk_secret",
      default_priority: 4,
      default_tags: ["warning", "server"],
      markdown: true,
    });
  });

  it("ntfy: required fields and ranges are checked before submitting", async () => {
    const r = await start("ntfy");
    await r.user.type(control(r.settings, "Default priority"), "9");
    await r.user.click(screen.getByRole("button", { name: "Create channel" }));
    expect(r.onSubmit).not.toHaveBeenCalled();
    // Required settings come first (schemars sorts properties by name).
    const errors = r.settings.getAllByRole("alert").map((e) => e.textContent);
    expect(errors).toEqual(["Required.", "Required.", "Must be at most 5."]);
    expect(errorOf(control(r.settings, "Server URL"))).toBe("Required.");
    expect(errorOf(control(r.settings, "Topic"))).toBe("Required.");
  });

  it("telegram: bot token, chat id with its pattern, parse mode enum from $ref, thread id", async () => {
    const r = await start("telegram");
    const s = r.settings;
    expect(control(s, "API base URL")).toHaveAttribute("placeholder", "https://api.telegram.org");
    expect(control(s, "Bot token")).toHaveAttribute("type", "password");
    await r.user.type(control(s, "Bot token"), "123456789:AAHk-secret");
    await r.user.type(control(s, "Chat ID"), "my chat");
    const mode = control(s, "Parse mode");
    expect(within(mode).getAllByRole("option").map((o) => o.textContent)).toEqual(["(not set)", "HTML", "MarkdownV2", "Markdown"]);
    await r.user.selectOptions(mode, "MarkdownV2");
    await r.user.type(control(s, "Message thread ID"), "7");
    await r.user.click(control(s, "Disable notification"));
    expect(control(s, "Silent below priority")).toHaveAttribute("placeholder", "3");

    await r.user.click(screen.getByRole("button", { name: "Create channel" }));
    expect(r.onSubmit).not.toHaveBeenCalled();
    expect(s.getByRole("alert")).toHaveTextContent("Does not have the expected format.");
    await r.user.clear(control(s, "Chat ID"));
    await r.user.type(control(s, "Chat ID"), "-1001234567890");
    expect(await submitted(r, "telegram")).toEqual({
      bot_token: "123456789:AAHk-secret",
      chat_id: "-1001234567890",
      parse_mode: "MarkdownV2",
      message_thread_id: 7,
      disable_notification: true,
    });
  });

  it("email: a list of recipients (required, at least one) and optional settings", async () => {
    const r = await start("email");
    const s = r.settings;
    await r.user.click(screen.getByRole("button", { name: "Create channel" }));
    expect(r.onSubmit).not.toHaveBeenCalled();
    expect(s.getByRole("alert")).toHaveTextContent("Required.");
    const to = control(s, "To");
    expect(to.tagName).toBe("TEXTAREA");
    await r.user.type(to, "ops@example.com{Enter}ada@example.com");
    await r.user.type(control(s, "Subject prefix"), "[[beacon]"); // "[[" types "["
    await r.user.click(control(s, "HTML"));
    expect(await submitted(r, "email")).toEqual({
      to: ["ops@example.com", "ada@example.com"],
      subject_prefix: "[beacon]",
      html: true,
    });
  });

  it("mqtt: broker, topic, credentials, payload format (oneOf consts) and QoS 0-1", async () => {
    const r = await start("mqtt");
    const s = r.settings;
    await r.user.type(control(s, "Broker URL"), "mqtts://broker.example.com:8883");
    await r.user.type(control(s, "Topic"), "home/alerts");
    await r.user.type(control(s, "Username"), "beacon");
    expect(control(s, "Password")).toHaveAttribute("type", "password");
    await r.user.type(control(s, "Password"), "pw");
    const format = control(s, "Payload format");
    expect(format.tagName).toBe("SELECT");
    await r.user.selectOptions(format, "text");
    const qos = control(s, "QoS");
    await r.user.type(qos, "2");
    await r.user.click(screen.getByRole("button", { name: "Create channel" }));
    expect(r.onSubmit).not.toHaveBeenCalled();
    expect(s.getByRole("alert")).toHaveTextContent("Must be at most 1.");
    await r.user.clear(qos);
    await r.user.type(qos, "0");
    await r.user.click(control(s, "Retain"));
    expect(await submitted(r, "mqtt")).toEqual({
      broker_url: "mqtts://broker.example.com:8883",
      topic: "home/alerts",
      username: "beacon",
      password: "pw",
      payload_format: "text",
      qos: 0,
      retain: true,
    });
  });

  it("bark: several device keys (password inputs) and end-to-end encryption as a nested object", async () => {
    const r = await start("bark");
    const s = r.settings;
    await r.user.type(control(s, "Server base URL"), "https://api.day.app");
    const keys = control(s, "Device keys");
    expect(keys).toHaveAttribute("type", "password");
    await r.user.type(keys, "key-one");
    await r.user.click(s.getByRole("button", { name: "Add to Device keys" }));
    const second = control(s, "Device keys 2");
    expect(second).toHaveAttribute("type", "password");
    await r.user.type(second, "key-two");

    const enc = within(group(s, "Encryption"));
    expect(group(s, "Encryption")).toHaveAccessibleDescription(/Optional: leave all of it empty/);
    // A partly filled encryption block says what is missing.
    await r.user.type(control(enc, "IV"), "abcdefghijkl");
    await r.user.click(screen.getByRole("button", { name: "Create channel" }));
    expect(r.onSubmit).not.toHaveBeenCalled();
    expect(enc.getAllByRole("alert").map((e) => e.textContent)).toEqual(["Required.", "Required."]);
    await r.user.clear(control(enc, "IV"));

    const algorithm = control(enc, "Algorithm");
    expect(algorithm.tagName).toBe("SELECT");
    await r.user.selectOptions(algorithm, "aes-256-gcm");
    const key = control(enc, "Key");
    expect(key).toHaveAttribute("type", "password");
    await r.user.type(key, "0123456789abcdef0123456789abcdef");
    expect(await submitted(r, "bark")).toEqual({
      server_base_url: "https://api.day.app",
      device_keys: ["key-one", "key-two"],
      encryption: { algorithm: "aes-256-gcm", key: "0123456789abcdef0123456789abcdef" },
    });
  });

  it("webhook: URL, signing secret, method (oneOf consts via $ref) and secret headers", async () => {
    const r = await start("webhook");
    const s = r.settings;
    await r.user.type(control(s, "URL"), "https://hooks.example.com/in");
    expect(control(s, "Secret")).toHaveAttribute("type", "password");
    await r.user.type(control(s, "Secret"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    await r.user.selectOptions(control(s, "Method"), "PUT");
    const headers = within(group(s, "Headers"));
    await r.user.click(headers.getByRole("button", { name: "Add to Headers" }));
    await r.user.type(headers.getByLabelText("Headers 1 name"), "Authorization");
    const value = headers.getByLabelText("Headers 1 value");
    expect(value).toHaveAttribute("type", "password");
    await r.user.type(value, "Bearer abc");
    await r.user.type(control(s, "Timeout ms"), "5000");
    expect(await submitted(r, "webhook")).toEqual({
      url: "https://hooks.example.com/in",
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      method: "PUT",
      headers: { Authorization: "Bearer abc" },
      timeout_ms: 5000,
    });
  });

  it("gotify, slack and discord: their required settings are enough", async () => {
    let r = await start("gotify");
    await r.user.type(control(r.settings, "Server URL"), "https://gotify.example.com");
    await r.user.type(control(r.settings, "App token"), "AbCdEf");
    await r.user.type(control(r.settings, "Default priority"), "8");
    expect(await submitted(r, "gotify")).toEqual({ server_url: "https://gotify.example.com", app_token: "AbCdEf", default_priority: 8 });
    cleanup();

    r = await start("slack");
    await r.user.type(control(r.settings, "Webhook URL"), "https://hooks.slack.com/services/T0/B0/X");
    await r.user.type(control(r.settings, "Icon emoji"), ":rotating_light:");
    expect(await submitted(r, "slack")).toEqual({ webhook_url: "https://hooks.slack.com/services/T0/B0/X", icon_emoji: ":rotating_light:" });
    cleanup();

    r = await start("discord");
    await r.user.type(control(r.settings, "Webhook URL"), "https://discord.com/api/webhooks/1/t");
    await r.user.click(control(r.settings, "Allow mentions"));
    expect(await submitted(r, "discord")).toEqual({ webhook_url: "https://discord.com/api/webhooks/1/t", allow_mentions: true });
  });
});
