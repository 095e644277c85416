import type { TestProject } from "vitest/node";
import { startStack, type StackInfo } from "./support/stack";

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

/** Starts the server, SMTP and Bark receiver once for every e2e file; stops them at the end. */
export default async function setup(project: TestProject) {
  const { info, stop } = await startStack();
  project.provide("stack", info);
  return stop;
}
