import { describe, expect, test } from "bun:test";
import { ModelLists } from "../src/gateway/model-lists.ts";

/** A listing the test settles by hand, counting how often it was started. */
function controlled() {
  const calls: { resolve: (ids: string[]) => void; reject: (e: Error) => void; signal: AbortSignal }[] = [];
  const list = (signal: AbortSignal) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ resolve, reject, signal });
    });
  return { calls, list };
}

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("model lists", () => {
  test("concurrent callers share one listing", async () => {
    const c = clock();
    const lists = new ModelLists({ now: c.now });
    const { calls, list } = controlled();
    const a = lists.get("p1", list);
    const b = lists.get("p1", list);
    expect(calls).toHaveLength(1);
    calls[0].resolve(["m1"]);
    expect(await a).toEqual(["m1"]);
    expect(await b).toEqual(["m1"]);
  });

  test("a good list is served without asking again until it is old", async () => {
    const c = clock();
    const lists = new ModelLists({ now: c.now, ttlMs: 1000 });
    const { calls, list } = controlled();
    const first = lists.get("p1", list);
    calls[0].resolve(["m1"]);
    await first;
    c.advance(999);
    expect(await lists.get("p1", list)).toEqual(["m1"]);
    expect(calls).toHaveLength(1);
  });

  test("an old list is served at once while one refresh runs, then replaced", async () => {
    const c = clock();
    const lists = new ModelLists({ now: c.now, ttlMs: 1000 });
    const { calls, list } = controlled();
    const first = lists.get("p1", list);
    calls[0].resolve(["m1"]);
    await first;
    c.advance(1000);
    expect(await lists.get("p1", list)).toEqual(["m1"]);
    expect(await lists.get("p1", list)).toEqual(["m1"]);
    expect(calls).toHaveLength(2);
    calls[1].resolve(["m1", "m2"]);
    await Bun.sleep(0);
    expect(await lists.get("p1", list)).toEqual(["m1", "m2"]);
  });

  test("a failed refresh keeps the last good list", async () => {
    const c = clock();
    const lists = new ModelLists({ now: c.now, ttlMs: 1000, failureTtlMs: 100 });
    const { calls, list } = controlled();
    const first = lists.get("p1", list);
    calls[0].resolve(["m1"]);
    await first;
    c.advance(1000);
    lists.get("p1", list);
    calls[1].reject(new Error("down"));
    await Bun.sleep(0);
    expect(await lists.get("p1", list)).toEqual(["m1"]);
    expect(calls).toHaveLength(2);
  });

  test("a failure is remembered only briefly: a recovered provider is asked again", async () => {
    const c = clock();
    const lists = new ModelLists({ now: c.now, failureTtlMs: 30_000 });
    const { calls, list } = controlled();
    const first = lists.get("p1", list);
    calls[0].reject(new Error("down"));
    expect(await first).toEqual([]);
    c.advance(29_999);
    expect(await lists.get("p1", list)).toEqual([]);
    expect(calls).toHaveLength(1);
    c.advance(1);
    const again = lists.get("p1", list);
    expect(calls).toHaveLength(2);
    calls[1].resolve(["m1"]);
    expect(await again).toEqual(["m1"]);
  });

  test("each listing gets the deadline as its abort signal", async () => {
    const lists = new ModelLists({ deadlineMs: 20 });
    const list = (signal: AbortSignal) =>
      new Promise<string[]>((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));
    expect(await lists.get("p1", list)).toEqual([]);
  });

  test("clear forgets lists", async () => {
    const lists = new ModelLists();
    const { calls, list } = controlled();
    const first = lists.get("p1", list);
    calls[0].resolve(["m1"]);
    await first;
    lists.clear();
    lists.get("p1", list);
    expect(calls).toHaveLength(2);
  });
});
