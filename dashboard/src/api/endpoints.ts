import { api, type TokenResponse } from "./client";
import type { CreatedEndpoint, Endpoint, MessageDetail, MessageFilters, MessagePage, User } from "./types";

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
};

export const messagesApi = {
  list: (filters: MessageFilters, cursor?: string, limit = 50, signal?: AbortSignal) =>
    api<MessagePage>("/api/messages", { query: { ...filters, cursor, limit }, signal }),
  get: (id: string, signal?: AbortSignal) =>
    api<MessageDetail>(`/api/messages/${encodeURIComponent(id)}`, { signal }),
  remove: (id: string) => api<void>(`/api/messages/${encodeURIComponent(id)}`, { method: "DELETE" }),
  batchDelete: (body: { older_than_days: number; ingest_endpoint_id?: string }) =>
    api<{ deleted: number }>("/api/messages/batch-delete", { method: "POST", body }),
};

/** Query keys, in one place so invalidation stays consistent. */
export const qk = {
  me: ["me"] as const,
  endpoints: (includeArchived: boolean) => ["endpoints", { includeArchived }] as const,
  endpointsAll: ["endpoints"] as const,
  messages: (filters: MessageFilters) => ["messages", filters] as const,
  messagesAll: ["messages"] as const,
  message: (id: string) => ["message", id] as const,
};
