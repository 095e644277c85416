import { Collapsible } from "radix-ui";
import { useState, type ReactNode } from "react";

/** A collapsible section whose heading is the toggle button (keyboard and screen-reader friendly). */
export function Section({
  title,
  defaultOpen,
  children,
  level = 2,
}: {
  title: string;
  defaultOpen?: boolean;
  children: ReactNode;
  level?: 2 | 3 | 4;
}) {
  const [open, setOpen] = useState(Boolean(defaultOpen));
  const Heading = level === 2 ? "h2" : level === 3 ? "h3" : "h4";
  return (
    <Collapsible.Root open={open} onOpenChange={setOpen} className="section">
      <Heading className="section-head">
        <Collapsible.Trigger className="section-trigger">
          <span aria-hidden="true" className="chevron">
            {open ? "▾" : "▸"}
          </span>
          {title}
        </Collapsible.Trigger>
      </Heading>
      <Collapsible.Content className="section-body">{children}</Collapsible.Content>
    </Collapsible.Root>
  );
}
