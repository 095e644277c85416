export interface User {
  id: string;
  email: string;
  email_verified: boolean;
  /** An operator: installs, upgrades and removes plugins for everyone (absent on older servers). */
  is_admin?: boolean;
}

export interface Endpoint {
  id: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
  archived_at?: string | null;
  last_used_at: string | null;
  /**
   * The adapter plugin that turns this endpoint's requests into messages;
   * null: requests are Beacon Spear's own JSON/text body (absent on older servers).
   */
  adapter?: EndpointAdapter | null;
}

/** An endpoint's adapter (`Endpoint.adapter`). */
export interface EndpointAdapter {
  /** Adapter plugin id, e.g. `alertmanager`, `github`, `json-map`. */
  plugin: string;
  /** The pinned version; null follows the newest installed. */
  plugin_version: string | null;
  /** The adapter's config; secret values read `********` (sending the mask back keeps the stored value). */
  config: Record<string, unknown>;
  /** The version requests run through now; null: not installed (requests answer 422 `adapter_unavailable`). */
  running_version: string | null;
}

/** `PUT /api/ingest-endpoints/{id}/adapter` (and the proposed setting of a test). */
export interface AdapterInput {
  /** An installed adapter plugin (`kind: "adapter"`). */
  plugin: string;
  /** Pins an installed version; absent or null follows the newest. */
  plugin_version?: string | null;
  config: Record<string, unknown>;
}

/** `POST /api/ingest-endpoints/{id}/adapter/test`: a sample request; nothing is stored. */
export interface AdapterTestRequest {
  /** A setting to try before saving it; absent: the endpoint's saved adapter. */
  adapter?: AdapterInput;
  /** The sample request body, e.g. a webhook JSON pasted from the sender's docs. */
  body: string;
  /** Request headers of the sample (e.g. `X-GitHub-Event`); names are case-insensitive. */
  headers?: Record<string, string>;
  /** Query parameters of the sample. */
  query?: Record<string, string>;
}

/** One message an adapter made, as a native ingest body. */
export interface AdapterMessage {
  title?: string | null;
  body: string;
  group?: string | null;
  priority?: number | null;
  tags?: string[] | null;
  url?: string | null;
  extras?: Record<string, string> | null;
}

export interface AdapterTestResult {
  /** The sample would be accepted. */
  ok: boolean;
  /** The messages it would become (nothing is stored). */
  messages: AdapterMessage[];
  /** Why it would be refused: the body the sender would get. */
  error: { error: { code: string; message: string; field?: string | null } } | null;
  /** The HTTP status the sender would get. */
  status: number;
}

/** What `POST /api/ingest/{endpoint_id}` answers (through an adapter: every message the request became). */
export interface IngestResult {
  /** The first message; null when an adapter made none. */
  message_id: string | null;
  message_ids?: string[];
}

export interface CreatedEndpoint {
  endpoint: Endpoint;
  /** Shown once; only a hash is stored server-side. */
  ingest_key: string;
  ingest_url: string;
}

export interface DeliveryCounts {
  total: number;
  sent: number;
  failed: number;
  pending: number;
}

export interface MessageSummary {
  id: string;
  received_at: string;
  endpoint_id: string;
  endpoint_name: string;
  title: string | null;
  body_preview: string;
  priority: number;
  tags: string[];
  group: string | null;
  url: string | null;
  deliveries: DeliveryCounts;
  /**
   * RFC 3339: when its deliveries leave, for a scheduled message (`deliver_at`
   * or `delay` at ingest); null when it was not scheduled (absent on older servers).
   */
  deliver_at?: string | null;
}

export interface MessagePage {
  items: MessageSummary[];
  next_cursor: string | null;
}

/** `POST /api/messages/batch-delete`: messages older than N days, optionally of one endpoint. */
export interface BatchDeleteRequest {
  older_than_days: number;
  ingest_endpoint_id?: string;
  /** Delete at most this many (1–100000) in this call; absent: all of them. */
  limit?: number;
}

