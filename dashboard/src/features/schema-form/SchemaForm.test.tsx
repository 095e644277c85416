import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { SchemaForm } from "./SchemaForm";
import { deref, fieldKind, labelFor, mainType, validateConfig, type JsonSchema } from "./schema";

// Shaped like what schemars emits for the Bark plugin's config.
const bark: JsonSchema = {
  type: "object",
  required: ["server_base_url"],
  properties: {
    server_base_url: { type: "string", format: "uri", title: "Server URL", description: "e.g. https://api.day.app" },
    device_key: { type: ["string", "null"], writeOnly: true },
    device_keys: { type: "array", items: { type: "string" } },
    level: { $ref: "#/$defs/Level" },
    volume: { type: "integer", minimum: 0, maximum: 10 },
    call: { type: "boolean" },
    default_payload_json: { type: "object" },
    advanced: { type: "object", properties: { timeout_seconds: { anyOf: [{ type: "number" }, { type: "null" }] } } },
  },
  $defs: { Level: { type: "string", enum: ["critical", "active", "timeSensitive", "passive"] } },
};

function Harness({ initial, onValue }: { initial: Record<string, unknown>; onValue(v: Record<string, unknown>): void }) {
  const [value, setValue] = useState(initial);
  return (
    <SchemaForm
      schema={bark}
      value={value}
      errors={validateConfig(bark, value)}
      onChange={(v) => {
        setValue(v);
        onValue(v);
      }}
    />
  );
}

describe("SchemaForm", () => {
  it("draws labelled inputs by type, with secrets masked", () => {
    render(<Harness initial={{}} onValue={() => {}} />);
    expect(screen.getByLabelText(/Server URL/)).toHaveAttribute("type", "url");
    expect(screen.getByText("e.g. https://api.day.app")).toBeInTheDocument();
    expect(screen.getByLabelText("Device key")).toHaveAttribute("type", "password");
    expect(screen.getByLabelText("Device keys").tagName).toBe("TEXTAREA");
    expect(screen.getByLabelText("Level").tagName).toBe("SELECT");
    expect(screen.getByLabelText("Volume")).toHaveAttribute("type", "number");
    expect(screen.getByLabelText("Call")).toHaveAttribute("type", "checkbox");
    expect(screen.getByLabelText("Timeout seconds")).toHaveAttribute("type", "number");
    expect(screen.getByRole("group", { name: "Advanced" })).toBeInTheDocument();
    expect(screen.getByText("Required.")).toBeInTheDocument();
  });

  it("edits known keys and keeps unknown ones", async () => {
    const user = userEvent.setup();
    const onValue = vi.fn();
    render(<Harness initial={{ server_base_url: "https://x", sound: "bell", advanced: { other: 1 } }} onValue={onValue} />);
    await user.selectOptions(screen.getByLabelText("Level"), "timeSensitive");
    await user.type(screen.getByLabelText("Device keys"), "k1{Enter}k2");
    await user.click(screen.getByLabelText("Call"));
    await user.type(screen.getByLabelText("Timeout seconds"), "7");
    await user.clear(screen.getByLabelText(/Server URL/));
    expect(onValue).toHaveBeenLastCalledWith({
      sound: "bell",
      level: "timeSensitive",
      device_keys: ["k1", "k2"],
      call: true,
      advanced: { other: 1, timeout_seconds: 7 },
    });
  });

  it("round-trips unknown keys through the raw JSON mode", async () => {
    const user = userEvent.setup();
    const onValue = vi.fn();
    render(<Harness initial={{ server_base_url: "https://x", custom: { a: [1, 2] } }} onValue={onValue} />);
    await user.click(screen.getByRole("tab", { name: "JSON" }));
    const raw = screen.getByLabelText("Configuration (JSON)") as HTMLTextAreaElement;
    expect(JSON.parse(raw.value)).toEqual({ server_base_url: "https://x", custom: { a: [1, 2] } });

    fireEvent.change(raw, { target: { value: '{"server_base_url":"https://y","custom":{"a":[3]},"extra":"z"}' } });
    await user.click(screen.getByRole("tab", { name: "Form" }));
    expect(screen.getByLabelText(/Server URL/)).toHaveValue("https://y");
    await user.type(screen.getByLabelText("Volume"), "5");
    expect(onValue).toHaveBeenLastCalledWith({ server_base_url: "https://y", custom: { a: [3] }, extra: "z", volume: 5 });
  });

  it("keeps the JSON mode while the JSON is invalid", async () => {
    const user = userEvent.setup();
    const onValue = vi.fn();
    render(<Harness initial={{}} onValue={onValue} />);
    await user.click(screen.getByRole("tab", { name: "JSON" }));
    fireEvent.change(screen.getByLabelText("Configuration (JSON)"), { target: { value: '{"a": ' } });
    expect(screen.getByRole("alert")).toHaveTextContent(/Invalid JSON/);
    await user.click(screen.getByRole("tab", { name: "Form" }));
    expect(screen.getByLabelText("Configuration (JSON)")).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText("Configuration (JSON)"), { target: { value: "[1]" } });
    expect(screen.getByRole("alert")).toHaveTextContent(/must be a JSON object/);
    expect(onValue).not.toHaveBeenCalled();
  });
});

