import { curlExample } from "../lib/format";
import { CopyValue } from "./CopyButton";

export function CurlExample({ url, ingestKey }: { url: string; ingestKey: string }) {
  return <CopyValue label="curl example" value={curlExample(url, ingestKey)} multiline />;
}
