import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter } from "react-router";
import { App, routes } from "../App";
import { resetClientState } from "../api/client";
import { resetRestore } from "../auth/AuthProvider";
import { createQueryClient } from "../lib/queryClient";

/** Render the whole app at `path` (fetch must be mocked first). */
export function renderApp(path: string) {
  resetClientState();
  resetRestore();
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const queryClient = createQueryClient();
  queryClient.setDefaultOptions({ queries: { retry: false } });
  const user = userEvent.setup();
  const utils = render(<App queryClient={queryClient} router={router as never} />);
  return { ...utils, user, router, queryClient };
}