describe("validateConfig", () => {
  it("checks required, types, enums, ranges and formats", () => {
    expect(validateConfig(bark, { level: "loud", volume: 11, device_keys: ["a", 2], server_base_url: "ftp://x" })).toEqual({
      server_base_url: "Must be an absolute http(s) URL.",
      level: "Must be one of: critical, active, timeSensitive, passive.",
      volume: "Must be at most 10.",
      "device_keys.1": "Must be text.",
    });
    expect(validateConfig(bark, { server_base_url: "https://api.day.app", device_key: null, anything: 1 })).toEqual({});
    expect(validateConfig({ ...bark, additionalProperties: false }, { server_base_url: "https://a", anything: 1 })).toEqual({
      anything: "Unknown setting.",
    });
  });
});

describe("schema shapes schemars 1 writes", () => {
  const root: JsonSchema = {
    $defs: {
      Format: { oneOf: [{ const: "json", description: "JSON" }, { const: "text", description: "Text" }] },
      Mode: { type: "string", enum: ["HTML", "Markdown"] },
    },
  };

  it("reads documented enum variants (oneOf consts), optional enums and enums with null as selects", () => {
    expect(mainType(deref({ $ref: "#/$defs/Format" }, root), root)).toMatchObject({ type: "string", schema: { enum: ["json", "text"] } });
    const optional = mainType({ anyOf: [{ $ref: "#/$defs/Format" }, { type: "null" }], description: "How" }, root);
    expect(optional).toMatchObject({ type: "string", nullable: true, schema: { enum: ["json", "text"], description: "How" } });
    expect(fieldKind({ anyOf: [{ $ref: "#/$defs/Mode" }, { type: "null" }] }, root)).toBe("enum");
    expect(fieldKind({ type: ["string", "null"], enum: ["a", "b", null] }, root)).toBe("enum");
    expect(validateConfig({ anyOf: [{ $ref: "#/$defs/Format" }, { type: "null" }] }, "xml", root)).toEqual({ "": "Must be one of: json, text." });
    expect(validateConfig({ anyOf: [{ $ref: "#/$defs/Format" }, { type: "null" }] }, null, root)).toEqual({});
  });

  it("knows lists of enum values, secret lists and string maps", () => {
    expect(fieldKind({ type: ["array", "null"], items: { type: "string", enum: ["mon", "tue"] } }, root)).toBe("enum-list");
    expect(fieldKind({ type: ["array", "null"], items: { type: "string" }, writeOnly: true }, root)).toBe("secret-list");
    expect(fieldKind({ type: "object", additionalProperties: { type: "string" } }, root)).toBe("string-map");
    expect(fieldKind({ type: "object" }, root)).toBe("json");
    expect(fieldKind({ type: ["object", "string", "null"] }, root)).toBe("json");
  });

  it("checks list lengths and map values", () => {
    const s: JsonSchema = {
      type: "object",
      properties: {
        to: { type: "array", items: { type: "string" }, minItems: 1, maxItems: 2 },
        headers: { type: "object", additionalProperties: { type: "string" } },
      },
    };
    expect(validateConfig(s, { to: [], headers: { a: "x", b: 1 } })).toEqual({ to: "Add at least one.", "headers.b": "Must be text." });
    expect(validateConfig(s, { to: ["a", "b", "c"] })).toEqual({ to: "Use at most 2." });
  });

  it("labels keys readably", () => {
    expect(labelFor("qos", {})).toBe("QoS");
    expect(labelFor("api_base_url", {})).toBe("API base URL");
    expect(labelFor("timeout_ms", {})).toBe("Timeout ms");
    expect(labelFor("ingest_endpoint_ids", {})).toBe("Ingest endpoint IDs");
  });
});

