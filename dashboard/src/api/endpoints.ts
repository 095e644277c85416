import { api, type TokenResponse } from "./client";
import type {
  Activity,
  AdapterInput,
  AdapterTestRequest,
  AdapterTestResult,
  BatchDeleteRequest,
  BatchDeleteResult,
  Channel,
  ChannelInput,
  ChannelTestResult,
  CreatedEndpoint,
  Delivery,
  DeliveryPage,
  Endpoint,
  Grants,
  MessageDetail,
  MessageFilters,
  MessagePage,
  Plugin,
  PluginDetail,
  Rule,
  RuleInput,
  RuleTestRequest,
  RuleTestResult,
  User,
} from "./types";

// Auth — calls made before a session exists pass `auth: false` so a 401
// (wrong password) is reported instead of triggering a refresh.
export const authApi = {
  signup: (body: { email: string; password: string }) =>
    api<User>("/api/auth/signup", { method: "POST", body, auth: false }),
  login: (body: { email: string; password: string }) =>
    api<TokenResponse>("/api/auth/login", { method: "POST", body, auth: false }),
  logout: () => api<void>("/api/auth/logout", { method: "POST", auth: false }),
  me: () => api<User>("/api/auth/me"),
  resendVerification: (email?: string) =>
    email === undefined
      ? api<void>("/api/auth/resend-verification", { method: "POST", body: {} })
      : api<void>("/api/auth/resend-verification", { method: "POST", body: { email }, auth: false }),
  verifyEmail: (token: string) =>
    api<void>("/api/auth/verify-email", { method: "POST", body: { token }, auth: false }),
  forgotPassword: (email: string) =>
    api<void>("/api/auth/forgot-password", { method: "POST", body: { email }, auth: false }),
  resetPassword: (body: { token: string; new_password: string }) =>
    api<void>("/api/auth/reset-password", { method: "POST", body, auth: false }),
  changePassword: (body: { current_password: string; new_password: string }) =>
    api<void>("/api/auth/change-password", { method: "POST", body }),
  changeEmail: (body: { new_email: string; password: string }) =>
    api<void>("/api/auth/change-email", { method: "POST", body }),
  deleteAccount: (body: { password: string }) =>
    api<void>("/api/auth/delete-account", { method: "POST", body }),
};

export const endpointsApi = {
  list: (includeArchived = false) =>
    api<{ items: Endpoint[] }>("/api/ingest-endpoints", {
      query: includeArchived ? { include_archived: true } : undefined,
    }),
  create: (name: string) => api<CreatedEndpoint>("/api/ingest-endpoints", { method: "POST", body: { name } }),
  revoke: (id: string) =>
    api<Endpoint>(`/api/ingest-endpoints/${encodeURIComponent(id)}/revoke`, { method: "POST" }),
  archive: (id: string) =>
    api<Endpoint>(`/api/ingest-endpoints/${encodeURIComponent(id)}/archive`, { method: "POST" }),
  get: (id: string, signal?: AbortSignal) => api<Endpoint>(`/api/ingest-endpoints/${encodeURIComponent(id)}`, { signal }),
  /** Choose the adapter the endpoint's requests go through; a masked secret in `config` keeps the stored value. */
  setAdapter: (id: string, body: AdapterInput) =>
    api<Endpoint>(`/api/ingest-endpoints/${encodeURIComponent(id)}/adapter`, { method: "PUT", body }),
  /** Back to Beacon Spear's own request bodies. */
  clearAdapter: (id: string) =>
    api<Endpoint>(`/api/ingest-endpoints/${encodeURIComponent(id)}/adapter`, { method: "DELETE" }),
  /**
   * What a sample request would become (through `body.adapter`, or the saved adapter); nothing is stored.
   * A refused sample still answers 200 (`ok: false`); 422/404 mean the proposed setting itself is at fault.
   */
  testAdapter: (id: string, body: AdapterTestRequest) =>
    api<AdapterTestResult>(`/api/ingest-endpoints/${encodeURIComponent(id)}/adapter/test`, { method: "POST", body }),
};

export const messagesApi = {
  list: (filters: MessageFilters, cursor?: string, limit = 50, signal?: AbortSignal) =>
    api<MessagePage>("/api/messages", { query: { ...filters, cursor, limit }, signal }),
  get: (id: string, signal?: AbortSignal) =>
    api<MessageDetail>(`/api/messages/${encodeURIComponent(id)}`, { signal }),
  remove: (id: string) => api<void>(`/api/messages/${encodeURIComponent(id)}`, { method: "DELETE" }),
  batchDelete: (body: BatchDeleteRequest) =>
    api<BatchDeleteResult>("/api/messages/batch-delete", { method: "POST", body }),
};

const seg = encodeURIComponent;

/** Largest component `POST /api/plugins` accepts (the server answers 413 above it). */
export const MAX_PLUGIN_BYTES = 32 * 1024 * 1024;

