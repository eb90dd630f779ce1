// Files imported `with { type: "file" }` (embedded by `bun build --compile`): the import is a path for Bun.file().
declare module "*.wasm" {
  const path: string;
  export default path;
}
declare module "*.data" {
  const path: string;
  export default path;
}
