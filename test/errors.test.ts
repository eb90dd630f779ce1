import { describe, expect, test } from "bun:test";
import { ApiError, conflict, forbidden, invalid, notFound, sentence } from "../src/http/errors.ts";

describe("one error type, rendered for programs, forms and pages", () => {
  test("sentence drops a leading field name, capitalises and ends the message once", () => {
    expect(sentence("name must not be empty", "name")).toBe("Must not be empty.");
    expect(sentence("retention days must be a whole number", "retention_days")).toBe("Must be a whole number.");
    expect(sentence("this needs an owner.")).toBe("This needs an owner.");
    expect(sentence("names are short", "name")).toBe("Names are short.");
  });

  test("formErrors puts the message beside the top-level field it names, else above the form", () => {
    expect(invalid("models[2] must not be empty", "models[2]").formErrors()).toEqual({
      fields: { models: "Models[2] must not be empty." },
    });
    expect(conflict("a provider named 'x' already exists in this workspace", "name").formErrors()).toEqual({
      fields: { name: "A provider named 'x' already exists in this workspace." },
    });
    expect(new ApiError(409, "a workspace can have at most 50 providers").formErrors()).toEqual({
      fields: {},
      form: "A workspace can have at most 50 providers.",
    });
  });

  test("page gives a title and a sentence for client errors and nothing for server errors", () => {
    expect(forbidden("only an owner can remove an owner").page()).toEqual({
      status: 403,
      title: "Not allowed",
      message: "Only an owner can remove an owner.",
    });
    expect(notFound("provider").page()).toMatchObject({ status: 404, title: "Not found" });
    expect(new ApiError(403, "csrf", { code: "csrf_failed" }).page()).toMatchObject({ status: 403, title: "This form has expired" });
    expect(new ApiError(422, "ids must list every provider").page()).toEqual({
      status: 422,
      title: "Something is not right",
      message: "Ids must list every provider.",
    });
    expect(new ApiError(500, "boom").page()).toBeNull();
  });

  test("body is OpenAI's shape", () => {
    expect(invalid("name must not be empty", "name").body()).toEqual({
      error: { message: "name must not be empty", type: "invalid_request_error", param: "name", code: "invalid_value" },
    });
  });
});