export const pluginsApi = {
  list: (signal?: AbortSignal) => api<{ items: Plugin[] }>("/api/plugins", { signal }),
  /** Operators only: upload a component (multipart field `file`); a newer version of an installed id upgrades it. */
  install: (file: File) => {
    const form = new FormData();
    form.append("file", file, file.name);
    return api<Plugin>("/api/plugins", { method: "POST", body: form });
  },
  /** Operators only. Refused with 409 `plugin_in_use` while channels or rules use it, unless `force`. */
  remove: (id: string, force = false) =>
    api<void>(`/api/plugins/${seg(id)}`, { method: "DELETE", query: force ? { force: true } : undefined }),
  /** The plugin and the channels and rules that use it (operators: everyone's; others: their own). */
  get: (id: string, signal?: AbortSignal) => api<PluginDetail>(`/api/plugins/${seg(id)}`, { signal }),
  /** Operators only: replace the plugin's grants (every field; null = the default). */
  setGrants: (id: string, grants: Grants) => api<Plugin>(`/api/plugins/${seg(id)}/grants`, { method: "PUT", body: grants }),
  /**
   * Operators only: remove one installed version. Refused with 409 `plugin_in_use` while a channel or
   * rule pins it (or it is the last version and something uses it), unless `force`.
   */
  removeVersion: (id: string, version: string, force = false) =>
    api<void>(`/api/plugins/${seg(id)}/versions/${seg(version)}`, { method: "DELETE", query: { force } }),
};

export const channelsApi = {
  list: (signal?: AbortSignal) => api<{ items: Channel[] }>("/api/channels", { signal }),
  get: (id: string, signal?: AbortSignal) => api<Channel>(`/api/channels/${seg(id)}`, { signal }),
  create: (body: ChannelInput) => api<Channel>("/api/channels", { method: "POST", body }),
  /** The plugin cannot change; secrets sent back as `********` keep their stored value. */
  update: (id: string, body: Partial<Omit<ChannelInput, "plugin">>) =>
    api<Channel>(`/api/channels/${seg(id)}`, { method: "PATCH", body }),
  remove: (id: string) => api<void>(`/api/channels/${seg(id)}`, { method: "DELETE" }),
  test: (id: string) => api<ChannelTestResult>(`/api/channels/${seg(id)}/test`, { method: "POST" }),
};

export const rulesApi = {
  list: (signal?: AbortSignal) => api<{ items: Rule[] }>("/api/rules", { signal }),
  get: (id: string, signal?: AbortSignal) => api<Rule>(`/api/rules/${seg(id)}`, { signal }),
  create: (body: RuleInput) => api<Rule>("/api/rules", { method: "POST", body }),
  replace: (id: string, body: RuleInput) => api<Rule>(`/api/rules/${seg(id)}`, { method: "PUT", body }),
  remove: (id: string) => api<void>(`/api/rules/${seg(id)}`, { method: "DELETE" }),
  /** Every saved rule against a sample message; nothing is sent. */
  testAll: (body: RuleTestRequest) =>
    api<{ results: RuleTestResult[] }>("/api/rules/test", { method: "POST", body }),
  /** An unsaved draft (validated like a create) against a sample message; nothing is sent. */
  testDraft: (rule: RuleInput, body: Omit<RuleTestRequest, "rule">) =>
    api<{ results: RuleTestResult[] }>("/api/rules/test", { method: "POST", body: { ...body, rule } }),
  /** One saved rule against a sample message; nothing is sent. */
  test: (id: string, body: RuleTestRequest) =>
    api<{ results: RuleTestResult[] }>(`/api/rules/${seg(id)}/test`, { method: "POST", body }),
};

export interface DeliveryListParams {
  status?: string;
  limit?: number;
  cursor?: string;
}

export const deliveriesApi = {
  list: (params: DeliveryListParams, signal?: AbortSignal) =>
    api<DeliveryPage>("/api/deliveries", { query: { ...params }, signal }),
  retry: (id: string) => api<Delivery>(`/api/deliveries/${seg(id)}/retry`, { method: "POST" }),
};

export const statsApi = {
  activity: (hours = 24, signal?: AbortSignal) =>
    api<Activity>("/api/stats/activity", { query: { hours }, signal }),
};

/** Query keys, in one place so invalidation stays consistent. */
export const qk = {
  me: ["me"] as const,
  endpoints: (includeArchived: boolean) => ["endpoints", { includeArchived }] as const,
  endpointsAll: ["endpoints"] as const,
  /** Under `endpoints`: invalidating the lists refreshes it too. */
  endpoint: (id: string) => ["endpoints", "one", id] as const,
  messages: (filters: MessageFilters) => ["messages", filters] as const,
  messagesAll: ["messages"] as const,
  message: (id: string) => ["message", id] as const,
  plugins: ["plugins"] as const,
  /** Under `plugins`: invalidating the list refreshes the details too. */
  plugin: (id: string) => ["plugins", id] as const,
  channels: ["channels"] as const,
  channel: (id: string) => ["channel", id] as const,
  rules: ["rules"] as const,
  rule: (id: string) => ["rule", id] as const,
  deliveries: (params: DeliveryListParams) => ["deliveries", params] as const,
  deliveriesAll: ["deliveries"] as const,
  activity: (hours: number) => ["stats", "activity", hours] as const,
  statsAll: ["stats"] as const,
};
