/**
 * htmx 4 attribute sets, so every link and form in the dashboard enhances the same way. All of
 * them degrade to plain links and forms: the `href`/`action` is always the same URL.
 *
 * htmx 4 notes: inheritance is explicit (`:inherited`), 4xx/5xx responses are swapped (our error
 * fragments are meant to be shown), and nothing here evaluates strings (no hx-on, no js: values),
 * so the strict CSP holds.
 */

/** The element every page fragment replaces. */
const FRAME = "#frame";

/** A link that swaps the page frame and pushes the URL, like a navigation. */
export function nav(href: string) {
  return {
    href,
    "hx-get": href,
    "hx-target": FRAME,
    "hx-swap": "outerHTML scroll:top scrollTarget:window",
    "hx-push-url": "true",
  } as const;
}

/**
 * A POST form that swaps the page frame with whatever the server answers: after success the
 * server redirects (303) and fetch follows it, so the pushed URL is the redirect's target; a 4xx
 * re-render (validation errors) is swapped in without touching history.
 * `history: "replace"` is for actions that stay on the same page (enable, reorder, revoke).
 */
export function postForm(action: string, history: "push" | "replace" = "push") {
  return {
    method: "post",
    action,
    "hx-post": action,
    "hx-target": FRAME,
    "hx-swap": "outerHTML",
    [`hx-${history}-url`]: "true",
    "hx-status:4xx": `${history}:false`,
    "hx-status:5xx": `${history}:false`,
    "hx-disable": "find button",
  } as const;
}

/** A GET form (filters) whose query string becomes the page URL. */
export function getForm(action: string) {
  return {
    method: "get",
    action,
    "hx-get": action,
    "hx-target": FRAME,
    "hx-swap": "outerHTML",
    "hx-push-url": "true",
  } as const;
}

/**
 * An htmx 4 partial, spread on a <template>: besides the main swap, htmx swaps its content into
 * `target` (written out rather than as <hx-partial>, which the dashboard's render defuses).
 */
export function partial(target: string) {
  return { hx: true, type: "partial", "hx-target": target } as const;
}
