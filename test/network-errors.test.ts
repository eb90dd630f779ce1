import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { networkErrorMessage } from "../src/gateway/network-errors.ts";
import { refusedUrl } from "./support/mock-upstreams.ts";

/** The error Bun's fetch really throws for a URL. */
async function fetchError(url: string): Promise<unknown> {
  return fetch(url).then(
    () => null,
    (e: unknown) => e,
  );
}

describe("runtime fetch errors in plain words", () => {
  test("a refused connection", async () => {
    const err = await fetchError(await refusedUrl("/"));
    expect(networkErrorMessage(err)).toBe("the provider refused the connection");
  });

  test("a connection reset before the answer, without Bun's hint about verbose", async () => {
    const server = createServer((socket) => socket.on("data", () => socket.destroy()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const port = (server.address() as { port: number }).port;
    const err = await fetchError(`http://127.0.0.1:${port}/`);
    server.close();
    expect(err instanceof Error ? err.message : "").toContain("verbose");
    expect(networkErrorMessage(err)).toBe("the provider closed the connection unexpectedly");
  });

  test("the gateway's own resolver message keeps the host, and nothing else", () => {
    expect(networkErrorMessage(new Error("could not resolve api.example.com: getaddrinfo ENOTFOUND api.example.com"))).toBe(
      "could not resolve api.example.com",
    );
  });

  test("TLS failures and anything unknown", () => {
    expect(networkErrorMessage(Object.assign(new Error("x"), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }))).toBe(
      "the provider's TLS certificate could not be verified",
    );
    expect(networkErrorMessage(new Error("something odd. For more information, pass `verbose: true`"))).toBe(
      "the connection to the provider failed",
    );
    expect(networkErrorMessage("not even an error")).toBe("the connection to the provider failed");
  });
});