export interface BatchDeleteResult {
  deleted: number;
  /** How many the same request would still delete (0 when no `limit` was given). */
  remaining: number;
}

export interface RequestMetadata {
  content_type: string;
  remote_ip: string | null;
  user_agent: string | null;
  headers: Record<string, string>;
  query: Record<string, string>;
  size_bytes: number;
}

export interface MessageDetail {
  id: string;
  received_at: string;
  endpoint: { id: string; name: string };
  title: string | null;
  body: string;
  group: string | null;
  priority: number;
  tags: string[];
  url: string | null;
  /** RFC 3339: when its deliveries leave, for a scheduled message; null when not scheduled (absent on older servers). */
  deliver_at?: string | null;
  extras: Record<string, string>;
  request: RequestMetadata;
  /**
   * What filters reported while matching rules (`FilterReport`): failures
   * (`error`) and decisions a filter explained (`note`, e.g. a dedupe or rate
   * limit holding the message back). Items of another shape may appear.
   */
  filter_errors: unknown[];
  /** One per matching rule, with every attempt (newest API; absent on older servers). */
  deliveries?: Delivery[];
}

/** One item of `MessageDetail.filter_errors`. */
export interface FilterReport {
  rule_id: string;
  rule_name: string;
  /** Whether the rule matched (false for failures and for filters that held the message back). */
  matched: boolean;
  /** The filter failed (the rule is treated as not matching). */
  error?: string;
  /** Why the filter decided as it did, e.g. `dedupe: duplicate of message …`. */
  note?: string;
}

export interface MessageFilters {
  endpoint_id?: string;
  q?: string;
  group?: string;
  priority_min?: number;
  priority_max?: number;
  tag?: string;
  /** RFC 3339 */
  since?: string;
  /** RFC 3339 */
  until?: string;
  /** `true`: only messages whose scheduled delivery time is still ahead (`?scheduled=true`). */
  scheduled?: true;
}

// ---------- channels, plugins, rules, deliveries ----------

/** `channel` sends deliveries, `filter` decides matches, `adapter` turns an endpoint's webhook requests into messages. */
export type PluginKind = "channel" | "filter" | "adapter";

export interface Plugin {
  id: string;
  name: string;
  version: string;
  kind: PluginKind | string;
  description: string;
  /** JSON Schema of the config; secret fields carry `"x-secret": true` / `writeOnly`. */
  config_schema: Record<string, unknown>;
  builtin: boolean;
  /** Version of the plugin interface (WIT world) it was built against, e.g. `0.3.0` (absent on older servers). */
  wit_version?: string;
  /** Host capabilities it imports, e.g. `["http", "kv", "log"]` (absent on older servers). */
  capabilities?: string[];
  /** Every installed version, newest first (absent on older servers, which keep one version). */
  versions?: PluginVersion[];
  /** What the operator allows it (absent on older servers). */
  grants?: Grants;
  /** The limits it runs under now: the grant, or the host default. */
  limits?: PluginLimits;
}

/** One installed version of a plugin (`GET /api/plugins` → `versions`). */
export interface PluginVersion {
  version: string;
  wit_version: string;
  capabilities: string[];
  sha256: string;
  size_bytes: number;
  /** The version channels and rules that follow upgrades run. */
  newest: boolean;
  /** Channels and rules running this version now (operators: all users'; others: their own). */
  channels: number;
  rules: number;
}

/**
 * An operator's grants for one plugin (`PUT /api/plugins/{id}/grants`). Each
 * `null` means the default: the global outbound policy, the host's default
 * limits, every capability the plugin's kind may have.
 */
export interface Grants {
  /** Host names (`api.example.com`), wildcards (`*.example.com`) or IP addresses; when set, the only hosts it may reach. */
  allowed_hosts: string[] | null;
  allow_private_networks: boolean | null;
  memory_mib: number | null;
  timeout_ms: number | null;
  capabilities: string[] | null;
}

export interface PluginLimits {
  memory_mib: number;
  timeout_ms: number;
}

