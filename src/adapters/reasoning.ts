/**
 * OpenAI's `reasoning_effort` in the terms of providers that take a thinking budget in tokens.
 *
 * One mapping for Anthropic (`thinking.budget_tokens`) and Gemini 2.5 (`thinkingBudget`): the
 * figures sit inside every current model's accepted range (Anthropic's minimum is 1024; Gemini
 * 2.5 Flash-Lite takes 512–24576, Flash 0–24576, Pro 128–32768). Gemini 3 takes a level instead
 * (low or high), see `thinkingLevel`. "none" asks for no thinking: nothing is sent, since
 * neither provider thinks unasked except Gemini 2.5, whose Pro cannot turn thinking off.
 */
import { UnsupportedFeatureError } from "./types.ts";

type Effort = "minimal" | "low" | "medium" | "high";

export const REASONING_BUDGETS: Record<Effort, number> = { minimal: 1024, low: 2048, medium: 8192, high: 24576 };

/** The requested effort, null when none is asked; an effort this mapping does not know is refused. */
export function reasoningEffort(value: unknown): Effort | null {
  if (value === undefined || value === null || value === "none") return null;
  if (typeof value === "string" && Object.hasOwn(REASONING_BUDGETS, value)) return value as Effort;
  throw new UnsupportedFeatureError("reasoning_effort", "reasoning_effort must be none, minimal, low, medium or high for this provider");
}

/** Gemini 3 levels: its Pro knows only low and high. */
export function thinkingLevel(effort: Effort): "low" | "high" {
  return effort === "minimal" || effort === "low" ? "low" : "high";
}
