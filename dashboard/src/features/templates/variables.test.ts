import { describe, expect, it } from "vitest";
import { findPlaceholders, isKnownPath, renderTemplate, TEMPLATE_VARIABLES, unknownPlaceholders, type TemplateContext } from "./variables";

const ctx: TemplateContext = {
  message: {
    id: "m1",
    received_at: "2025-03-01T12:00:00Z",
    title: "Disk",
    body: "disk full",
    group: null,
    priority: 4,
    tags: ["ops", "disk"],
    url: null,
    extras: { host: "nas" },
  },
  request: {
    content_type: "application/json",
    remote_ip: "192.0.2.7",
    user_agent: "curl/8",
    headers: { "x-request-id": "r-1", authorization: "[REDACTED]" },
    query: { src: "cron" },
  },
  ingest_endpoint: { id: "e1", name: "backups" },
};

describe("template variables", () => {
  it("lists every variable from SPEC §6", () => {
    expect(TEMPLATE_VARIABLES.map((v) => v.path)).toEqual([
      "message.id",
      "message.received_at",
      "message.title",
      "message.body",
      "message.group",
      "message.priority",
      "message.tags",
      "message.url",
      "message.extras.<key>",
      "request.content_type",
      "request.remote_ip",
      "request.user_agent",
      "request.headers.<name>",
      "request.query.<name>",
      "ingest_endpoint.id",
      "ingest_endpoint.name",
    ]);
  });

  it("renders every string, allows whitespace in braces, and leaves missing values empty", () => {
    const out = renderTemplate(
      {
        title: "[{{ ingest_endpoint.name }}] {{message.title}}",
        body: "{{message.body}} on {{  message.extras.host  }}{{message.extras.nope}}",
        level: "{{message.group}}",
        tags: "{{message.tags}}",
        nested: { list: ["p{{message.priority}}", 3, true, null] },
        hdr: "{{request.headers.X-Request-ID}} {{request.headers.authorization}} {{request.query.src}}",
        typo: "{{mesage.body}}",
      },
      ctx,
    );
    expect(out).toEqual({
      title: "[backups] Disk",
      body: "disk full on nas",
      level: "",
      tags: "ops,disk",
      nested: { list: ["p4", 3, true, null] },
      hdr: "r-1 [REDACTED] cron",
      typo: "",
    });
  });

  it("finds placeholders and flags unknown paths", () => {
    const tpl = { a: "{{message.body}} {{ message.extras.host }}", b: ["{{request.headers.}}", "{{mesage.title}}"] };
    expect(findPlaceholders(tpl)).toEqual(["message.body", "message.extras.host", "request.headers.", "mesage.title"]);
    expect(unknownPlaceholders(tpl)).toEqual(["request.headers.", "mesage.title"]);
    expect(isKnownPath("message.extras.<key>")).toBe(false);
    expect(isKnownPath("request.query.page")).toBe(true);
  });

  it("does not resolve inherited object properties", () => {
    expect(renderTemplate("{{message.extras.constructor}}|{{message.extras.__proto__}}", ctx)).toBe("|");
  });
});
