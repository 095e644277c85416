export interface User {
  id: string;
  email: string;
  email_verified: boolean;
}

export interface Endpoint {
  id: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
  archived_at?: string | null;
  last_used_at: string | null;
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
}

export interface MessagePage {
  items: MessageSummary[];
  next_cursor: string | null;
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
  extras: Record<string, string>;
  request: RequestMetadata;
  filter_errors: unknown[];
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
}