/** A channel, rule or endpoint (its adapter) that uses a plugin (`GET /api/plugins/{id}` → `used_by`). */
export interface UsedBy {
  kind: "channel" | "rule" | "endpoint" | string;
  id: string;
  name: string;
  /** The version it is pinned to; null: it follows the newest. */
  pinned_version: string | null;
  /** The version it runs now; null: not installed (it is broken). */
  running_version: string | null;
}

/** `GET /api/plugins/{id}`: the plugin and who uses it. */
export interface PluginDetail extends Plugin {
  used_by: UsedBy[];
}

export interface Channel {
  id: string;
  name: string;
  plugin: string;
  /** Secret values read `********`; sending the mask back keeps the stored value. */
  config: Record<string, unknown>;
  enabled: boolean;
  created_at: string;
  updated_at: string;
  /** The plugin version it is pinned to; null: it follows the newest (absent on older servers). */
  plugin_version?: string | null;
  /**
   * The installed version its deliveries use now; null: the plugin or the
   * pinned version is not installed, so the channel is broken (absent on older servers).
   */
  running_version?: string | null;
}

export interface ChannelInput {
  name: string;
  plugin: string;
  config: Record<string, unknown>;
  enabled: boolean;
  /** A version pins it; null unpins (follows the newest); absent leaves it as it is. */
  plugin_version?: string | null;
}

export interface ChannelTestResult {
  ok: boolean;
  http_status: number | null;
  response_snippet: string | null;
  error: string | null;
}

/** The standard filter's config (SPEC §11); every dimension optional. */
export interface StandardFilter {
  ingest_endpoint_ids?: string[] | null;
  body?: { contains?: string[] | null; regex?: string | null } | null;
  priority?: { min?: number | null; max?: number | null } | null;
  tags?: string[] | null;
  group?: string | null;
}

export interface ExtraFilter {
  plugin: string;
  /** Pins the filter plugin's version; absent or null: the newest. */
  version?: string | null;
  config: Record<string, unknown>;
}

export interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  channel_id: string;
  filter: StandardFilter;
  extra_filters: ExtraFilter[];
  payload_template: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface RuleInput {
  name: string;
  enabled: boolean;
  channel_id: string;
  filter: StandardFilter;
  extra_filters: ExtraFilter[];
  payload_template: Record<string, unknown>;
}

export interface RuleTestRequest {
  /** A sample message exactly as it would be sent to ingest. */
  message: Record<string, unknown>;
  ingest_endpoint_id?: string;
  /**
   * An unsaved rule to test instead of the stored ones (`POST /api/rules/test`
   * only). Validated like a create; its errors name `rule.<field>`.
   */
  rule?: RuleInput;
}

export interface RuleTestResult {
  rule_id: string;
  name: string;
  enabled: boolean;
  matched: boolean;
  error: string | null;
  payload: unknown;
}

export type DeliveryStatus = "queued" | "sending" | "retry" | "sent" | "failed";

export interface Attempt {
  attempt_no: number;
  started_at: string;
  duration_ms: number;
  /** `sent`, `retry` or `failed`. */
  outcome: string;
  http_status: number | null;
  error: string | null;
  response_snippet: string | null;
  response_json: unknown;
}

export interface Delivery {
  id: string;
  message_id: string;
  rule_id: string | null;
  rule_name: string | null;
  channel_id: string | null;
  channel_name: string | null;
  status: DeliveryStatus | string;
  attempt_count: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
  attempts: Attempt[];
}

/** `GET /api/deliveries` rows. */
export interface DeliverySummary {
  id: string;
  message_id: string;
  message_title: string | null;
  message_preview: string;
  rule_id: string | null;
  rule_name: string | null;
  channel_id: string | null;
  channel_name: string | null;
  status: DeliveryStatus | string;
  attempt_count: number;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}

export interface DeliveryPage {
  items: DeliverySummary[];
  next_cursor: string | null;
}

export interface ActivityBucket {
  start: string;
  messages: number;
  sent: number;
  failed: number;
}

export interface Activity {
  bucket_seconds: number;
  from: string;
  to: string;
  buckets: ActivityBucket[];
}
