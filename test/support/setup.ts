import { setDefaultTimeout } from "bun:test";

// PGlite start-up and real HTTP round trips outgrow Bun's 5 s default on a 2-core machine.
setDefaultTimeout(30_000);
