/** Valid requests of each /v1 API, in the shapes the SDKs send: the fuzz's starting points (fuzz-v1.ts mutates them). */

export interface FuzzRandom {
  float(): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
}

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const PDF = "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCnN0cmVhbQplbmRzdHJlYW0KZW5kb2JqCg==";
const WEATHER = {
  type: "object",
  properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } },
  required: ["city"],
};

export function chatBody(g: FuzzRandom, model: string, kind: string): Record<string, unknown> {
  const b: Record<string, unknown> = { model, messages: [{ role: "user", content: "Say hello in one word." }] };
  const extra = g.int(0, 9);
  if (extra === 1)
    b.messages = [
      { role: "system", content: "You are terse." },
      {
        role: "user",
        content: [
          { type: "text", text: "What is in this image?" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}`, detail: "low" } },
        ],
      },
    ];
  if (extra === 2)
    b.messages = [
      {
        role: "user",
        content: [
          { type: "text", text: "Summarise" },
          { type: "file", file: { filename: "a.pdf", file_data: `data:application/pdf;base64,${PDF}` } },
        ],
      },
    ];
  if (extra === 3) {
    b.tools = [{ type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: WEATHER } }];
    b.tool_choice = g.pick(["auto", "required", "none", { type: "function", function: { name: "get_weather" } }]);
    b.parallel_tool_calls = g.chance(0.5);
  }
  if (extra === 4) {
    b.messages = [
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temp":21}' },
    ];
    b.tools = [{ type: "function", function: { name: "get_weather", parameters: WEATHER } }];
  }
  if (extra === 5)
    b.response_format = g.pick([
      { type: "json_object" },
      { type: "text" },
      { type: "json_schema", json_schema: { name: "weather", strict: true, schema: { ...WEATHER, additionalProperties: false } } },
    ]);
  if (extra === 6)
    Object.assign(
      b,
      { n: kind === "openai" ? g.int(1, 2) : 1, stop: g.pick(["\n", ["END", "STOP"]]) },
      kind !== "openai" ? {} : { logprobs: true, top_logprobs: g.int(0, 5) },
    );
  if (extra === 7) Object.assign(b, g.pick([{ reasoning_effort: g.pick(["low", "medium", "high"]) }, { max_completion_tokens: 64 }]));
  if (extra === 8)
    Object.assign(b, { temperature: 0.7, top_p: 0.9, max_tokens: 50, presence_penalty: 0.1, frequency_penalty: 0.1, seed: 7, user: "u-1" });
  if (g.chance(0.35)) {
    b.stream = true;
    if (g.chance(0.6)) b.stream_options = { include_usage: true };
  } else if (g.chance(0.3)) b.stream = false;
  return b;
}

export function responsesBody(g: FuzzRandom, model: string): Record<string, unknown> {
  const b: Record<string, unknown> = { model, input: "Say hello in one word." };
  const extra = g.int(0, 6);
  if (extra === 1)
    b.input = [
      {
        role: "user",
        content: [
          { type: "input_text", text: "What is this?" },
          { type: "input_image", image_url: `data:image/png;base64,${PNG}` },
        ],
      },
    ];
  if (extra === 2) {
    b.input = [
      { role: "user", content: "Weather in Paris?" },
      { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
      { type: "function_call_output", call_id: "call_1", output: '{"temp":21}' },
    ];
    b.tools = [{ type: "function", name: "get_weather", parameters: WEATHER }];
    b.tool_choice = g.pick(["auto", "required", { type: "function", name: "get_weather" }]);
  }
  if (extra === 3)
    b.text = { format: { type: "json_schema", name: "weather", schema: { ...WEATHER, additionalProperties: false }, strict: true } };
  if (extra === 4)
    Object.assign(b, {
      instructions: "Be terse.",
      max_output_tokens: 64,
      temperature: 0.5,
      reasoning: { effort: g.pick(["low", "medium", "high"]) },
    });
  if (extra === 5)
    b.input = [
      {
        type: "message",
        role: "user",
        content: [{ type: "input_file", filename: "a.pdf", file_data: `data:application/pdf;base64,${PDF}` }],
      },
    ];
  if (g.chance(0.35)) b.stream = true;
  return b;
}

export function messagesBody(g: FuzzRandom, model: string, countOnly: boolean): Record<string, unknown> {
  const b: Record<string, unknown> = { model, messages: [{ role: "user", content: "Say hello in one word." }] };
  if (!countOnly) b.max_tokens = g.pick([16, 256, 1024]);
  const extra = g.int(0, 6);
  if (extra === 1) b.system = g.pick(["You are terse.", [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }]]);
  if (extra === 2)
    b.messages = [
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF } },
        ],
      },
    ];
  if (extra === 3) {
    b.tools = [{ name: "get_weather", description: "Weather", input_schema: WEATHER }];
    b.tool_choice = g.pick([{ type: "auto" }, { type: "any" }, { type: "tool", name: "get_weather" }, { type: "none" }]);
    b.messages = [
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "21 C" }] },
    ];
  }
  if (extra === 4) {
    b.thinking = { type: "enabled", budget_tokens: 1024 };
    if (!countOnly) b.max_tokens = 2048;
    b.messages = [
      { role: "user", content: "2+2?" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Simple.", signature: "sig" },
          { type: "text", text: "4" },
        ],
      },
      { role: "user", content: "And 3+3?" },
    ];
  }
  if (extra === 5) Object.assign(b, { temperature: 0.5, top_p: 0.9, top_k: 40, stop_sequences: ["END"], metadata: { user_id: "u-1" } });
  if (!countOnly && g.chance(0.35)) b.stream = true;
  return b;
}

export function embeddingsBody(g: FuzzRandom, model: string, kind: string): Record<string, unknown> {
  // Token-id input is OpenAI's alone (Gemini embeds text).
  const inputs: unknown[] =
    kind === "openai"
      ? [
          "hello world",
          ["one", "two", "three"],
          [1, 2, 3, 4],
          [
            [1, 2],
            [3, 4, 5],
          ],
        ]
      : ["hello world", ["one", "two", "three"]];
  const b: Record<string, unknown> = { model, input: g.pick(inputs) };
  if (g.chance(0.3)) b.dimensions = g.pick([4, 8, 256]);
  if (g.chance(0.3)) b.encoding_format = g.pick(["float", "base64"]);
  if (g.chance(0.1)) b.user = "u-1";
  return b;
}
