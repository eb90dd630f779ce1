declare module "*.sql" {
  const text: string;
  export default text;
}

declare namespace JSX {
  interface IntrinsicElements {
    /** htmx 4: a part of a response that htmx swaps into its own hx-target, besides the main swap. */
    "hx-partial": HtmlTag;
  }
}