describe("SchemaForm list and map inputs", () => {
  const schema: JsonSchema = {
    type: "object",
    properties: {
      keys: { type: ["array", "null"], items: { type: "string" }, "x-secret": true },
      days: { type: ["array", "null"], items: { type: "string", enum: ["mon", "tue", "wed"] } },
      headers: { type: "object", additionalProperties: { type: "string" }, writeOnly: true },
    },
  };

  function MapHarness({ initial, onValue }: { initial: Record<string, unknown>; onValue(v: Record<string, unknown>): void }) {
    const [value, setValue] = useState(initial);
    return (
      <SchemaForm
        schema={schema}
        value={value}
        onChange={(v) => {
          setValue(v);
          onValue(v);
        }}
      />
    );
  }

  it("edits stored (masked) secrets, weekdays and headers, dropping empty rows", async () => {
    const user = userEvent.setup();
    const onValue = vi.fn();
    render(<MapHarness initial={{ keys: ["********", "********"], headers: { Authorization: "********" } }} onValue={onValue} />);
    expect(screen.getByLabelText("Keys")).toHaveValue("********");
    expect(screen.getByLabelText("Keys 2")).toHaveAttribute("type", "password");
    expect(screen.getAllByText(/Stored secret/)).toHaveLength(2);
    await user.click(screen.getByRole("button", { name: "Remove Keys 1" }));
    await user.click(screen.getByRole("button", { name: "Add to Keys" }));
    await user.type(screen.getByLabelText("Keys 2"), "new-key");
    await user.click(screen.getByRole("button", { name: "Add to Keys" }));

    await user.click(screen.getByLabelText("wed"));
    await user.click(screen.getByLabelText("mon"));

    expect(screen.getByLabelText("Headers 1 name")).toHaveValue("Authorization");
    expect(screen.getByLabelText("Headers 1 value")).toHaveAttribute("type", "password");
    await user.click(screen.getByRole("button", { name: "Add to Headers" }));
    await user.type(screen.getByLabelText("Headers 2 name"), "X-Env");
    await user.type(screen.getByLabelText("Headers 2 value"), "prod");
    expect(onValue).toHaveBeenLastCalledWith({
      keys: ["********", "new-key"],
      days: ["mon", "wed"],
      headers: { Authorization: "********", "X-Env": "prod" },
    });

    await user.click(screen.getByRole("button", { name: "Remove Headers 1" }));
    await user.click(screen.getByRole("button", { name: "Remove Headers 1" }));
    await user.click(screen.getByLabelText("mon"));
    await user.click(screen.getByLabelText("wed"));
    expect(onValue).toHaveBeenLastCalledWith({ keys: ["********", "new-key"] });
  });
});
